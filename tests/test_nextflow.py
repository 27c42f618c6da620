"""The real Nextflow (pinned, from Maven Central jars) running main.nf with the installed scdefer."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import scdefer

ROOT = Path(__file__).resolve().parents[1]
NEXTFLOW = ROOT / "scripts" / "nextflow"
sys.path.insert(0, str(ROOT / "scripts"))
from check_pipeline_outputs import check_outputs  # noqa: E402

pytestmark = [
    pytest.mark.nextflow,
    pytest.mark.skipif(shutil.which("java") is None or shutil.which("mvn") is None,
                       reason="Java and Maven are needed to fetch and run Nextflow"),
]


def nextflow(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the pipeline's Nextflow with this environment's scdefer first on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["NXF_ANSI_LOG"] = "false"
    env.setdefault("NXF_HOME", str(ROOT / ".ci" / "cache" / "nxf_home"))
    return subprocess.run([str(NEXTFLOW), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=1800)


@pytest.fixture(scope="module")
def test_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """`nextflow run main.nf -profile test` once, shared by the assertions below."""
    work = tmp_path_factory.mktemp("nf")
    res = nextflow("run", str(ROOT / "main.nf"), "-profile", "test", "--outdir",
                   str(work / "results"), "--trace_report_suffix", "run1", cwd=work)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return work, res


def test_pipeline_outputs(test_run) -> None:
    work, _ = test_run
    check_outputs(work / "results")
    versions = (work / "results" / "pipeline_info" / "software_versions.yml").read_text()
    assert f"scdefer: {scdefer.__version__}" in versions


def test_resume_reruns_nothing(test_run) -> None:
    work, _ = test_run
    res = nextflow("run", str(ROOT / "main.nf"), "-profile", "test", "--outdir",
                   str(work / "results"), "-resume", "--trace_report_suffix", "run2", cwd=work)
    assert res.returncode == 0, res.stderr[-3000:]
    trace = (work / "results" / "pipeline_info" / "execution_trace_run2.txt").read_text()
    rows = list(csv.DictReader(trace.splitlines(), delimiter="\t"))
    assert len(rows) == 7
    assert {r["status"] for r in rows} == {"CACHED"}, [(r["name"], r["status"]) for r in rows]


def test_model_labels_every_sample_without_training(test_run) -> None:
    """--model DIR: the first run's model of sample sim_a labels both samples (predict only)."""
    import anndata as ad

    work, _ = test_run
    model = work / "results" / "scdefer" / "sim_a_scdefer_model"
    out = work / "predicted"
    res = nextflow("run", str(ROOT / "main.nf"), "-profile", "test", "--outdir", str(out),
                   "--model", str(model), "--trace_report_suffix", "model", cwd=work)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    trace = (out / "pipeline_info" / "execution_trace_model.txt").read_text()
    names = [r["name"].split(" ")[0] for r in csv.DictReader(trace.splitlines(), delimiter="\t")]
    assert "SCDEFER_TRAIN" not in " ".join(names) and "SCDEFER_PREPROCESS" not in " ".join(names)
    assert sum("SCDEFER_PREDICT" in n for n in names) == 2
    trained = ad.read_h5ad(work / "results" / "scdefer" / "sim_a_scdefer.h5ad")
    predicted = ad.read_h5ad(out / "predict" / "sim_a_scdefer.h5ad")
    assert list(predicted.obs["scdefer"].cat.categories) == list(trained.obs["scdefer"].cat.categories)
    same = predicted.obs["scdefer"].loc[trained.obs_names].astype(str) == trained.obs["scdefer"].astype(str)
    assert same.mean() >= 0.99
    assert (out / "all_metrics.tsv").exists()


def test_stub_run(tmp_path: Path) -> None:
    res = nextflow("run", str(ROOT / "main.nf"), "-profile", "test", "-stub-run", "--outdir",
                   str(tmp_path / "results"), cwd=tmp_path)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert (tmp_path / "results" / "scdefer" / "sim_a_scdefer.h5ad").exists()
    assert (tmp_path / "results" / "all_metrics.tsv").exists()


@pytest.mark.parametrize("sheet,expected", [
    ("sample,input\nA,missing.h5ad\n", "row 2, column 'input': file not found"),
    ("sample,input\nA,{a}\nA,{b}\n", "row 3, column 'sample': duplicate sample 'A'"),
    ("sample,input,colour\nA,{a},red\n", "unknown column(s) 'colour'"),
    ("sample,input,n_clusters\nA,{a},many\n", "row 2, column 'n_clusters': 'many'"),
    ("sample,input\nA B,{a}\n", "row 2, column 'sample'"),
])
def test_bad_samplesheet_fails_before_any_task(tmp_path: Path, sheet: str, expected: str) -> None:
    data = ROOT / "tests" / "data"
    path = tmp_path / "samples.csv"
    path.write_text(sheet.format(a=data / "sim_a.h5ad", b=data / "sim_b.h5ad"))
    res = nextflow("run", str(ROOT / "main.nf"), "--input", str(path), "--outdir",
                   str(tmp_path / "results"), cwd=tmp_path)
    assert res.returncode != 0
    assert expected in res.stdout + res.stderr, res.stdout[-2000:] + res.stderr[-2000:]
    assert not (tmp_path / "work").exists() or not any((tmp_path / "work").iterdir())


def test_bad_parameter_fails_fast(tmp_path: Path) -> None:
    res = nextflow("run", str(ROOT / "main.nf"), "-profile", "test", "--outdir",
                   str(tmp_path / "r"), "--n_clusterz", "3", cwd=tmp_path)
    assert res.returncode != 0 and "unknown parameter --n_clusterz" in res.stdout + res.stderr


def test_schema_and_config_agree() -> None:
    """Every param in nextflow.config is in nextflow_schema.json with the same default, and back."""
    schema = json.loads((ROOT / "nextflow_schema.json").read_text())
    props = {k: v for d in schema["$defs"].values() for k, v in d["properties"].items()}
    config = (ROOT / "nextflow.config").read_text().split("params {", 1)[1].split("\n}", 1)[0]
    params = {}
    for line in config.splitlines():
        line = line.split("//")[0].strip()
        if "=" in line:
            name, value = (s.strip() for s in line.split("=", 1))
            params[name] = value
    assert set(params) == set(props)
    for name, value in params.items():
        if name == "trace_report_suffix":
            continue
        literal = json.loads(value.replace("'", '"')) if value not in ("null",) else None
        assert props[name].get("default") == literal, name
