#!/usr/bin/env python
"""Markdown table: what `scdefer train` output, per dataset, in a committed run and in a new one.

"Before" is the ``ensemble+means`` readout on ``cluster_z`` of ``diagnose.tsv`` (what training
outputs with the defaults) for one seed, with its seed sd over all seeds; "after" is the ``final``
readout of a ``readouts.py --quick`` table (the labels training returned). Without ``--seed``,
both are means over the seeds each table has, and the after table's seed sd is shown too.

    python bench/before_after.py bench/results/diagnose.tsv bench/results/diagnose_attn512.tsv \\
        --seed 0 --before-name d902d50 --after-name e163dd3
"""

from __future__ import annotations

import argparse

import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", help="diagnose.tsv (full readouts)")
    parser.add_argument("after", help="a readouts.py --quick table")
    parser.add_argument("--seed", type=int, help="one seed (default: the mean over all seeds)")
    parser.add_argument("--before-name", dest="before_name", default="before")
    parser.add_argument("--after-name", dest="after_name", default="after")
    args = parser.parse_args()
    runs = pd.read_csv(args.before, sep="\t")
    runs = runs[(runs.tag == "default") & (runs.readout == "ensemble+means")
                & (runs.rep == "cluster_z")]
    spread = runs.groupby("dataset").ari.std().rename("sd")
    after = pd.read_csv(args.after, sep="\t")
    after = after[after.readout == "final"]
    spread_after = after.groupby("dataset").ari.std().rename("sd_after")
    if args.seed is None:  # means over seeds; the after table's sources are counted
        before = runs.groupby("dataset")[["ari", "nmi"]].mean().reset_index()
        sources = after.groupby("dataset").rep.agg(lambda r: ", ".join(
            f"{name} x{count}" for name, count in r.value_counts().items()))
        seeds = after.groupby("dataset").seed.nunique().rename("seeds")
        after = after.groupby("dataset")[["ari", "nmi"]].mean().join(sources).join(seeds)
        after = after.reset_index()
    else:
        before = runs[runs.seed == args.seed][["dataset", "ari", "nmi"]]
        after = after[after.seed == args.seed].assign(seeds=1)
    both = before.merge(after[["dataset", "ari", "nmi", "rep", "seeds"]], on="dataset",
                        suffixes=("_before", "_after")).merge(spread, on="dataset")
    both = both.merge(spread_after, on="dataset")
    both["change"] = both.ari_after - both.ari_before
    b, a = args.before_name, args.after_name
    print(f"| dataset | ARI {b} | ARI {a} | change | sd of ARI over seeds ({b}) | "
          f"sd ({a}) | NMI {b} | NMI {a} | seeds ({a}) | final labels from ({a}) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in both.itertuples():
        print(f"| {r.dataset} | {r.ari_before:.3f} | {r.ari_after:.3f} | {r.change:+.3f} | "
              f"{r.sd:.3f} | {r.sd_after:.3f} | {r.nmi_before:.3f} | {r.nmi_after:.3f} | "
              f"{r.seeds} | {r.rep} |")
    print(f"| **mean ({len(both)} datasets)** | {both.ari_before.mean():.3f} | "
          f"{both.ari_after.mean():.3f} | {both.change.mean():+.3f} | {both.sd.mean():.3f} | "
          f"{both.sd_after.mean():.3f} | {both.nmi_before.mean():.3f} | "
          f"{both.nmi_after.mean():.3f} | | |")


if __name__ == "__main__":
    main()
