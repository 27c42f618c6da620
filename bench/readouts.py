#!/usr/bin/env python
"""Score every candidate final assignment on the representations saved by ``bench/diagnose.py``.

For each saved run: the DEC head's labels, the ``ensemble`` final assignment, and K-means,
spectral clustering of the 10-NN graph and
Leiden at K (resolution bisected, 15-NN graph) on each representation: the PCA, and Z, Z_D, Z_G
after pre-training (``pretrain_*``) and after the clustering phase (``cluster_*``). Also the mean
recall of the small classes (under 5% of the cells) after one-to-one matching, where the loss of
rare types shows. Labels are read only here, to score.

    python bench/readouts.py --tags default > bench/results/diagnose.tsv
    python bench/readouts.py --tags scale --quick   # DEC, final labels, K-means per representation
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from diagnose import REPS, saved_views

from scdefer.assignment import (
    cluster_means,
    consensus_labels,
    ensemble_partitions,
    kmeans_labels,
    leiden_labels,
    most_central,
    spectral_labels,
)

REPRESENTATIONS = ("pca", "pretrain_z", "pretrain_z_dense", "pretrain_z_graph", "cluster_z",
                   "cluster_z_dense", "cluster_z_graph")


def small_class_recall(truth: np.ndarray, labels: np.ndarray, fraction: float = 0.05) -> float:
    """Mean recall of the classes under ``fraction`` of the cells after one-to-one matching."""
    table = pd.crosstab(pd.Series(labels, name="c"), pd.Series(truth, name="t"))
    rows, cols = linear_sum_assignment(-table.to_numpy())
    matched = dict(zip(table.columns[cols], table.to_numpy()[rows, cols], strict=True))
    sizes = pd.Series(truth).value_counts()
    small = sizes[sizes < fraction * len(truth)]
    if small.empty:
        return float("nan")
    return float(np.mean([matched.get(c, 0) / n for c, n in small.items()]))


READOUTS = {"kmeans": kmeans_labels, "spectral": spectral_labels, "leiden_at_k": leiden_labels}
ENSEMBLE_NAME = {"kmeans": "kmeans", "spectral": "spectral", "leiden_at_k": "leiden"}
ENSEMBLE_VIEW = {"pca": "pca", "pretrain_z": "pretrain", "cluster_z": "z"}


def score_file(path: Path, quick: bool = False) -> list[dict]:
    """Every readout of one saved run (``quick``: the DEC head, the final labels, K-means)."""
    saved = np.load(path)
    meta = json.loads(str(saved["meta"]))
    truth, k, seed = saved["truth"], meta["n_clusters"], meta["seed"]
    rows = []

    def add(readout: str, rep: str, labels: np.ndarray) -> None:
        rows.append({
            "dataset": meta["dataset"], "tag": meta["tag"], "seed": seed, "readout": readout,
            "rep": rep, "ari": round(adjusted_rand_score(truth, labels), 4),
            "nmi": round(normalized_mutual_info_score(truth, labels), 4),
            "k_found": int(len(np.unique(labels))), "k_true": meta["k_true"],
            "small_recall": round(small_class_recall(truth, labels), 4),
            "wall_s": meta["wall_s"], "threads": meta["threads"],
        })

    dec = saved["proba"].argmax(axis=1)
    # Runs with a final assignment other than the head's save the soft assignment to the final
    # clusters' means, not the head's: their "dec" row would be the final labels again.
    if meta.get("final_source", "dec") == "dec":
        add("dec", "cluster_z", dec)
    if "labels" in saved:  # what training output, whatever --final-assignment chose
        add("final", meta.get("final_source", ""), saved["labels"])
    if quick:
        for rep in REPRESENTATIONS:
            if rep in saved:
                add("kmeans", rep, kmeans_labels(saved[rep], k, seed))
        return rows
    # The candidates of --final-assignment ensemble, computed once and reused as readouts.
    views = saved_views(saved)
    candidates = ensemble_partitions(views, dec, k, seed)
    central = most_central(candidates)
    ensemble = np.unique(candidates[central], return_inverse=True)[1]
    add("ensemble", "cluster_z", ensemble)
    rows[-1]["picked"] = central
    parts: dict[str, np.ndarray] = {}
    for rep in REPRESENTATIONS:
        if rep not in saved:
            continue
        for name, fn in READOUTS.items():
            view = ENSEMBLE_VIEW.get(rep)
            key = f"{ENSEMBLE_NAME[name]}:{view}"
            parts[f"{name}:{rep}"] = candidates[key] if key in candidates else fn(saved[rep], k, seed)
            add(name, rep, parts[f"{name}:{rep}"])
    groups = {
        "pca": [v for key, v in parts.items() if key.endswith(":pca")],
        "cluster_z": [v for key, v in parts.items() if key.endswith(":cluster_z")] + [dec],
        "pretrain_z": [v for key, v in parts.items() if key.endswith(":pretrain_z")],
        "z_all": [v for key, v in parts.items() if key.endswith(("_z", "_z_dense", "_z_graph"))]
        + [dec],
        "z_pca": [v for key, v in parts.items() if key.endswith((":pca", ":cluster_z"))] + [dec],
    }
    for rep, members in groups.items():
        parts[f"consensus:{rep}"] = consensus_labels(members, k, seed)
        add("consensus", rep, parts[f"consensus:{rep}"])
    parts["ensemble:cluster_z"] = ensemble  # after the consensus groups: not one of their members
    # What a saved model can reproduce on new cells: the nearest of the final clusters' means.
    for key, labels in list(parts.items()):
        name, rep = key.split(":")
        if key == "ensemble:cluster_z" and central == "dec":  # the head keeps its own centres
            add("ensemble+means", rep, dec)
            continue
        if rep in ("cluster_z", "pretrain_z"):  # ensemble+means is what --final-assignment outputs
            z = saved[rep] if rep in saved else None
            codes = np.unique(labels, return_inverse=True)[1]
            centres = cluster_means(z, codes)
            nearest = ((z[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1)
            add(f"{name}+means", rep, nearest)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", nargs="+", default=["default"])
    parser.add_argument("--seeds", nargs="*", type=int, help="only these seeds (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="only the DEC head, the final labels and K-means on each one")
    args = parser.parse_args()
    rows = []
    for tag in args.tags:
        for path in sorted((REPS / tag).glob("*.npz")):
            if args.seeds and int(path.stem.rsplit("_s", 1)[1]) not in args.seeds:
                continue
            rows.extend(score_file(path, args.quick))
    pd.DataFrame(rows).to_csv(sys.stdout, sep="\t", index=False)


if __name__ == "__main__":
    main()
