#!/usr/bin/env python
"""Leave-one-dataset-out choice of the final assignment, against the baselines' best.

For each dataset left out, the ``--final-assignment`` option (its readout in
``bench/readouts.py``) with the best mean ARI over the OTHER datasets is chosen, and its score on
the left-out dataset is reported: a choice that never saw the dataset it is scored on. Every other
readout is listed too, as a diagnostic, but cannot be chosen (no option outputs it). The
baselines come from ``bench/run_accuracy.py`` (scanpy's standard pipeline, true K).

    python bench/lodo.py bench/results/diagnose.tsv bench/results/accuracy.tsv > bench/results/lodo.md

``--choose`` names other choosable candidates (``readout:rep``), e.g. the ensemble designs of
``bench/pools.py``::

    python bench/lodo.py bench/results/pools.tsv bench/results/accuracy.tsv \
        --choose cur+votes:cluster_z cur+scaled+pearson+votes:cluster_z

Several readout tables may be given (the accuracy table comes last): their candidates compete
together, e.g. two training configurations' ``final`` labels (``readouts.py --quick``)::

    python bench/lodo.py bench/results/diagnose_attn512.tsv bench/results/diagnose_noattn.tsv \
        bench/results/accuracy.tsv

``--seeds`` keeps only those seeds' rows, to compare configurations run on fewer seeds than others.
"""

from __future__ import annotations

import pandas as pd

BASELINES = ("leiden_at_k", "kmeans_pcs", "spectral_knn")
# What `--final-assignment` can output (readout:representation): only these can become a default.
# The other readouts (e.g. on the PCA alone) are diagnostics, listed but never chosen.
OPTIONS = {"dec:cluster_z": "dec", "kmeans+means:cluster_z": "kmeans",
           "spectral+means:cluster_z": "spectral", "leiden_at_k+means:cluster_z": "leiden",
           "consensus+means:cluster_z": "consensus", "ensemble+means:cluster_z": "ensemble",
           "final:output": "what training output (its --final-assignment)"}


def markdown(frame: pd.DataFrame, index: bool = True) -> str:
    """A pipe table (pandas' to_markdown needs tabulate, which is not a dependency); NaN: "—"."""
    frame = frame.reset_index() if index else frame
    cells = [["—" if isinstance(v, float) and v != v else f"{v:.3f}" if isinstance(v, float)
              else str(v) for v in row]
             for row in frame.itertuples(index=False)]
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |",
             "|" + "---|" * len(frame.columns)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells])


def main(readouts_paths: list[str], accuracy_path: str, choose: list[str] | None = None,
         seeds: list[int] | None = None) -> None:
    readouts = pd.concat([pd.read_csv(path, sep="\t") for path in readouts_paths])
    if seeds is not None:
        readouts = readouts[readouts["seed"].isin(seeds)]
    # "final" rows name the partition training chose in "rep": one candidate whatever it chose
    readouts.loc[readouts["readout"] == "final", "rep"] = "output"
    readouts["candidate"] = readouts["tag"] + ":" + readouts["readout"] + ":" + readouts["rep"]
    per = readouts.groupby(["candidate", "dataset"]).agg(
        ari=("ari", "mean"), nmi=("nmi", "mean"), sd=("ari", "std"), seeds=("seed", "nunique"))
    per = per.reset_index()
    datasets = sorted(per["dataset"].unique())
    complete = per.groupby("candidate")["dataset"].nunique()
    per = per[per["candidate"].isin(complete[complete == len(datasets)].index)]

    base = pd.read_csv(accuracy_path, sep="\t")
    base = base[base["method"].isin(BASELINES) & base["dataset"].isin(datasets)]
    base = base.groupby(["method", "dataset"])[["ari", "nmi"]].mean().reset_index()
    best_single = base.groupby("method")[["ari", "nmi"]].mean()
    best_per_dataset = base.groupby("dataset")["ari"].max()

    choosable = per[per["candidate"].str.split(":", n=1).str[1].isin(choose or OPTIONS)]
    rows = []
    for left_out in datasets:
        train = choosable[choosable["dataset"] != left_out].groupby("candidate")["ari"].mean()
        chosen = train.idxmax()
        test = per[(per["candidate"] == chosen) & (per["dataset"] == left_out)].iloc[0]
        rows.append({"left out": left_out, "chosen on the others": chosen,
                     "ARI": test["ari"], "NMI": test["nmi"], "ARI sd": test["sd"],
                     "seeds": test["seeds"], "best baseline ARI": best_per_dataset.get(left_out),
                     "margin": test["ari"] - best_per_dataset.get(left_out, float("nan"))})
    lodo = pd.DataFrame(rows)
    print(f"## Leave-one-dataset-out ({len(datasets)} datasets)\n")
    print(markdown(lodo, index=False))
    print(f"\nLODO mean ARI {lodo['ARI'].mean():.3f}, NMI {lodo['NMI'].mean():.3f}; worst margin "
          f"to the dataset's best baseline {lodo['margin'].min():+.3f}\n")
    print("## Baselines (true K, mean over seeds and datasets)\n")
    print(markdown(best_single))
    print("\n## Every candidate: mean over datasets (ARI, NMI), worst margin to the best baseline\n")
    table = per.pivot_table(index="candidate", columns="dataset", values="ari")
    summary = pd.DataFrame({
        "mean ARI": table.mean(axis=1),
        "mean NMI": per.groupby("candidate")["nmi"].mean(),
        "worst margin": (table - best_per_dataset[table.columns]).min(axis=1),
        "mean ARI sd": per.groupby("candidate")["sd"].mean(),
    }).sort_values("mean ARI", ascending=False)
    print(markdown(summary))
    print("\n## Per dataset (ARI, mean over seeds)\n")
    wide = table.loc[summary.index]
    for method in BASELINES:
        wide.loc[f"baseline:{method}"] = base[base["method"] == method].set_index("dataset")["ari"]
    print(markdown(wide))


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tables", nargs="+", help="readout tables, then the accuracy table")
    parser.add_argument("--choose", nargs="+", metavar="READOUT:REP",
                        help="the candidates that may be chosen (default: the "
                             "--final-assignment options)")
    parser.add_argument("--seeds", type=int, nargs="+",
                        help="only these seeds' readout rows (default: all)")
    args = parser.parse_args()
    main(args.tables[:-1], args.tables[-1], args.choose, args.seeds)
