#!/usr/bin/env python
"""One configuration against the accuracy bar of issue 10 (K given), in one table.

Reads what ``scdefer train`` outputs, either from ``bench/run_accuracy.py``'s ``scdefer_k`` rows
(the package itself, repeatable) or for a training tag of the harness (``cur+votes`` on
``cluster_z`` of ``bench/pools.py``), and the baselines of ``bench/run_accuracy.py`` (scanpy's
standard pipeline, true K), and prints per dataset the mean ARI / NMI over seeds, the seed sd of
ARI, each baseline and the margin to the dataset's best baseline; then the means and each
condition, met or not:

- mean ARI at least 0.05 and mean NMI at least 0.02 above the best single baseline's mean;
- on no dataset more than 0.03 ARI below that dataset's best baseline;
- mean over datasets of the seed sd of ARI at most 0.03.

    python bench/targets.py bench/results/pick_rules_agree.tsv bench/results/accuracy.tsv \
        --tag agree --readout candidate:dec > bench/results/accuracy_default.md
    python bench/targets.py bench/results/pools_fastdef.tsv bench/results/accuracy.tsv \
        --tag fastdef --head bench/results/readouts_fastdef.tsv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lodo import BASELINES, markdown

OUTPUT = ("cur+votes", "cluster_z")  # what `scdefer train` outputs by default, in pools.py
PICK_RULES_OUTPUT = "cur/medoid"  # the same labels in pick_rules.py's tables
MIN_ARI_GAIN, MIN_NMI_GAIN, WORST_MARGIN, MAX_SEED_SD = 0.05, 0.02, -0.03, 0.03
NAMES = {"leiden_at_k": "Leiden at K", "kmeans_pcs": "K-means on PCs",
         "spectral_knn": "spectral 10-NN"}  # the compact table's column names


def output_rows(scores: pd.DataFrame, tag: str | None, readout: str = OUTPUT[0]) -> pd.DataFrame:
    """The rows of what `scdefer train` outputs: a run_accuracy table's ``scdefer_k`` rows, or a
    pools (pick_rules) table's ``readout`` of ``tag``."""
    if "tag" not in scores:
        rows = scores[scores["method"] == "scdefer_k"]
    elif tag is None:
        raise SystemExit("a bench/pools.py table needs --tag")
    else:
        rows = scores[(scores["tag"] == tag) & (scores["readout"] == readout)
                      & (scores["rep"] == OUTPUT[1])]
    if rows.empty:
        raise SystemExit(f"no rows of what `scdefer train` outputs (tag {tag!r})")
    return rows


def per_dataset(rows: pd.DataFrame, accuracy: pd.DataFrame) -> pd.DataFrame:
    """One row per dataset: the output's ARI / NMI / sd over seeds and every baseline's means."""
    out = rows.groupby("dataset").agg(seeds=("seed", "nunique"), ARI=("ari", "mean"),
                                      NMI=("nmi", "mean"), sd=("ari", "std"))
    base = accuracy[accuracy["method"].isin(BASELINES)]
    base = base.groupby(["dataset", "method"])[["ari", "nmi"]].mean().unstack("method")
    for method in BASELINES:
        out[f"{method} ARI"] = base[("ari", method)]
        out[f"{method} NMI"] = base[("nmi", method)]
    out["best baseline ARI"] = out[[f"{m} ARI" for m in BASELINES]].max(axis=1)
    out["margin"] = out["ARI"] - out["best baseline ARI"]
    return out


def conditions(table: pd.DataFrame) -> list[tuple[str, str, bool]]:
    """(condition, measured, met) for each condition of the bar."""
    means = table.mean(numeric_only=True)
    best = max(BASELINES, key=lambda m: means[f"{m} ARI"])
    best_nmi = max(means[f"{m} NMI"] for m in BASELINES)
    ari_gain, nmi_gain = means["ARI"] - means[f"{best} ARI"], means["NMI"] - best_nmi
    worst = table["margin"].idxmin()
    return [
        (f"mean ARI >= best single baseline ({best}) + {MIN_ARI_GAIN}",
         f"{means['ARI']:.3f} vs {means[f'{best} ARI']:.3f} ({ari_gain:+.3f})",
         ari_gain >= MIN_ARI_GAIN),
        (f"mean NMI >= best single baseline's + {MIN_NMI_GAIN}",
         f"{means['NMI']:.3f} vs {best_nmi:.3f} ({nmi_gain:+.3f})", nmi_gain >= MIN_NMI_GAIN),
        (f"no dataset below its best baseline by more than {-WORST_MARGIN}",
         f"worst {table['margin'].min():+.3f} ({worst})", table["margin"].min() >= WORST_MARGIN),
        (f"mean seed sd of ARI <= {MAX_SEED_SD}", f"{means['sd']:.3f}", means["sd"] <= MAX_SEED_SD),
    ]


