#!/usr/bin/env python
"""Would a consensus over several trainings help? The ensemble's medoid over the pooled candidates
of 1, 2 or 3 seeds' saved runs of one dataset, scored offline (what an ``--n-runs`` option would
output, up to the final nearest-cell vote, which is left out here: labels are the medoid's own).

Reads the candidate cache ``pools.py`` / ``pick_rules.py`` made for ``--tag`` (seeds 0-2), and the
saved runs' true labels only to score. Every subset of the seeds of each size is scored and
averaged, so the one-seed row is the mean over the three single runs.

    python bench/multiseed.py --tag rules > bench/results/multiseed.md
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pools import CACHE, cached_pool, saved_truth

from scdefer.assignment import most_central

SEEDS = (0, 1, 2)


def pooled_scores(dataset: str, tag: str) -> dict[int, tuple[float, float]]:
    """Mean (ARI, NMI) of the medoid over the pooled candidates of every n-subset of the seeds."""
    truth = saved_truth(tag, dataset)
    pools = {seed: cached_pool(tag, dataset, seed) for seed in SEEDS}
    out = {}
    for n in range(1, len(SEEDS) + 1):
        scores = []
        for subset in itertools.combinations(SEEDS, n):
            union = {f"{seed}:{name}": labels for seed in subset
                     for name, labels in pools[seed].items()}
            picked = union[most_central(union)]
            scores.append((adjusted_rand_score(truth, picked),
                           normalized_mutual_info_score(truth, picked)))
        out[n] = tuple(np.mean(scores, axis=0))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tag", default="rules", help="saved runs with seeds 0-2 (diagnose.py)")
    args = parser.parse_args()
    datasets = sorted({p.name.rsplit("_s", 1)[0] for p in (CACHE / args.tag).glob("*_s2.npz")})
    sizes = range(1, len(SEEDS) + 1)
    print(f"## Medoid over the pooled candidates of n seeds' runs (tag `{args.tag}`, pool `cur`)\n")
    print("ARI / NMI of the medoid's own labels, mean over every n-subset of seeds 0-2.\n")
    print("| dataset | " + " | ".join(f"{n} seed{'s' if n > 1 else ''}" for n in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    table = []
    for dataset in datasets:
        scores = pooled_scores(dataset, args.tag)
        table.append([scores[n] for n in sizes])
        print(f"| {dataset} | " + " | ".join(f"{a:.3f} / {b:.3f}" for a, b in table[-1]) + " |")
    means = np.mean(np.array(table), axis=0)
    print("| **mean** | " + " | ".join(f"{a:.3f} / {b:.3f}" for a, b in means) + " |")


if __name__ == "__main__":
    main()
