"""Evaluation metrics on hand-made labels and the report files."""

from __future__ import annotations

import json

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from scdefer import ScDeferInputError, clustering_metrics, evaluate
from scdefer.evaluation import hungarian_accuracy


def test_hungarian_accuracy_by_hand() -> None:
    truth = np.array(["a", "a", "a", "b", "b", "c"])
    labels = np.array([2, 2, 1, 0, 0, 0])
    # best matching: 2->a (2 cells), 0->b (2 cells), 1->c (0 cells) => 4/6
    assert hungarian_accuracy(truth, labels) == pytest.approx(4 / 6)


def test_metrics_perfect_and_permuted() -> None:
    truth = np.repeat(["x", "y", "z"], 10)
    perm = np.repeat([2, 0, 1], 10)
    m = clustering_metrics(truth, perm)
    assert m["ari"] == pytest.approx(1.0) and m["nmi"] == pytest.approx(1.0)
    assert m["acc"] == pytest.approx(1.0)
    assert (m["n_clusters_found"], m["n_clusters_true"]) == (3, 3)
    noisy = clustering_metrics(truth, np.random.default_rng(0).integers(0, 3, 30))
    assert noisy["ari"] < 0.3


def test_evaluate_writes_report(tmp_path) -> None:
    rng = np.random.default_rng(0)
    truth = np.repeat(["x", "y"], 25)
    adata = ad.AnnData(np.zeros((50, 2), dtype=np.float32))
    adata.obs["cell_type"] = truth
    adata.obs["scdefer"] = pd.Categorical(np.where(truth == "x", "0", "1"))
    adata.obsm["X_scdefer"] = np.vstack([rng.normal(0, 1, (25, 4)), rng.normal(5, 1, (25, 4))])
    m = evaluate(adata, "cell_type", outdir=tmp_path / "rep")
    files = {p.name for p in (tmp_path / "rep").iterdir()}
    assert {"metrics.json", "metrics.tsv", "confusion.tsv", "umap.png", "confusion.png"} <= files
    saved = json.loads((tmp_path / "rep" / "metrics.json").read_text())
    assert saved["ari"] == pytest.approx(1.0) == m["ari"]
    assert "scdefer" in saved["versions"]


def test_evaluate_unknown_label_key() -> None:
    adata = ad.AnnData(np.zeros((3, 1), dtype=np.float32))
    adata.obs["scdefer"] = ["0", "1", "0"]
    with pytest.raises(ScDeferInputError, match="label column 'cell_type'"):
        evaluate(adata, "cell_type")


def test_pinned_scanpy_neighbors_above_8192_cells() -> None:
    """scanpy switches to pynndescent above 8192 cells; the pinned pair must work together
    (scanpy 1.11.5 with pynndescent 0.7 crashed with "csr_array has no attribute getnnz")."""
    import scanpy as sc

    view = ad.AnnData(np.zeros((8300, 1), dtype=np.float32))
    view.obsm["X_rep"] = np.random.default_rng(0).normal(size=(8300, 8)).astype(np.float32)
    sc.pp.neighbors(view, use_rep="X_rep", n_neighbors=10, random_state=0)
    assert view.obsp["connectivities"].shape == (8300, 8300)
