#!/usr/bin/env python
"""Apply a saved model to new cells: accuracy against training on them, and independence.

Per dataset and seed: the cells are split at random into halves A and B; a model is trained on A
(defaults, K = the number of labelled types) and predicts B; a second model is trained on B
directly. Reported: ARI/NMI of both on B, the agreement of B's labels predicted all together with
the same cells predicted in ten random tenths, and with the counts doubled. Labels are read only
to score.

    python bench/predict.py --seeds 0 --threads 2 --out bench/results/predict.tsv
    python bench/predict.py --scale 200000 --threads 2   # peak RSS of predicting 200k cells

``--scale N`` instead trains on 5,000 simulated cells (2,000 genes, 8 groups) and predicts N
simulated cells from the same groups, reporting wall time and peak RSS of each step.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import torch

import scdefer
from scdefer.evaluation import clustering_metrics

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lodo import markdown

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DATASETS = ("Baron_mouse1", "Zeisel_gpsFISH550", "Mouse_bladder_top2000", "10X_PBMC_top2000",
            "Pancreas_BastidasPonce_2000G", "Young_top2000", "PBMC_10k_CITE_1000G",
            "CITE_CBMC_top2000")


def _train(adata: ad.AnnData, k: int, seed: int) -> scdefer.ScDefer:
    prepared = scdefer.preprocess(adata, scdefer.PreprocessParams(seed=seed))
    return scdefer.ScDefer(n_clusters=k, seed=seed, progress=False, device="cpu").fit(prepared)


def _labels(adata: ad.AnnData, model: scdefer.ScDefer) -> np.ndarray:
    return scdefer.predict(adata, model).obs["scdefer"].to_numpy().astype(str)


def split_run(data: Path, name: str, seed: int) -> dict:
    """Train on one half, predict the other; train on the other half directly."""
    adata = ad.read_h5ad(data / f"{name}.h5ad")
    truth_all = adata.obs["cell_type"].astype(str).to_numpy()
    k = len(np.unique(truth_all))
    rng = np.random.default_rng(seed)
    order = rng.permutation(adata.n_obs)
    half_a, half_b = np.sort(order[: adata.n_obs // 2]), np.sort(order[adata.n_obs // 2:])
    query = adata[half_b].copy()
    truth = truth_all[half_b]
    tic = time.perf_counter()
    model = _train(adata[half_a].copy(), k, seed)
    train_s = time.perf_counter() - tic
    tic = time.perf_counter()
    predicted = _labels(query, model)
    predict_s = time.perf_counter() - tic
    tenths = np.empty_like(predicted)
    for part in np.array_split(rng.permutation(query.n_obs), 10):
        part = np.sort(part)
        tenths[part] = _labels(query[part].copy(), model)
    doubled = query.copy()
    doubled.X = doubled.X * 2
    direct = _train(query, k, seed).result.labels
    p, d = clustering_metrics(truth, predicted), clustering_metrics(truth, direct)
    return {
        "dataset": name, "seed": seed, "cells_train": len(half_a), "cells_query": len(half_b),
        "k": k, "predict_ari": round(p["ari"], 4), "predict_nmi": round(p["nmi"], 4),
        "direct_ari": round(d["ari"], 4), "direct_nmi": round(d["nmi"], 4),
        "agree_tenths": round(float(np.mean(tenths == predicted)), 4),
        "agree_doubled": round(float(np.mean(_labels(doubled, model) == predicted)), 4),
        "train_s": round(train_s, 1), "predict_s": round(predict_s, 1),
        "threads": torch.get_num_threads(),
    }


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scale_run(n_query: int, seed: int) -> None:
    """Train on 5,000 simulated cells, predict ``n_query`` more; time and peak RSS per step."""
    steps = []

    def step(name: str, fn):
        tic = time.perf_counter()
        value = fn()
        steps.append({"step": name, "seconds": round(time.perf_counter() - tic, 1),
                      "peak_rss_mb": round(_peak_rss_mb())})
        print(steps[-1], file=sys.stderr, flush=True)
        return value

    both = step("simulate", lambda: scdefer.simulate(5000 + n_query, 2000, 8, seed=seed))
    train = both[:5000].copy()
    query = both[5000:].copy()
    del both
    model = step("train 5000 cells", lambda: _train(train, 8, seed))
    out = step(f"predict {n_query} cells", lambda: scdefer.predict(query, model))
    ari = clustering_metrics(query.obs["group"].astype(str).to_numpy(),
                             out.obs["scdefer"].to_numpy().astype(str))["ari"]
    frame = pd.DataFrame(steps)
    frame["ari_query"] = round(ari, 4)
    frame["threads"] = torch.get_num_threads()
    frame.to_csv(sys.stdout, sep="\t", index=False)


def summarize(path: Path) -> None:
    """Markdown of a ``--out`` table: every row, and the means over datasets."""
    frame = pd.read_csv(path, sep="\t")
    columns = ["dataset", "seed", "cells_train", "cells_query", "k", "predict_ari", "direct_ari",
               "predict_nmi", "direct_nmi", "agree_tenths", "agree_doubled", "train_s",
               "predict_s"]
    print(markdown(frame[columns], index=False))
    means = frame[["predict_ari", "direct_ari", "predict_nmi", "direct_nmi", "agree_tenths",
                   "agree_doubled"]].mean().round(4)
    print("\nMeans over rows: " + ", ".join(f"{k} {v}" for k, v in means.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summarize", type=Path, help="print a markdown summary of this TSV")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--scale", type=int, default=0, help="predict this many simulated cells")
    parser.add_argument("--out", type=Path, help="append rows to this TSV (default: stdout)")
    args = parser.parse_args()
    if args.summarize:
        summarize(args.summarize)
        return
    torch.set_num_threads(args.threads)
    if args.scale:
        scale_run(args.scale, args.seeds[0])
        return
    for name in args.datasets:
        for seed in args.seeds:
            row = pd.DataFrame([split_run(args.data, name, seed)])
            print(row.to_string(index=False, header=False), file=sys.stderr, flush=True)
            if args.out:
                row.to_csv(args.out, sep="\t", index=False, mode="a",
                           header=not args.out.exists())
            else:
                row.to_csv(sys.stdout, sep="\t", index=False)


if __name__ == "__main__":
    main()
