#!/usr/bin/env python3
"""Gather per-sample metrics.json files into one TSV: scdefer_merge_metrics.py OUT.tsv SAMPLE=FILE ..."""

import json
import sys

COLUMNS = ("nmi", "ari", "acc", "n_clusters_found", "n_clusters_true", "n_cells", "label_key")


def main(out_path: str, pairs: list[str]) -> None:
    rows = []
    for pair in sorted(pairs):
        sample, _, path = pair.partition("=")
        with open(path) as handle:
            metrics = json.load(handle)
        rows.append([sample] + [str(metrics.get(c, "")) for c in COLUMNS])
    with open(out_path, "w") as handle:
        handle.write("\t".join(("sample",) + COLUMNS) + "\n")
        for row in rows:
            handle.write("\t".join(row) + "\n")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: scdefer_merge_metrics.py OUT.tsv SAMPLE=metrics.json ...")
    main(sys.argv[1], sys.argv[2:])
