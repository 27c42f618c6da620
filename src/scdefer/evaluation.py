"""Compare clusters with known labels: NMI, ARI, Hungarian accuracy, tables and plots."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import anndata as ad
import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from ._errors import ScDeferInputError
from ._provenance import package_versions
from .io import atomic_directory
from .keys import KEY, PCA, embedding_key

logger = logging.getLogger("scdefer")


def hungarian_accuracy(truth: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy after the best one-to-one matching of clusters to classes."""
    table = pd.crosstab(pd.Series(labels, name="cluster"), pd.Series(truth, name="truth"))
    rows, cols = linear_sum_assignment(-table.to_numpy())
    return float(table.to_numpy()[rows, cols].sum() / len(truth))


def clustering_metrics(truth: np.ndarray, labels: np.ndarray) -> dict[str, float | int]:
    """NMI, ARI, accuracy, and the numbers of clusters found and true."""
    truth, labels = np.asarray(truth).astype(str), np.asarray(labels).astype(str)
    return {
        "nmi": float(normalized_mutual_info_score(truth, labels)),
        "ari": float(adjusted_rand_score(truth, labels)),
        "acc": hungarian_accuracy(truth, labels),
        "n_clusters_found": int(len(np.unique(labels))),
        "n_clusters_true": int(len(np.unique(truth))),
        "n_cells": int(len(truth)),
    }


def evaluate(adata: ad.AnnData, label_key: str, cluster_key: str = KEY,
             outdir: str | Path | None = None, plots: bool = True, seed: int = 0) -> dict[str, Any]:
    """Score ``obs[cluster_key]`` against ``obs[label_key]``; write a report to ``outdir``."""
    for key, what in ((label_key, "label"), (cluster_key, "cluster")):
        if key not in adata.obs:
            raise ScDeferInputError(
                f"{what} column {key!r} not in obs; available: {', '.join(map(str, adata.obs.columns))}"
            )
    truth = adata.obs[label_key]
    known = truth.notna().to_numpy()
    if known.sum() < 2:
        raise ScDeferInputError(f"label column {label_key!r} has fewer than 2 labelled cells")
    metrics = clustering_metrics(truth[known].to_numpy(), adata.obs[cluster_key][known].to_numpy())
    metrics |= {"label_key": label_key, "cluster_key": cluster_key}
    if outdir is not None:
        write_report(adata[known], metrics, Path(outdir), plots, seed)
    return metrics


def write_report(adata: ad.AnnData, metrics: dict[str, Any], outdir: Path, plots: bool,
                 seed: int) -> None:
    """``metrics.json``, ``metrics.tsv`` (MultiQC-friendly), confusion table and PNG plots."""
    with atomic_directory(outdir) as tmp:
        payload = metrics | {"versions": package_versions()}
        (tmp / "metrics.json").write_text(json.dumps(payload, indent=2) + "\n")
        pd.DataFrame([metrics]).to_csv(tmp / "metrics.tsv", sep="\t", index=False)
        confusion = pd.crosstab(adata.obs[metrics["label_key"]].astype(str),
                                adata.obs[metrics["cluster_key"]].astype(str))
        confusion.to_csv(tmp / "confusion.tsv", sep="\t")
        if plots:
            _plot_confusion(confusion, tmp / "confusion.png")
            _plot_umap(adata, metrics, tmp / "umap.png", seed)


def _pyplot():
    os.environ.setdefault("MPLCONFIGDIR", os.path.join(os.getcwd(), ".mplconfig"))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _plot_confusion(confusion: pd.DataFrame, path: Path) -> None:
    plt = _pyplot()
    frac = confusion.div(confusion.sum(axis=1), axis=0)
    fig, ax = plt.subplots(figsize=(1 + 0.45 * frac.shape[1], 1 + 0.4 * frac.shape[0]))
    image = ax.imshow(frac.to_numpy(), cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(frac.shape[1]), frac.columns, rotation=90)
    ax.set_yticks(range(frac.shape[0]), frac.index)
    ax.set_xlabel("scdefer cluster")
    ax.set_ylabel("true label")
    ax.set_title("fraction of each true label per cluster")
    fig.colorbar(image, ax=ax, shrink=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _plot_umap(adata: ad.AnnData, metrics: dict[str, Any], path: Path, seed: int) -> None:
    import scanpy as sc

    plt = _pyplot()
    # The embedding written with the clusters being scored (a custom --key-added too), else the PCA.
    basis = embedding_key(metrics["cluster_key"])
    if basis not in adata.obsm:
        logger.warning("no obsm[%r]: the UMAP shows the PCA instead", basis)
        basis = PCA
    keys = [metrics["label_key"], metrics["cluster_key"]]
    view = ad.AnnData(obs=adata.obs[keys].astype(str).astype("category"))
    view.obsm["X_rep"] = np.asarray(adata.obsm[basis])
    sc.pp.neighbors(view, use_rep="X_rep", random_state=seed)
    sc.tl.umap(view, random_state=seed)
    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    for ax, key, title in ((axes[0], metrics["cluster_key"], "scdefer clusters"),
                           (axes[1], metrics["label_key"], f"truth ({metrics['label_key']})")):
        sc.pl.umap(view, color=key, ax=ax, show=False, title=title, legend_fontsize=7)
    fig.suptitle(f"UMAP of {basis}: NMI {metrics['nmi']:.3f}, ARI {metrics['ari']:.3f}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
