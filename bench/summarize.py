#!/usr/bin/env python
"""Summarise bench/results/accuracy.tsv: mean and spread over seeds, per dataset and overall.

    python bench/summarize.py bench/results/accuracy.tsv > bench/results/accuracy_summary.md
"""

from __future__ import annotations

import sys

import pandas as pd


def main(path: str) -> None:
    table = pd.read_csv(path, sep="\t")
    grouped = table.groupby(["dataset", "method"])
    stats = grouped.agg(
        cells=("cells", "first"), k_true=("k_true", "first"), seeds=("seed", "nunique"),
        nmi_mean=("nmi", "mean"), nmi_sd=("nmi", "std"), ari_mean=("ari", "mean"),
        ari_sd=("ari", "std"), k_used=("k_used", lambda k: "/".join(map(str, k))),
        wall_s=("wall_s", "mean"), peak_rss_mb=("peak_rss_mb", "max"),
    ).reset_index()
    print("## Per dataset (mean ± sd over seeds)\n")
    print("| dataset | cells | method | NMI | ARI | K true | K used (per seed) | wall s | peak RSS MB |")
    print("|---|---:|---|---|---|---:|---|---:|---:|")
    for _, r in stats.iterrows():
        print(f"| {r.dataset} | {r.cells} | {r.method} | {r.nmi_mean:.3f} ± {r.nmi_sd:.3f} | "
              f"{r.ari_mean:.3f} ± {r.ari_sd:.3f} | {r.k_true} | {r.k_used} | {r.wall_s:.0f} | "
              f"{r.peak_rss_mb} |")
    methods = stats["method"].unique()
    per_dataset = stats.groupby("dataset")["method"].nunique()
    common = sorted(per_dataset[per_dataset == len(methods)].index)
    shared = stats[stats["dataset"].isin(common)]
    overall = shared.groupby("method")[["nmi_mean", "ari_mean"]].mean().sort_values("ari_mean")
    print(f"\n## Mean over the datasets every method ran on ({', '.join(common)})\n")
    print("| method | mean NMI | mean ARI |")
    print("|---|---|---|")
    for method, r in overall.iloc[::-1].iterrows():
        print(f"| {method} | {r.nmi_mean:.3f} | {r.ari_mean:.3f} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench/results/accuracy.tsv")
