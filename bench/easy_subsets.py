#!/usr/bin/env python
"""Simpler datasets for the accuracy benchmark: each shared count set cut to its largest types.

The issue behind `run_accuracy.py` saw scdefer fail where scanpy does not on clean data with a
few types (a 4-type PBMC set: spectral 0.99 ARI, an older scdefer 0.58). This writes, per count
dataset, the cells of its ``--types`` largest cell types (raw counts and `cell_type` only) as
``<stem>_top<N>.h5ad``, so that `run_accuracy.py --data OUT` scores every method on them. The
labels choose which cells are kept; the methods still read only the counts.

    python bench/easy_subsets.py --data ../shared/data --types 4 --out bench/work/easy
"""

from __future__ import annotations

import argparse
from pathlib import Path

import anndata as ad
from diagnose import DEFAULT_DATA, SKIP


def largest_types(adata: ad.AnnData, n_types: int) -> ad.AnnData:
    """The cells of the ``n_types`` most frequent values of ``obs['cell_type']`` (counts only)."""
    kinds = adata.obs["cell_type"].astype(str)
    keep = kinds.isin(kinds.value_counts().index[:n_types]).to_numpy()
    obs = adata.obs[["cell_type"]].iloc[keep].copy()
    obs["cell_type"] = obs["cell_type"].astype(str).astype("category")
    return ad.AnnData(adata.X[keep], obs=obs, var=adata.var[[]].copy())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--types", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path("bench/work/easy"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for path in sorted(p for p in args.data.glob("*.h5ad") if p.name not in SKIP):
        subset = largest_types(ad.read_h5ad(path), args.types)
        target = args.out / f"{path.stem}_top{args.types}.h5ad"
        subset.write_h5ad(target)
        counts = subset.obs["cell_type"].value_counts()
        print(f"{target.name}: {subset.n_obs} cells, "
              + ", ".join(f"{name} {n}" for name, n in counts.items()))


if __name__ == "__main__":
    main()
