#!/usr/bin/env python
"""Can a label-free score tell a good training from a bad one? Scored on saved runs.

``--n-runs`` averages several trainings; picking the best of them instead needs a score that
ranks runs as ARI does, without labels. For every run a ``bench/diagnose.py`` tag saved, this
computes three such scores of the head's labels (``proba.argmax``): Newman's modularity on the
PCA's 10-NN graph, the mean largest soft assignment (the head's confidence) and the silhouette
in the PCA; then, per dataset, Spearman's correlation of each score with the run's ARI over the
seeds. A usable criterion would correlate positively on every set. Last, what each score would
give as a rule: of the runs S, S + 1, S + 2 (S = 0, 3, 6, as ``--n-runs 3`` trains them), keep the
one the score ranks highest; its ARI, mean over S and sets, beside the mean run and the best run
(picked with the labels, a ceiling). Labels are read only to score.

    python bench/run_quality.py --tags agree balance05 > bench/results/run_quality.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import adjusted_rand_score, silhouette_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from diagnose import REPS
from lodo import markdown
from pick_rules import modularity

from scdefer.graph import knn_graph

SCORES = ("modularity", "confidence", "silhouette")
PICK_GROUP = 3  # runs compared by a pick rule, as --n-runs 3 trains them
SILHOUETTE_CELLS = 4000  # silhouette is quadratic in the cells: a fixed random sample per run


def run_scores(path: Path) -> dict:
    """ARI and the label-free scores of one saved run."""
    saved = np.load(path, allow_pickle=True)  # an npz decompresses a key on every access
    proba, pca, truth = saved["proba"], saved["pca"], saved["truth"]
    labels = proba.argmax(axis=1)
    graph = knn_graph(pca, 10)[0]
    sample = np.random.default_rng(0).permutation(len(labels))[:SILHOUETTE_CELLS]
    separated = len(np.unique(labels[sample])) > 1
    dataset, seed = path.stem.rsplit("_s", 1)
    return {"dataset": dataset, "seed": int(seed),
            "ari": adjusted_rand_score(truth, labels),
            "modularity": modularity(graph, labels),
            "confidence": float(proba.max(axis=1).mean()),
            "silhouette": float(silhouette_score(pca[sample], labels[sample]))
            if separated else np.nan}


def picked_ari(rows: pd.DataFrame) -> dict[str, float]:
    """Mean ARI of the run each score picks among consecutive seed groups, with the mean and best."""
    picks: dict[str, list[float]] = {name: [] for name in ("mean run", *SCORES, "best run")}
    rows = rows.assign(group=rows.seed // PICK_GROUP)
    for _, runs in rows.groupby(["dataset", "group"]):
        if len(runs) < PICK_GROUP:
            continue
        picks["mean run"].append(runs.ari.mean())
        picks["best run"].append(runs.ari.max())
        for score in SCORES:
            picks[score].append(runs.ari[runs[score].idxmax()])
    return {name: round(float(np.mean(values)), 4) for name, values in picks.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", nargs="+", required=True, help="bench/diagnose.py tags")
    args = parser.parse_args()
    for tag in args.tags:
        rows = pd.DataFrame([run_scores(p) for p in sorted((REPS / tag).glob("*_s*.npz"))])
        table = []
        for dataset, runs in rows.groupby("dataset"):
            row = {"dataset": dataset, "runs": len(runs),
                   "ARI min-max": f"{runs.ari.min():.3f}-{runs.ari.max():.3f}"}
            for score in SCORES:
                row[f"rho {score}"] = round(spearmanr(runs[score], runs.ari).statistic, 2)
            table.append(row)
        table = pd.DataFrame(table)
        print(f"## `{tag}`: Spearman's rho of each label-free score with ARI, over the seeds\n")
        print(markdown(table, index=False))
        print(f"\nScores with a positive rho on every set: "
              f"{', '.join(s for s in SCORES if (table[f'rho {s}'] > 0).all()) or 'none'}\n")
        print(f"Keeping the top-scoring of {PICK_GROUP} runs (mean ARI over seed groups and sets):\n")
        print(markdown(pd.DataFrame([picked_ari(rows)]), index=False) + "\n")


if __name__ == "__main__":
    main()
