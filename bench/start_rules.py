#!/usr/bin/env python
"""How good a start each label-free rule would give DEC's centres, on saved runs' candidates.

DEC's head starts at the means of one partition of the pre-trained embedding (``center_init``):
K-means on it (``kmeans:pretrain``, the default) or the medoid of the seven pre-training
candidates that have K clusters (``ensemble``). For every saved run of the given tags, this
scores (ARI against the labels, mean over seeds) the partition each rule would start from: those
two, and the medoid with every method (``balanced-method``: K-means, spectral, Leiden) or every
view (``balanced-view``: PCA, pre-trained, joint) given the same say. Only the start; what DEC
makes of it needs a training (``diagnose.py`` with ``center_init``).

    python bench/start_rules.py --tags ens easyens > bench/results/start_rules.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from diagnose import REPS
from lodo import markdown
from pick_rules import balanced_central, group_balanced
from pools import cached_pool, saved_truth
from sklearn.metrics import adjusted_rand_score

from scdefer.assignment import most_central

PRETRAIN = ("kmeans:pca", "spectral:pca", "leiden:pca", "kmeans:pretrain", "spectral:pretrain",
            "leiden:pretrain", "spectral:pca+pretrain")


def method_balanced(members: dict[str, np.ndarray]) -> str:
    """The candidate with the largest sum over methods of its mean NMI to that method's others."""
    return group_balanced(members, [name.split(":", 1)[0] for name in members])


RULES = {
    "kmeans:pretrain": lambda members: "kmeans:pretrain",
    "medoid": most_central,
    "balanced-method": method_balanced,
    "balanced-view": lambda members: balanced_central(members, joint_apart=True),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", nargs="+", required=True, help="diagnose.py tags with cached pools")
    args = parser.parse_args()
    rows = []
    for tag in args.tags:
        for path in sorted((REPS / tag).glob("*_s*.npz")):
            dataset, seed = path.stem.rsplit("_s", 1)
            parts = cached_pool(tag, dataset, int(seed))
            k = len(np.unique(parts["kmeans:pretrain"]))  # as the package: K-cluster ones only
            members = {name: parts[name] for name in PRETRAIN if len(np.unique(parts[name])) == k}
            truth = saved_truth(tag, dataset)
            rows.append({"tag": tag, "dataset": dataset, **{
                rule: adjusted_rand_score(truth, members[pick(members)])
                for rule, pick in RULES.items()}})
    table = pd.DataFrame(rows)
    print("## ARI of the partition DEC's centres would start from (mean over seeds)\n")
    print(markdown(table.groupby(["tag", "dataset"]).mean()))
    print("\n## Means per tag\n")
    print(markdown(table.drop(columns="dataset").groupby("tag").mean()))


if __name__ == "__main__":
    main()
