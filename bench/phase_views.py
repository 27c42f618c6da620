#!/usr/bin/env python
"""The ensemble's medoid with and without the clustering phase's candidates, offline.

The package's ensemble (pool ``cur``) picks the medoid of the DEC head, three readouts of each of
the PCA, the pre-trained embedding and the final embedding Z, and two joint graphs. After the
clustering phase, the head and every readout of Z agree closely (DEC has pulled the cells to K
centres), so that bloc tends to hold the medoid. This scores, on runs whose candidates
``pools.py`` / ``pick_rules.py`` cached, the medoid of: every candidate (what the package
outputs, before its neighbour vote), the candidates of the PCA and the pre-trained embedding only
(``no-cluster-phase``), and the head with the readouts of Z and of the PCA (``cluster-phase+pca``).
No retraining; labels only score.

    python bench/phase_views.py --tags rules easy
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pools import CACHE, cached_pool, saved_truth

from scdefer.assignment import most_central


def _cluster_phase(name: str) -> bool:
    """Whether a candidate is read from what the clustering phase made (the head or Z)."""
    return name == "dec" or name.endswith(":z") or name.endswith("+z")


def _cluster_phase_or_pca(name: str) -> bool:
    """The head, the readouts of Z and those of the PCA (no joint graph)."""
    return name.endswith(":pca") or (_cluster_phase(name) and "+" not in name)


SUBSETS: dict[str, Callable[[str], bool]] = {
    "all (package)": lambda name: True,
    "no-cluster-phase": lambda name: not _cluster_phase(name),
    "cluster-phase+pca": _cluster_phase_or_pca,
}


def _medoid(members: dict[str, np.ndarray], keep: Callable[[str], bool]) -> np.ndarray:
    """The labels of the medoid of the candidates ``keep`` accepts."""
    subset = {name: labels for name, labels in members.items() if keep(name)}
    return subset[most_central(subset)]


def medoid_scores(tag: str) -> dict[str, dict[str, np.ndarray]]:
    """Per subset and dataset, the mean (ARI, NMI) over seeds of the subset's medoid."""
    runs: dict[str, list[int]] = {}
    for cached in sorted((CACHE / tag).glob("*.npz")):
        dataset, seed = cached.stem.rsplit("_s", 1)
        runs.setdefault(dataset, []).append(int(seed))
    scores: dict[str, dict[str, np.ndarray]] = {name: {} for name in SUBSETS}
    for dataset, seeds in runs.items():
        truth = saved_truth(tag, dataset)
        pools = [cached_pool(tag, dataset, seed) for seed in seeds]
        for name, keep in SUBSETS.items():
            picked = [_medoid(members, keep) for members in pools]
            scores[name][dataset] = np.mean(
                [(adjusted_rand_score(truth, labels), normalized_mutual_info_score(truth, labels))
                 for labels in picked], axis=0)
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", nargs="+", required=True,
                        help="tags of saved runs (diagnose.py) whose candidates are cached")
    args = parser.parse_args()
    for tag in args.tags:
        scores = medoid_scores(tag)
        datasets = list(next(iter(scores.values())))
        print(f"## tag `{tag}`: ARI of the medoid (mean over seeds)\n")
        print("| candidates | mean ARI | mean NMI | " + " | ".join(datasets) + " |")
        print("|---" * (len(datasets) + 3) + "|")
        for name, per in scores.items():
            mean = np.mean(list(per.values()), axis=0)
            print(f"| {name} | {mean[0]:.3f} | {mean[1]:.3f} | "
                  + " | ".join(f"{per[ds][0]:.3f}" for ds in datasets) + " |")
        print()


if __name__ == "__main__":
    main()
