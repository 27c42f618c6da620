#!/usr/bin/env python
"""Check what `nextflow run main.nf -profile test` published (used by the tests and CI's container run).

    python scripts/check_pipeline_outputs.py RESULTS_DIR [WORK_DIR]

With WORK_DIR, also check that every task ran inside a container (podman, docker, singularity or
apptainer). Exits 1 with the failed check on stderr.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

SAMPLES = ("sim_a", "sim_b")
ENGINES = ("podman run", "docker run", "singularity exec", "apptainer exec")


def check_outputs(results: Path, samples: tuple[str, ...] = SAMPLES) -> None:
    """Assert the published h5ad, model, report and merged metrics of every sample."""
    import anndata as ad

    for sample in samples:
        clustered = ad.read_h5ad(results / "scdefer" / f"{sample}_scdefer.h5ad")
        assert "X_scdefer" in clustered.obsm and "scdefer_proba" in clustered.obsm, sample
        assert clustered.obs["scdefer"].dtype == "category", sample
        assert "scdefer" in clustered.uns and "counts" in clustered.layers, sample
        assert (results / "scdefer" / f"{sample}_scdefer_model" / "model.pt").is_file(), sample
        assert (results / "preprocess" / f"{sample}_prep.h5ad").is_file(), sample
        report = results / "evaluate" / f"{sample}_report"
        assert json.loads((report / "metrics.json").read_text())["n_cells"] > 0, sample
        assert (report / "umap.png").stat().st_size > 0, sample
    with (results / "all_metrics.tsv").open() as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert [r["sample"] for r in rows] == list(samples), rows
    assert max(float(r["ari"]) for r in rows) > 0.2, rows  # chance is ~0
    versions = (results / "pipeline_info" / "software_versions.yml").read_text()
    assert "SCDEFER_TRAIN" in versions and "scdefer: " in versions, versions


def check_containerised(work: Path) -> int:
    """Assert that every task's launcher runs its script in a container; return the task count."""
    launchers = sorted(work.glob("*/*/.command.run"))
    assert launchers, f"no task in {work}"
    bare = [str(p.parent) for p in launchers if not any(e in p.read_text() for e in ENGINES)]
    assert not bare, f"tasks outside a container: {bare}"
    return len(launchers)


def main() -> None:
    results = Path(sys.argv[1])
    try:
        check_outputs(results)
        if len(sys.argv) > 2:
            print(f"{check_containerised(Path(sys.argv[2]))} tasks, all in a container")
    except (AssertionError, OSError, KeyError) as exc:
        print(f"pipeline outputs: check failed: {exc}", file=sys.stderr)
        sys.exit(1)
    print(f"pipeline outputs in {results}: ok")


if __name__ == "__main__":
    main()
