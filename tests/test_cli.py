"""The installed ``scdefer`` command: every subcommand, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import anndata as ad
import pytest
from conftest import scdefer_cli

import scdefer

TINY = ["--pretrain-epochs", "20", "--epochs", "5", "--batch-size", "0", "--device", "cpu",
        "--quiet"]


def test_version_and_help() -> None:
    out = scdefer_cli("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"scdefer {scdefer.__version__}"
    for command in ("preprocess", "train", "evaluate", "predict", "simulate", "run"):
        res = scdefer_cli(command, "--help")
        assert res.returncode == 0, res.stderr
        assert "--output" in res.stdout
        quiet = next(line for line in res.stdout.splitlines() if "--quiet" in line)
        assert "<bool>" not in quiet  # a flag takes no value, so --help shows no placeholder


@pytest.mark.parametrize("command", ["train", "run"])
def test_training_options_and_their_defaults_are_documented(command: str) -> None:
    text = " ".join(scdefer_cli(command, "--help").stdout.replace("│", " ").split())
    from scdefer._spec import default_text
    from scdefer.params import SCHEDULES

    for option in ("--n-clusters", "--schedule", "--zinb-target", "--target-update", "--seed"):
        assert option in text
    for name in SCHEDULES["fast"]:  # every schedule-set option shows both schedules' values
        if name.endswith("tol") and name != "tol":
            continue  # pretrain_tol is API only
        assert f"(default: {default_text(name, None, SCHEDULES)})" in text, name


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> Path:
    """simulate -> preprocess -> train -> evaluate -> predict through the CLI."""
    d = tmp_path_factory.mktemp("cli")
    steps = [
        ["simulate", "-o", str(d / "sim.h5ad"), "--n-cells", "240", "--n-genes", "300",
         "--n-groups", "3", "--seed", "2"],
        ["preprocess", str(d / "sim.h5ad"), "-o", str(d / "prep.h5ad"), "--n-top-genes", "200",
         "--n-pcs", "20"],
        ["train", str(d / "prep.h5ad"), "-o", str(d / "clustered.h5ad"), "--model-dir",
         str(d / "model"), "--n-clusters", "3", "--seed", "0", "--threads", "2", *TINY],
        ["evaluate", str(d / "clustered.h5ad"), "--label-key", "group", "-o", str(d / "report")],
        ["predict", str(d / "sim.h5ad"), "--model-dir", str(d / "model"), "-o",
         str(d / "predicted.h5ad"), "--device", "cpu"],
    ]
    for step in steps:
        res = scdefer_cli(*step)
        assert res.returncode == 0, f"{step[0]} failed: {res.stderr}"
    return d


def test_cli_outputs(pipeline: Path) -> None:
    clustered = ad.read_h5ad(pipeline / "clustered.h5ad")
    assert clustered.obsm["X_scdefer"].shape[1] == 24
    assert clustered.obs["scdefer"].dtype == "category"
    assert "counts" in clustered.layers and "scdefer_proba" in clustered.obsm
    record = clustered.uns["scdefer"]
    assert record["seed"] == 0 and record["train"]["n_clusters"] == 3
    assert "torch" in record["versions"] and "preprocess" in record
    metrics = json.loads((pipeline / "report" / "metrics.json").read_text())
    assert {"nmi", "ari", "acc"} <= set(metrics) and metrics["ari"] > 0.5
    predicted = ad.read_h5ad(pipeline / "predicted.h5ad")
    assert list(predicted.var_names) == list(clustered.var_names)
    assert "X_scdefer" in predicted.obsm


def test_run_without_input_simulates_and_evaluates(tmp_path: Path) -> None:
    res = scdefer_cli("run", "-o", str(tmp_path / "out"), "--device", "cpu", "--quiet")
    assert res.returncode == 0, res.stderr
    assert "ARI" in res.stdout
    metrics = json.loads((tmp_path / "out" / "report" / "metrics.json").read_text())
    assert metrics["label_key"] == "group" and metrics["ari"] > 0.8
    assert (tmp_path / "out" / "model" / "model.pt").is_file()


def _one_line_error(res, code: int = 2) -> str:
    assert res.returncode == code, (res.stdout, res.stderr)
    lines = [line for line in res.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("scdefer: error:") and "Traceback" not in res.stderr
    return lines[0]


def test_bad_inputs_give_one_line_and_exit_2(tmp_path: Path, sim_file: Path) -> None:
    out = tmp_path / "o.h5ad"
    assert "not found" in _one_line_error(scdefer_cli("preprocess", "missing.h5ad", "-o", str(out)))
    bad = tmp_path / "bad.h5ad"
    bad.write_bytes(b"garbage")
    assert "cannot read" in _one_line_error(scdefer_cli("preprocess", str(bad), "-o", str(out)))
    assert "not preprocessed" in _one_line_error(
        scdefer_cli("train", str(sim_file), "-o", str(out), *TINY))
    assert "n-clusters" in _one_line_error(
        scdefer_cli("train", str(sim_file), "-o", str(out), "--n-clusters", "many"))
    assert "overwrite the input" in _one_line_error(
        scdefer_cli("preprocess", str(sim_file), "-o", str(sim_file)))
    assert "label column" in _one_line_error(
        scdefer_cli("evaluate", str(sim_file), "--label-key", "nope", "-o", str(tmp_path / "r")))
    assert "no model.pt" in _one_line_error(
        scdefer_cli("predict", str(sim_file), "--model-dir", str(tmp_path), "-o", str(out)))
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.h5ad"]  # nothing half-written


def test_non_count_input_exit_2(tmp_path: Path, sim_counts: ad.AnnData) -> None:
    adata = sim_counts[:60].copy()
    adata.X = adata.X.toarray() * 0.5 + 0.01
    adata.write_h5ad(tmp_path / "tpm.h5ad")
    line = _one_line_error(scdefer_cli("preprocess", str(tmp_path / "tpm.h5ad"), "-o",
                                       str(tmp_path / "p.h5ad")))
    assert "--input-kind" in line
    res = scdefer_cli("preprocess", str(tmp_path / "tpm.h5ad"), "-o", str(tmp_path / "p.h5ad"),
                      "--input-kind", "normalized", "--n-pcs", "10")
    assert res.returncode == 0, res.stderr
    # no counts: the default Pearson-residual input, and a ZINB term on counts when it is on,
    # are refused in one line that names what to use instead ...
    train = ("train", str(tmp_path / "p.h5ad"), "-o", str(tmp_path / "t.h5ad"), "--n-clusters",
             "2", "--pretrain-epochs", "1", "--epochs", "1", "--final-assignment", "dec")
    for extra, fix in (((), "use --encoder-input lognorm"),
                       (("--weight-zinb", "0.1"), "use --zinb-target lognorm --encoder-input "
                                                  "lognorm")):
        res = scdefer_cli(*train, *extra)
        errors = [line for line in res.stderr.splitlines() if line.startswith("scdefer: error:")]
        assert res.returncode == 2 and len(errors) == 1
        assert errors[0].endswith(fix)
        assert not (tmp_path / "t.h5ad").exists()
    # ... and train on the log-normalised values when told so
    res = scdefer_cli(*train, "--zinb-target", "lognorm", "--encoder-input", "lognorm")
    assert res.returncode == 0, res.stderr


def test_usage_error_exit_2(sim_file: Path) -> None:
    """click's own usage errors read like every other bad input: one line, exit 2."""
    assert "Missing argument" in _one_line_error(scdefer_cli("train"))
    assert "No such command" in _one_line_error(scdefer_cli("cluster"))
    # an existing input, so that only the choice can fail
    line = _one_line_error(scdefer_cli("train", str(sim_file), "-o", "y.h5ad", "--device", "tpu"))
    assert "tpu" in line and "scdefer train --help" in line and "Value error" not in line
    line = _one_line_error(scdefer_cli("train", str(sim_file), "-o", "y.h5ad", "--schedule", "x"))
    assert "--schedule" in line and "not preprocessed" not in line


