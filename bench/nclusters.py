#!/usr/bin/env python
"""K found by ``--n-clusters auto`` against the true K, beside scanpy-style Leiden at resolution 1.

``auto`` counts the Leiden communities (resolution 1, 15-NN graph of the PCA) holding at least
0.5% of the cells (``scdefer.nclusters.estimate_n_clusters``); it runs on the PCA that
preprocessing wrote, which ``bench/diagnose.py`` saved with each run. The Leiden-at-resolution-1
baseline (K found and ARI) comes from ``accuracy.tsv`` (``leiden_default`` rows).

    python bench/nclusters.py bench/results/accuracy.tsv > bench/results/nclusters.md
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from diagnose import REPS  # noqa: E402
from lodo import markdown  # noqa: E402

from scdefer.nclusters import estimate_n_clusters  # noqa: E402


def main(accuracy_path: str) -> None:
    rows = []
    for path in sorted((REPS / "default").glob("*.npz")):
        saved = np.load(path)
        meta = json.loads(str(saved["meta"]))
        k_auto = estimate_n_clusters(saved["pca"], seed=meta["seed"])
        rows.append({"dataset": meta["dataset"], "seed": meta["seed"], "k_true": meta["k_true"],
                     "k_auto": k_auto})
    auto = pd.DataFrame(rows).groupby("dataset").agg(k_true=("k_true", "first"),
                                                     k_auto=("k_auto", "mean"))
    accuracy = pd.read_csv(accuracy_path, sep="\t")
    leiden = accuracy[accuracy["method"] == "leiden_default"].groupby("dataset").agg(
        k_leiden_res1=("k_used", "mean"), ari_leiden_res1=("ari", "mean"))
    table = auto.join(leiden)
    table["auto_within_30pct"] = (table["k_auto"] - table["k_true"]).abs() <= 0.3 * table["k_true"]
    print("## `--n-clusters auto`: K found (mean over the seeds of diagnose runs) vs true K\n")
    print(markdown(table.round(3)))
    print(f"\n`auto` within 30% of the true K on {int(table['auto_within_30pct'].sum())} of "
          f"{len(table)} datasets; Leiden at resolution 1 on "
          f"{int(((table['k_leiden_res1'] - table['k_true']).abs() <= 0.3 * table['k_true']).sum())}.")


if __name__ == "__main__":
    main(sys.argv[1])
