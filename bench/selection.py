#!/usr/bin/env python
"""Two label-free changes to the ensemble, scored offline on saved runs: the pick rule, and a pool
over several seeds (what a consensus of ``--n-runs`` trainings could give).

Reads the candidate partitions that ``bench/pools.py`` cached for each run (the ``cur`` pool: the
head, and K-means, spectral and Leiden on the PCA, the pre-trained and the final embedding, and the
joint PCA graphs) and the runs of ``bench/diagnose.py``. Labels are read only to score.

- ``rule``: which candidate the ensemble takes: the largest summed NMI to the others (the
  package's ``most_central``), the largest summed ARI, or either counting only agreement with
  candidates of *other* views (a view's three readouts agree with each other by construction).
- ``seeds``: the candidates of 1, 2 or 3 seeds' runs pooled, then the most central (summed NMI)
  taken, each cell voting in the embedding of the run it came from (``most_central`` in a pool of
  n runs, every n-subset of the seeds scored and averaged); ``spectral-consensus`` is the spectral
  cut of the co-association of the whole pool (``consensus_labels``).

    python bench/selection.py --tags pkgdual pkgdual01 pkgdual2a pkgdual2b > bench/results/selection.md
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from diagnose import REPS
from lodo import markdown
from pools import CACHE, pool_members

from scdefer._runtime import set_threads
from scdefer.assignment import agreement_matrix, consensus_labels, most_central, neighbour_votes

BASELINES = ("leiden_at_k", "kmeans_pcs", "spectral_knn")


def runs(tags: list[str]) -> dict[tuple[str, int], tuple[Path, Path]]:
    """(dataset, seed) -> (saved run, cached candidates), the first tag holding it winning."""
    found: dict[tuple[str, int], tuple[Path, Path]] = {}
    for tag in tags:
        for path in sorted((REPS / tag).glob("*_s*.npz")):
            dataset, seed = path.stem.rsplit("_s", 1)
            cached = CACHE / tag / path.name
            if cached.exists():
                found.setdefault((dataset, int(seed)), (path, cached))
    return found


def view_of(name: str) -> str:
    """The representation a candidate was read out of (the head counts as the final embedding)."""
    return name.split(":")[1].split("+")[-1] if ":" in name else "z"


def voted(z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    codes = np.unique(labels, return_inverse=True)[1]
    return neighbour_votes(z, codes, codes.max() + 1).argmax(axis=1)


def rule_rows(dataset: str, seed: int, parts: dict[str, np.ndarray], z: np.ndarray,
              truth: np.ndarray) -> list[dict]:
    names = list(parts)
    views = np.array([view_of(n) for n in names])
    other = views[:, None] != views[None, :]
    nmi = agreement_matrix(parts)
    ari = agreement_matrix(parts, adjusted_rand_score)
    scores = {"summed NMI (package)": nmi.sum(1), "summed ARI": ari.sum(1),
              "NMI, other views only": (nmi * other).sum(1) / other.sum(1),
              "ARI, other views only": (ari * other).sum(1) / other.sum(1)}
    return [{"dataset": dataset, "seed": seed, "design": f"rule: {rule}",
             "ari": adjusted_rand_score(truth, out := voted(z, parts[names[int(np.argmax(s))]])),
             "nmi": normalized_mutual_info_score(truth, out)} for rule, s in scores.items()]


def seed_pool_rows(dataset: str, by_seed: dict[int, tuple[dict, np.ndarray]],
                   truth: np.ndarray, k: int) -> list[dict]:
    rows = []
    for n in range(2, len(by_seed) + 1):
        for subset in itertools.combinations(sorted(by_seed), n):
            pool = {f"{s}/{name}": labels for s in subset for name, labels in by_seed[s][0].items()}
            picked = most_central(pool)
            out = voted(by_seed[int(picked.split("/")[0])][1], pool[picked])
            cons = consensus_labels(list(pool.values()), k, seed=0)
            for design, labels in ((f"seeds: most central of {n} runs", out),
                                   (f"seeds: spectral consensus of {n} runs", cons)):
                rows.append({"dataset": dataset, "seed": "+".join(map(str, subset)), "design": design,
                             "ari": adjusted_rand_score(truth, labels),
                             "nmi": normalized_mutual_info_score(truth, labels)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", nargs="+", required=True)
    parser.add_argument("--accuracy", type=Path, default=Path("bench/results/accuracy.tsv"))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    set_threads(args.threads)
    rows: list[dict] = []
    per_dataset: dict[str, dict[int, tuple[dict, np.ndarray]]] = {}
    truths: dict[str, np.ndarray] = {}
    for (dataset, seed), (path, cached) in sorted(runs(args.tags).items()):
        saved = np.load(path)
        parts = pool_members(dict(np.load(cached)), "cur")
        truths[dataset] = saved["truth"]
        rows += rule_rows(dataset, seed, parts, saved["cluster_z"], saved["truth"])
        per_dataset.setdefault(dataset, {})[seed] = (parts, saved["cluster_z"])
        print(dataset, seed, file=sys.stderr, flush=True)
    for dataset, by_seed in per_dataset.items():
        rows += seed_pool_rows(dataset, by_seed, truths[dataset], len(np.unique(truths[dataset])))
    table = pd.DataFrame(rows)

    base = pd.read_csv(args.accuracy, sep="\t")
    base = base[base["method"].isin(BASELINES)].groupby(["method", "dataset"])["ari"].mean()
    best = base.groupby("dataset").max()
    per = table.groupby(["design", "dataset"])[["ari", "nmi"]].mean()
    summary = per.groupby("design").mean()
    summary["worst margin"] = (per["ari"] - best.reindex(per.index.get_level_values(1)).to_numpy()
                               ).groupby("design").min()
    print(f"## Ensemble pick rules and pools over seeds ({len(per_dataset)} datasets; tags "
          f"{' '.join(args.tags)})\n")
    print("Mean over datasets of the mean over seeds (or seed subsets); worst margin: ARI minus "
          "the dataset's best baseline (`accuracy.tsv`).\n")
    print(markdown(summary.round(4)))
    print("\n## Per dataset (ARI)\n")
    print(markdown(per["ari"].unstack().round(3)))


if __name__ == "__main__":
    main()
