#!/usr/bin/env python
"""Score ensemble designs (which candidate partitions, how the cells get their labels) offline.

On the runs saved by ``bench/diagnose.py`` (run them with ``"final_assignment": "dec"`` so that
the head's own labels are saved): for each run, candidate partitions are made with the package's
own functions (``scdefer.assignment``; ``views.py`` beside this script) on these views of the cells:

- ``pca``: the PCA of the log-normalised genes (preprocessing's), ``pretrain`` / ``z``: the
  learnt embedding after pre-training / after the clustering phase (saved by diagnose.py);
- ``scaled``: PCA of the genes scaled to unit variance; ``pearson``: PCA of the analytic Pearson
  residuals of the counts (both recomputed here from the dataset, same preprocessing).

A *pool* is a set of candidates; its most central one (largest summed NMI,
``scdefer.assignment.most_central``) gives the labels, either as they are (``raw``), by the
nearest cluster mean in Z (``means``, what the trainer did up to this revision) or by the vote of
the 16 nearest cells in Z (``votes``, ``scdefer.assignment.neighbour_votes``). Labels are read
only to score. Rows have the columns of ``readouts.py`` (readout ``POOL+LABELS``), so
``lodo.py`` can choose among them.

    python bench/pools.py --tags head > bench/results/pools.tsv
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from diagnose import DEFAULT_DATA, REPS, saved_views
from readouts import small_class_recall
from views import pearson_residual_pca, scaled_pca

from scdefer._runtime import set_threads
from scdefer.assignment import (
    READOUTS,
    cluster_means,
    joint_spectral_labels,
    most_central,
    neighbour_votes,
)
from scdefer.keys import COUNTS
from scdefer.preprocessing import preprocess

CACHE = REPS.parent / "pools"
# name: (views read out by every method, views joined with the PCA in one spectral graph)
POOLS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "cur": (("pca", "pretrain", "z"), ("pretrain", "z")),
    "cur+scaled+pearson": (("pca", "scaled", "pearson", "pretrain", "z"), ("pretrain", "z")),
    "cur+pearson": (("pca", "pearson", "pretrain", "z"), ("pretrain", "z")),
    "cur+scaled": (("pca", "scaled", "pretrain", "z"), ("pretrain", "z")),
    "nojoint": (("pca", "pretrain", "z"), ()),
    "nojoint+scaled+pearson": (("pca", "scaled", "pearson", "pretrain", "z"), ()),
}


def input_views(dataset: str, data: Path) -> dict[str, np.ndarray]:
    """The scaled and Pearson-residual PCA of one dataset (preprocessed as scdefer does)."""
    cached = CACHE / "views" / f"{dataset}.npz"
    if cached.exists():
        return dict(np.load(cached))
    raw = ad.read_h5ad(data / f"{dataset}.h5ad")
    prepared = preprocess(ad.AnnData(raw.X, obs=raw.obs[[]].copy(), var=raw.var[[]].copy()))
    views = {"scaled": scaled_pca(prepared.X), "pearson": pearson_residual_pca(prepared.layers[COUNTS])}
    cached.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cached, **views)
    return views


def candidates(path: Path, views: dict[str, np.ndarray], k: int, seed: int,
               dec: np.ndarray) -> dict[str, np.ndarray]:
    """Every candidate any pool uses, for one saved run (cached beside the runs)."""
    cached = CACHE / path.parent.name / path.name
    if cached.exists():
        parts = dict(np.load(cached))
        if all(f"kmeans:{view}" in parts for view in views):  # else made for fewer views
            return parts
    parts = {"dec": dec}
    for view, z in views.items():
        for name, readout in READOUTS.items():
            parts[f"{name}:{view}"] = readout(z, k, seed)
    for view in ("pretrain", "z"):
        parts[f"spectral:pca+{view}"] = joint_spectral_labels([views["pca"], views[view]], k, seed)
    cached.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cached, **parts)
    return parts


def pool_members(parts: dict[str, np.ndarray], pool: str) -> dict[str, np.ndarray]:
    """The candidates of ``pool``."""
    readouts, joint = POOLS[pool]
    names = ["dec"] + [f"{m}:{v}" for v in readouts for m in READOUTS]
    names += [f"spectral:pca+{v}" for v in joint]
    return {name: parts[name] for name in names}


def cached_pool(tag: str, dataset: str, seed: int, pool: str = "cur") -> dict[str, np.ndarray]:
    """The candidates of ``pool`` that ``candidates`` cached for one saved run."""
    return pool_members(dict(np.load(CACHE / tag / f"{dataset}_s{seed}.npz")), pool)


def saved_truth(tag: str, dataset: str) -> np.ndarray:
    """The labels of one dataset's cells in a tag's saved runs (the same cells in every seed)."""
    return np.load(REPS / tag / f"{dataset}_s0.npz")["truth"]


def score_file(path: Path, data: Path) -> list[dict]:
    saved = np.load(path)
    meta = json.loads(str(saved["meta"]))
    if meta.get("final_source", "dec") != "dec":
        raise SystemExit(f"{path}: trained with another final assignment; the head's labels "
                         "are not saved (run diagnose.py with final_assignment dec)")
    truth, k, seed = saved["truth"], meta["n_clusters"], meta["seed"]
    views = {**saved_views(saved), **input_views(meta["dataset"], data)}
    parts = candidates(path, views, k, seed, saved["proba"].argmax(axis=1))
    z = saved["cluster_z"]
    rows = []
    for pool in POOLS:
        members = pool_members(parts, pool)
        picked = most_central(members)
        labels = np.unique(members[picked], return_inverse=True)[1]
        means = cluster_means(z, labels)
        variants = {
            "raw": labels,
            "means": ((z[:, None, :] - means[None]) ** 2).sum(axis=2).argmin(axis=1),
            "votes": neighbour_votes(z, labels, labels.max() + 1).argmax(axis=1),
        }
        for how, out in variants.items():
            rows.append(score_row(meta, f"{pool}+{how}", truth, out, picked))
    return rows


def score_row(meta: dict, readout: str, truth: np.ndarray, labels: np.ndarray,
              picked: str) -> dict:
    """One table row (``readouts.py``'s columns and ``picked``): the labels' scores."""
    return {
        "dataset": meta["dataset"], "tag": meta["tag"], "seed": meta["seed"],
        "readout": readout, "rep": "cluster_z",
        "ari": round(adjusted_rand_score(truth, labels), 4),
        "nmi": round(normalized_mutual_info_score(truth, labels), 4),
        "k_found": int(len(np.unique(labels))), "k_true": meta["k_true"],
        "small_recall": round(small_class_recall(truth, labels), 4),
        "wall_s": meta["wall_s"], "threads": meta["threads"], "picked": picked,
    }


def score_saved_runs(tags: list[str], score: Callable[[Path], list[dict]]) -> None:
    """Rows of ``score`` for every run saved under ``tags``, as one TSV on stdout."""
    rows = []
    for tag in tags:
        for path in sorted((REPS / tag).glob("*.npz")):
            rows.extend(score(path))
            print(path.name, file=sys.stderr, flush=True)
    pd.DataFrame(rows).to_csv(sys.stdout, sep="\t", index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", nargs="+", default=["default"])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    set_threads(args.threads)
    score_saved_runs(args.tags, lambda path: score_file(path, args.data))


if __name__ == "__main__":
    main()
