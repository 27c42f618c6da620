#!/usr/bin/env python
"""Component ablation: what each part of scDEFER is worth, from tables the other scripts made.

Each variant is a training tag (``bench/diagnose.py --tag``), the full model first. For every
variant and dataset it reads, from readout tables (``bench/pools.py`` and ``bench/readouts.py
--quick`` output, any number of them):

- ``output``: what ``scdefer train`` outputs by default (the ensemble's most central partition,
  then the vote of the 16 nearest cells, ``cur+votes`` of ``pools.py``); for a tag named in
  ``--head-output`` (one whose settings output the DEC head, as ``--schedule paper`` does), its
  head's labels;
- ``head``: the DEC head's own labels (the paper's output);
- ``kmeans Z`` / ``kmeans Z pre``: K-means at K on the learnt embedding after the clustering
  phase / after pre-training, a readout of the representation alone.

It prints Markdown: per dataset the ``output`` ARI of each variant, then per variant the mean ARI
and NMI of every readout and its difference from the full model. Labels were used only to score.

    python bench/ablation.py --variants full=pkgdual "no ZINB=nozinb" --seeds 0 \
        --tables bench/results/pools_pkgdual.tsv bench/results/pools_ablation.tsv \
        bench/results/ablation_readouts.tsv > bench/results/ablation.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lodo import markdown

# readout name -> (readout, rep) rows of the readout tables
READOUTS = {
    "output": ("cur+votes", "cluster_z"),
    "head": ("dec", "cluster_z"),
    "kmeans Z": ("kmeans", "cluster_z"),
    "kmeans Z pre": ("kmeans", "pretrain_z"),
}


def load(tables: list[Path], tags: dict[str, str], seeds: list[int] | None,
         head_output: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per (variant, dataset, seed, readout) with its ARI and NMI.

    For the tags in ``head_output`` the DEC head's rows also stand as their ``output``.
    """
    frame = pd.concat([pd.read_csv(path, sep="\t") for path in tables], ignore_index=True)
    frame = frame[frame["tag"].isin(tags.values())]
    if seeds:
        frame = frame[frame["seed"].isin(seeds)]
    head_rows = frame[frame["tag"].isin(head_output)
                      & (frame["readout"] == READOUTS["head"][0])
                      & (frame["rep"] == READOUTS["head"][1])]
    as_output = head_rows.assign(readout=READOUTS["output"][0], rep=READOUTS["output"][1])
    frame = pd.concat([frame, as_output], ignore_index=True)
    wanted = {pair: name for name, pair in READOUTS.items()}
    frame = frame.assign(readout_name=[wanted.get((r, p)) for r, p in
                                       zip(frame["readout"], frame["rep"], strict=True)])
    frame = frame.dropna(subset=["readout_name"])
    frame = frame.drop_duplicates(["tag", "dataset", "seed", "readout_name"])
    variant_of = {tag: name for name, tag in tags.items()}
    return frame.assign(variant=frame["tag"].map(variant_of))


def report(rows: pd.DataFrame, variants: list[str]) -> str:
    """Per-dataset output ARI, then per-variant means and differences from the first variant.

    The means are over the datasets that every variant has, so that they compare.
    """
    shared = set.intersection(*(set(rows.loc[rows["variant"] == v, "dataset"]) for v in variants))
    left_out = sorted(set(rows["dataset"]) - shared)
    out = rows[rows["readout_name"] == "output"]
    per_set = out.pivot_table(index="dataset", columns="variant", values="ari", aggfunc="mean")
    per_set = per_set.reindex(columns=[v for v in variants if v in per_set.columns])
    counts = out.groupby("variant")["dataset"].nunique()
    full = variants[0]
    in_means = rows[rows["dataset"].isin(shared)]
    means = in_means.groupby(["variant", "readout_name"])[["ari", "nmi"]].mean().unstack()
    summary = pd.DataFrame(index=pd.Index([v for v in variants if v in means.index],
                                          name="variant"))
    summary["datasets run"] = [str(counts.get(v, 0)) for v in summary.index]
    for name in READOUTS:
        if ("ari", name) not in means.columns:
            continue
        summary[f"{name} ARI"] = means[("ari", name)]
        summary[f"{name} NMI"] = means[("nmi", name)]
        summary[f"{name} ΔARI"] = means[("ari", name)] - means.loc[full, ("ari", name)]
    note = f"\n\nNot in the means (missing for some variant): {', '.join(left_out)}." if left_out else ""
    losses = (per_set.sub(per_set[full], axis=0) < 0).sum()
    summary["output lower on"] = [
        f"{losses[v]} of {per_set[v].notna().sum()}" if v in per_set and v != full else ""
        for v in summary.index]
    return ("## What `scdefer train` outputs (ARI per dataset)\n\n" + markdown(per_set)
            + "\n\n## Mean over datasets, and difference from the first variant\n\n"
            + markdown(summary) + note + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", required=True,
                        help="NAME=TAG pairs, the reference (full model or default) first")
    parser.add_argument("--tables", nargs="+", type=Path, required=True)
    parser.add_argument("--seeds", nargs="*", type=int, help="only these seeds (default: all)")
    parser.add_argument("--head-output", nargs="*", default=[], metavar="TAG",
                        help="tags whose output is the DEC head (e.g. trained with --schedule paper)")
    args = parser.parse_args()
    tags = dict(pair.split("=", 1) for pair in args.variants)
    rows = load(args.tables, tags, args.seeds, tuple(args.head_output))
    sys.stdout.write(report(rows, list(tags)))


if __name__ == "__main__":
    main()
