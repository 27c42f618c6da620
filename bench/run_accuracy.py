#!/usr/bin/env python
"""Accuracy benchmark: scdefer (K given and K auto) against scanpy's standard pipelines.

Every (dataset, method, seed) runs in its own process so that wall time and peak RSS are its
own. Labels are read only to score, and to give the true K to the methods that take K.

    python bench/run_accuracy.py --data ../shared/data --seeds 0 1 2 --out bench/results/accuracy.tsv
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

METHODS = ("leiden_default", "leiden_at_k", "kmeans_pcs", "spectral_knn", "scdefer_k",
           "scdefer_auto")
# Yan holds RPKM values, not counts: it is not a count dataset (see ../shared/data/README.md).
SKIP = {"Yan.h5ad"}


def _load(path: Path):
    import anndata as ad
    import numpy as np

    adata = ad.read_h5ad(path)
    truth = adata.obs["cell_type"].astype(str).to_numpy()
    unlabelled = ad.AnnData(adata.X, obs=adata.obs[[]].copy(), var=adata.var[[]].copy())
    return unlabelled, truth, len(np.unique(truth))


def _scanpy_standard(adata, seed: int):
    """normalize_total, log1p, 2000 HVGs, 50 PCs (scanpy defaults)."""
    import scanpy as sc

    adata = adata.copy()
    sc.pp.filter_genes(adata, min_cells=1)
    sc.pp.normalize_total(adata)
    sc.pp.log1p(adata)
    sc.pp.highly_variable_genes(adata, n_top_genes=2000)
    adata = adata[:, adata.var["highly_variable"]].copy()
    sc.pp.pca(adata, n_comps=50, random_state=seed)
    return adata


def _leiden(adata, resolution: float, seed: int):
    import scanpy as sc

    sc.tl.leiden(adata, resolution=resolution, random_state=seed, flavor="igraph",
                 n_iterations=2, directed=False, key_added="bench")
    return adata.obs["bench"].to_numpy()


def _leiden_at_k(adata, k: int, seed: int):
    """Bisect the resolution until Leiden gives k clusters (or the closest found)."""
    lo, hi, best = 0.01, 5.0, None
    for _ in range(30):
        mid = (lo + hi) / 2
        labels = _leiden(adata, mid, seed)
        found = len(set(labels))
        if best is None or abs(found - k) < abs(len(set(best)) - k):
            best = labels
        if found == k:
            return labels
        lo, hi = (mid, hi) if found < k else (lo, mid)
    return best


def run_one(path: Path, method: str, seed: int, threads: int, options: dict | None = None) -> dict:
    """Run one method once; return its scores, time and peak memory.

    ``options`` (TrainParams fields) go to scdefer's training; the baselines ignore them.
    """
    warnings.filterwarnings("ignore")
    import numpy as np
    import torch

    import scdefer
    from scdefer._runtime import set_threads
    from scdefer.evaluation import clustering_metrics

    set_threads(threads)  # glibc's default allocator: faster than the CLI's setting, ~0.2 GB more RSS
    adata, truth, k_true = _load(path)
    start = time.perf_counter()
    if method.startswith("scdefer"):
        n_clusters = k_true if method == "scdefer_k" else "auto"
        out, _ = scdefer.cluster(adata, n_clusters, copy=True, seed=seed, device="cpu",
                                 progress=False, **(options or {}))
        labels = out.obs["scdefer"].to_numpy()
        truth = truth[adata.obs_names.get_indexer(out.obs_names)]
    else:
        import scanpy as sc

        std = _scanpy_standard(adata, seed)
        if method == "kmeans_pcs":
            from sklearn.cluster import KMeans

            labels = KMeans(k_true, n_init=10, random_state=seed).fit_predict(std.obsm["X_pca"])
        elif method == "spectral_knn":
            from sklearn.cluster import SpectralClustering

            from scdefer.graph import knn_graph

            graph, _ = knn_graph(std.obsm["X_pca"], 10)
            labels = SpectralClustering(k_true, affinity="precomputed", random_state=seed,
                                        assign_labels="kmeans").fit_predict(graph)
        else:
            sc.pp.neighbors(std, n_neighbors=15, random_state=seed)
            labels = (_leiden(std, 1.0, seed) if method == "leiden_default"
                      else _leiden_at_k(std, k_true, seed))
    seconds = time.perf_counter() - start
    m = clustering_metrics(truth, np.asarray(labels))
    return {
        "dataset": path.stem, "cells": int(len(truth)), "method": method,
        "nmi": round(m["nmi"], 4), "ari": round(m["ari"], 4), "k_true": k_true,
        "k_used": m["n_clusters_found"], "wall_s": round(seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "seed": seed, "threads": threads, "torch": torch.__version__,
        **({"options": json.dumps(options, sort_keys=True)} if options else {}),
    }


def _columns(table: Path) -> list[str]:
    """The header of an existing table (rows are appended in its column order), else []."""
    if not table.exists() or table.stat().st_size == 0:
        return []
    with table.open() as lines:
        return lines.readline().rstrip("\n").split("\t")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--datasets", nargs="*", help="file stems (default: every count dataset)")
    parser.add_argument("--auto-seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="seeds for scdefer_auto (it costs as much as scdefer_k)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--options", type=json.loads, default={},
                        help="scdefer training options (TrainParams fields) as JSON, e.g. "
                             "'{\"input_noise\": 0.5}'; recorded in an options column (a new table)")
    parser.add_argument("--out", type=Path, default=Path("bench/results/accuracy.tsv"))
    parser.add_argument("--one", nargs=3, metavar=("FILE", "METHOD", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(Path(args.one[0]), args.one[1], int(args.one[2]), args.threads,
                                 args.options)))
        return
    files = sorted(p for p in args.data.glob("*.h5ad") if p.name not in SKIP)
    if args.datasets:
        files = [p for p in files if p.stem in args.datasets]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    columns = _columns(args.out)
    if args.options and columns and "options" not in columns:
        raise SystemExit(f"{args.out} has no options column: write runs with --options to a "
                         "table of their own")
    with args.out.open("a") as table:
        for method in args.methods:
            for path in sorted(files, key=lambda p: p.stat().st_size):
                for seed in (args.seeds if method != "scdefer_auto" else args.auto_seeds):
                    cmd = [sys.executable, __file__, "--threads", str(args.threads),
                           "--options", json.dumps(args.options), "--one", str(path), method,
                           str(seed)]
                    res = subprocess.run(cmd, capture_output=True, text=True)
                    if res.returncode != 0:
                        print(f"FAILED {path.stem} {method} {seed}: {res.stderr.strip()[-300:]}",
                              file=sys.stderr)
                        continue
                    row = json.loads(res.stdout.strip().splitlines()[-1])
                    if not columns:
                        columns = list(row)
                        table.write("\t".join(columns) + "\n")
                    table.write("\t".join(str(row.get(c, "")) for c in columns) + "\n")
                    table.flush()
                    print(row, flush=True)


if __name__ == "__main__":
    main()
