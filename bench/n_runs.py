#!/usr/bin/env python
"""What ``--n-runs N`` outputs, from trainings already saved by ``bench/diagnose.py``.

``scdefer train --seed S --n-runs N`` trains seeds S, S + 1, ..., S + N - 1 and labels each cell by
the mean of their clustering heads' soft assignments, every run's clusters matched to the first
run's (``scdefer.consensus``, the package's own code, used here on the saved heads). So the saved
single trainings of a tag at seeds 0-8 give ``--n-runs 3`` at seeds 0, 3 and 6 without training
again. Writes one row per (dataset, package seed, N) in the layout ``bench/targets.py`` reads
(readout ``runs<N>``, rep ``cluster_z``):

    python bench/n_runs.py --tag agree --runs 1 3 --seeds 0 3 6 > bench/results/n_runs.tsv
    python bench/targets.py bench/results/n_runs.tsv bench/results/accuracy.tsv --tag agree \
        --readout runs3
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from scdefer.consensus import consensus

REPS = Path(__file__).resolve().parent / "work" / "reps"


def rows_for(tag: str, dataset: str, seed: int, runs: int) -> dict | None:
    """The score of ``--seed seed --n-runs runs`` on ``dataset``; None when a run is missing."""
    paths = [REPS / tag / f"{dataset}_s{seed + i}.npz" for i in range(runs)]
    if not all(p.exists() for p in paths):
        return None
    saved = [np.load(p, allow_pickle=True) for p in paths]
    truth = saved[0]["truth"]
    labels = consensus([s["proba"] for s in saved])[0].argmax(axis=1)  # the package's labels
    return {"dataset": dataset, "tag": tag, "seed": seed, "readout": f"runs{runs}",
            "rep": "cluster_z", "ari": round(adjusted_rand_score(truth, labels), 4),
            "nmi": round(normalized_mutual_info_score(truth, labels), 4),
            "k_found": len(np.unique(labels)), "k_true": len(np.unique(truth)),
            "run_seeds": " ".join(str(seed + i) for i in range(runs))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tag", required=True, help="the bench/diagnose.py training tag")
    parser.add_argument("--runs", type=int, nargs="+", default=[1, 3], help="values of N")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 3, 6],
                        help="package seeds S (runs S .. S + N - 1 must be saved)")
    args = parser.parse_args()
    datasets = sorted({p.stem.rsplit("_s", 1)[0] for p in (REPS / args.tag).glob("*.npz")})
    rows, missing = [], []
    for dataset in datasets:
        for runs in args.runs:
            for seed in args.seeds:
                row = rows_for(args.tag, dataset, seed, runs)
                if row is None:
                    missing.append(f"{dataset} seed {seed} n_runs {runs}")
                else:
                    rows.append(row)
    pd.DataFrame(rows).to_csv(sys.stdout, sep="\t", index=False)
    for line in missing:
        print(f"missing: {line}", file=sys.stderr)


if __name__ == "__main__":
    main()
