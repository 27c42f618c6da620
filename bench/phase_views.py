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

    python bench/phase_views.py --tag rules --truth-tag nobce --tag easy --truth-tag easy
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from diagnose import REPS
from pools import CACHE, pool_members

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


def medoid_scores(tag: str, truth_tag: str) -> dict[str, dict[str, np.ndarray]]:
    """Per subset and dataset, the mean (ARI, NMI) over seeds of the subset's medoid."""
    scores: dict[str, dict[str, list[tuple[float, float]]]] = {name: {} for name in SUBSETS}
    for cached in sorted((CACHE / tag).glob("*.npz")):
        dataset, _ = cached.stem.rsplit("_s", 1)
        truth = np.load(REPS / truth_tag / f"{dataset}_s0.npz")["truth"]  # same cells every seed
        members = pool_members(dict(np.load(cached)), "cur")
        for name, keep in SUBSETS.items():
            subset = {key: labels for key, labels in members.items() if keep(key)}
            labels = subset[most_central(subset)]
            scores[name].setdefault(dataset, []).append(
                (adjusted_rand_score(truth, labels), normalized_mutual_info_score(truth, labels)))
    return {name: {ds: np.mean(runs, axis=0) for ds, runs in per.items()}
            for name, per in scores.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tag", action="append", required=True, help="a candidate cache's tag")
    parser.add_argument("--truth-tag", action="append", required=True,
                        help="for each --tag, a tag whose saved runs hold the same cells' labels")
    args = parser.parse_args()
    if len(args.tag) != len(args.truth_tag):
        raise SystemExit("give one --truth-tag per --tag")
    for tag, truth_tag in zip(args.tag, args.truth_tag, strict=True):
        scores = medoid_scores(tag, truth_tag)
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