def compact(table: pd.DataFrame, accuracy: pd.DataFrame, head: pd.DataFrame | None) -> str:
    """The README's table: "ARI / NMI" per method, the DEC head (when its readouts are given) and
    scanpy's Leiden at resolution 1 (its own K; not a baseline of the bar) beside the output."""
    def pair(ari: pd.Series, nmi: pd.Series) -> pd.Series:
        return ari.map("{:.3f}".format) + " / " + nmi.map("{:.3f}".format)

    out = pd.DataFrame(index=table.index)
    out["scdefer (± ARI sd)"] = pair(table["ARI"], table["NMI"]) + table["sd"].map(" (±{:.3f})".format)
    if head is not None:
        dec = head[(head["readout"] == "dec") & (head["rep"] == "cluster_z")]
        dec = dec.groupby("dataset")[["ari", "nmi"]].mean()
        dec.loc[table.index[-1]] = dec.mean()
        out["DEC head"] = pair(dec["ari"], dec["nmi"])
    for method in BASELINES:
        out[NAMES[method]] = pair(table[f"{method} ARI"], table[f"{method} NMI"])
    res1 = accuracy[accuracy["method"] == "leiden_default"]
    res1 = res1.groupby("dataset")[["ari", "nmi"]].mean().reindex(table.index[:-1])
    res1.loc[table.index[-1]] = res1.mean()
    out["Leiden res. 1"] = pair(res1["ari"], res1["nmi"])
    out["margin (ARI)"] = table["margin"].map("{:+.3f}".format)
    return markdown(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scores", type=Path, help="bench/run_accuracy.py's scdefer_k rows, or a "
                        "bench/pools.py table (with --tag)")
    parser.add_argument("accuracy", type=Path, help="bench/run_accuracy.py's table (baselines)")
    parser.add_argument("--tag", help="the training tag to score (pools tables)")
    parser.add_argument("--readout", default=OUTPUT[0],
                        help=f"the output's readout in a pools table ({PICK_RULES_OUTPUT!r} in "
                        "a pick_rules.py table)")
    parser.add_argument("--head", type=Path, help="bench/readouts.py --quick table of the tag "
                        "(adds the DEC head to the compact table)")
    args = parser.parse_args()
    if args.head is not None and args.tag is None:
        parser.error("--head scores the DEC head of a training tag: give --tag too")
    accuracy = pd.read_csv(args.accuracy, sep="\t")
    table = per_dataset(output_rows(pd.read_csv(args.scores, sep="\t"), args.tag, args.readout), accuracy)
    table.loc["**mean**"] = table.mean(numeric_only=True)
    table["seeds"] = table["seeds"].astype(int)  # the mean row: the fewest seeds of any set
    table.loc["**mean**", "seeds"] = table["seeds"].iloc[:-1].min()
    source = f"`{args.tag}`" if args.tag else "the package"
    print(f"## {source}: what `scdefer train` outputs (K given) against the baselines\n")
    print(f"From `{args.scores.name}`. ARI / NMI are means over seeds, `sd` the sd of ARI over "
          f"seeds; baselines from `{args.accuracy.name}`.\n")
    print(markdown(table))
    print("\n## The bar\n")
    print("| condition | measured | met |\n|---|---|---|")
    for condition, measured, met in conditions(table.iloc[:-1]):
        print(f"| {condition} | {measured} | {'yes' if met else '**no**'} |")
    print("\n## Compact (the README's table: ARI / NMI, means over seeds)\n")
    head = None if args.head is None else pd.read_csv(args.head, sep="\t")
    print(compact(table, accuracy, None if head is None else head[head["tag"] == args.tag]))


if __name__ == "__main__":
    main()
