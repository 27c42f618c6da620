#!/usr/bin/env python
"""One table of training probes against the default on the same seeds, from pick_rules.py tables.

Each probe is a ``pick_rules.py`` table of ``diagnose.py`` runs made with one changed option. Per
dataset, the ARI of what the package would output (readout ``cur/medoid``) for the default (the
base table's rows of ``--base-tag``) and for each probe, on the seeds the probe ran; then the
means of ARI, NMI, the head's ARI (``candidate:dec``) and the output's small-class recall.

    python bench/compare_probes.py bench/results/pick_rules_nn5.tsv ... > bench/results/probes.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lodo import markdown

OUTPUT = "cur/medoid"  # the package's final labels in pick_rules.py's tables
HEAD = "candidate:dec"


def load(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t")


def probe_rows(probe: pd.DataFrame, base: pd.DataFrame) -> pd.DataFrame:
    """The probe's and the default's rows of the same (dataset, seed) pairs, side by side."""
    return probe.merge(base, on=["dataset", "seed", "readout"], suffixes=("", "_base"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("probes", nargs="+", type=Path, help="pick_rules.py tables, one per probe")
    parser.add_argument("--base", type=Path, default=Path("bench/results/pick_rules.tsv"))
    parser.add_argument("--base-tag", default="rules")
    args = parser.parse_args()

    base = load(args.base)
    base = base[base.tag == args.base_tag]
    probes = [load(path) for path in args.probes]
    seeds = sorted(set().union(*(probe.seed.unique() for probe in probes)))
    default = base[(base.readout == OUTPUT) & base.seed.isin(seeds)]
    per_dataset = {"default": default.groupby("dataset").ari.mean()}
    summary = []
    for probe in probes:
        tag = "/".join(sorted(probe.tag.unique()))
        both = probe_rows(probe, base)
        out, head = both[both.readout == OUTPUT], both[both.readout == HEAD]
        per_dataset[tag] = out.groupby("dataset").ari.mean()
        summary.append({
            "probe": tag, "seeds": " ".join(map(str, sorted(out.seed.unique()))),
            "runs": len(out),
            "ARI": out.ari.mean(), "default ARI": out.ari_base.mean(),
            "NMI": out.nmi.mean(), "default NMI": out.nmi_base.mean(),
            "head ARI": head.ari.mean(), "default head ARI": head.ari_base.mean(),
            "small recall": out.small_recall.mean(),
            "default small recall": out.small_recall_base.mean(),
            "higher on": f"{int((out.ari > out.ari_base + 0.005).sum())} of {len(out)}",
            "lower on": f"{int((out.ari < out.ari_base - 0.005).sum())} of {len(out)}",
        })
    print(f"## Probes against the default (`{args.base}`, tag `{args.base_tag}`), same seeds\n")
    print("What the package would output (`cur/medoid`); higher / lower: runs more than 0.005 ARI"
          " apart.\n")
    print(markdown(pd.DataFrame(summary).round(3), index=False))
    print(f"\n## ARI of the output per dataset (mean over the probe's seeds; default: seeds "
          f"{' '.join(map(str, seeds))})\n")
    print(markdown(pd.DataFrame(per_dataset).round(3)))


if __name__ == "__main__":
    main()
