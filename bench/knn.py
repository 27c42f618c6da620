#!/usr/bin/env python
"""Recall of the approximate KNN (NN-descent) against exact KNN on a preprocessed dataset's PCA.

    python bench/knn.py bench/work/scale/prep_30000.h5ad --out bench/results/knn.tsv

Recall is the mean fraction of each cell's exact 10 nearest neighbours that NN-descent finds;
both run on ``obsm['X_pca']`` with the package's own ``scdefer.graph.nearest_neighbors``. The
approximate time includes numba's compilation on a first call (as a user's first run pays it).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import anndata as ad
import numpy as np

from scdefer.graph import nearest_neighbors
from scdefer.keys import PCA


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("prepared", type=Path)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("bench/results/knn.tsv"))
    args = parser.parse_args()
    coords = np.asarray(ad.read_h5ad(args.prepared, backed="r").obsm[PCA], dtype=np.float32)
    seconds = {}
    found = {}
    for method in ("exact", "approximate"):
        tic = time.perf_counter()
        found[method] = nearest_neighbors(coords, args.k, method)[0]
        seconds[method] = time.perf_counter() - tic
    recall = np.mean([np.intersect1d(a, e).size / args.k
                      for a, e in zip(found["approximate"], found["exact"], strict=True)])
    row = [coords.shape[0], coords.shape[1], args.k, f"{recall:.4f}",
           f"{seconds['exact']:.1f}", f"{seconds['approximate']:.1f}", args.prepared.name]
    header = ["cells", "pcs", "k", "recall", "exact_s", "approximate_s", "data"]
    args.out.write_text("\t".join(header) + "\n" + "\t".join(map(str, row)) + "\n")
    print("\t".join(map(str, row)))


if __name__ == "__main__":
    main()
