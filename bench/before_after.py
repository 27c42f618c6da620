#!/usr/bin/env python
"""Markdown table: what `scdefer train` output, per dataset, in a committed run and in a new one.

"Before" is the ``ensemble+means`` readout on ``cluster_z`` of ``diagnose.tsv`` (what training
outputs with the defaults) for one seed, with its seed sd over all seeds; "after" is the ``final``
readout of a ``readouts.py --quick`` table (the labels training returned).

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
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--before-name", dest="before_name", default="before")
    parser.add_argument("--after-name", dest="after_name", default="after")
    args = parser.parse_args()
    runs = pd.read_csv(args.before, sep="\t")
    runs = runs[(runs.tag == "default") & (runs.readout == "ensemble+means")
                & (runs.rep == "cluster_z")]
    spread = runs.groupby("dataset").ari.std().rename("sd")
    before = runs[runs.seed == args.seed][["dataset", "ari", "nmi"]]
    after = pd.read_csv(args.after, sep="\t")
    after = after[(after.readout == "final") & (after.seed == args.seed)]
    both = before.merge(after[["dataset", "ari", "nmi", "rep"]], on="dataset",
                        suffixes=("_before", "_after")).merge(spread, on="dataset")
    both["change"] = both.ari_after - both.ari_before
    b, a = args.before_name, args.after_name
    print(f"| dataset | ARI {b} | ARI {a} | change | sd of ARI over seeds ({b}) | NMI {b} | "
          f"NMI {a} | final labels from ({a}) |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in both.itertuples():
        print(f"| {r.dataset} | {r.ari_before:.3f} | {r.ari_after:.3f} | {r.change:+.3f} | "
              f"{r.sd:.3f} | {r.nmi_before:.3f} | {r.nmi_after:.3f} | {r.rep} |")
    print(f"| **mean ({len(both)} datasets)** | {both.ari_before.mean():.3f} | "
          f"{both.ari_after.mean():.3f} | {both.change.mean():+.3f} | {both.sd.mean():.3f} | "
          f"{both.nmi_before.mean():.3f} | {both.nmi_after.mean():.3f} | |")


if __name__ == "__main__":
    main()