@pytest.mark.parametrize("options,expected", [
    (["--dropout", "2"], "--dropout must be within [0, 1), got 2.0"),
    (["--lr", "-1"], "--lr must be positive, got -1.0"),
    (["--hops", "0"], "--hops must be at least 1, got 0"),
    (["--n-clusters", "1"], "--n-clusters must be at least 2 or auto, got 1"),
    (["--n-clusters", "200"], "--n-clusters 200 is more than half of the 240 cells"),
    (["--device", "cuda"], "--device cuda: no GPU is visible"),
])
def test_bad_training_option_one_line_nothing_written(tmp_path: Path, pipeline: Path,
                                                      options: list[str], expected: str) -> None:
    import torch

    if "cuda" in options and torch.cuda.is_available():
        pytest.skip("a GPU is visible")
    out = tmp_path / "c.h5ad"
    line = _one_line_error(scdefer_cli("train", str(pipeline / "prep.h5ad"), "-o", str(out),
                                       *TINY[:-3], "--quiet", *options))
    assert expected in line
    assert not out.exists()


def test_too_few_genes_after_filtering(tmp_path: Path, sim_counts: ad.AnnData) -> None:
    sim_counts[:, :40].copy().write_h5ad(tmp_path / "few.h5ad")
    line = _one_line_error(scdefer_cli("preprocess", str(tmp_path / "few.h5ad"), "-o",
                                       str(tmp_path / "p.h5ad")))
    assert "only 40 genes left after filtering (at least 50 are needed)" in line
    assert not (tmp_path / "p.h5ad").exists()


def test_duplicate_names_warn_once(tmp_path: Path, sim_counts: ad.AnnData) -> None:
    adata = sim_counts.copy()
    adata.obs_names = ["x"] * 2 + list(adata.obs_names[2:])
    adata.write_h5ad(tmp_path / "dup.h5ad")
    res = scdefer_cli("preprocess", str(tmp_path / "dup.h5ad"), "-o", str(tmp_path / "p.h5ad"),
                      "--n-top-genes", "200", "--n-pcs", "20", "--quiet")
    assert res.returncode == 0, res.stderr
    assert res.stderr.strip().splitlines() == [
        "scdefer: warning: 1 duplicate cell names made unique (suffixes -1, -2, ...)"]


def test_train_summary_counts_clusters_left_without_cells() -> None:
    from scdefer.cli import cluster_count_summary

    assert cluster_count_summary([0, 1, 2, 1], 3) == "3 clusters"
    assert cluster_count_summary([0, 2, 2, 0], 5) == "5 clusters, 3 of them emptied out in training"
