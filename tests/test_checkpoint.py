"""A training run killed mid-way resumes from its checkpoint and ends as an uninterrupted one."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import anndata as ad
import numpy as np
import pytest
from conftest import TINY_TRAIN, scdefer_cli

import scdefer
from scdefer.train._checkpoint import CHECKPOINT_FILE, PROGRESS_FILE

TRAIN = ("--n-clusters", "3", "--pretrain-epochs", "8", "--epochs", "8", "--tol", "0",
         "--threads", "1", "--quiet")


@pytest.fixture(scope="module")
def prepared_file(tmp_path_factory: pytest.TempPathFactory, sim_prepared: ad.AnnData) -> Path:
    path = tmp_path_factory.mktemp("ckpt") / "prep.h5ad"
    sim_prepared.write_h5ad(path)
    return path


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory, prepared_file: Path) -> ad.AnnData:
    out = tmp_path_factory.mktemp("ckpt_ref") / "out.h5ad"
    done = scdefer_cli("train", str(prepared_file), "-o", str(out), *TRAIN)
    assert done.returncode == 0, done.stderr
    return ad.read_h5ad(out)


def _kill_at(command: list[str], progress: Path, phase: str, epoch: int) -> None:
    """Start ``command`` and SIGKILL it once its checkpoint reached ``phase`` ``epoch``."""
    exe = Path(sys.executable).parent / "scdefer"
    process = subprocess.Popen([str(exe if exe.exists() else shutil.which("scdefer")), *command],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=dict(os.environ, OMP_NUM_THREADS="1"))
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline:
            if progress.is_file():
                try:
                    state = json.loads(progress.read_text())
                except json.JSONDecodeError:  # caught while being written
                    state = {}
                if state.get("phase") == phase and state.get("epoch", 0) >= epoch:
                    process.send_signal(signal.SIGKILL)
                    break
            assert process.poll() is None, f"training ended before {phase} epoch {epoch}"
            time.sleep(0.01)
    finally:
        process.kill()
        process.wait()


@pytest.mark.parametrize("phase", ["pretrain", "cluster"])
def test_killed_training_resumes_to_the_same_labels(tmp_path: Path, prepared_file: Path,
                                                   uninterrupted: ad.AnnData, phase: str) -> None:
    out, checkpoints = tmp_path / "out.h5ad", tmp_path / "ckpt"
    command = ["train", str(prepared_file), "-o", str(out), *TRAIN,
               "--checkpoint-dir", str(checkpoints), "--checkpoint-every", "0"]
    _kill_at(command, checkpoints / PROGRESS_FILE, phase, 3)
    assert not out.exists()  # killed before writing anything
    assert (checkpoints / CHECKPOINT_FILE).is_file()
    killed_at = json.loads((checkpoints / PROGRESS_FILE).read_text())
    assert killed_at["phase"] == phase and 3 <= killed_at["epoch"] < 8

    resumed = scdefer_cli(*command)
    assert resumed.returncode == 0, resumed.stderr
    result = ad.read_h5ad(out)
    assert np.array_equal(result.obs["scdefer"].to_numpy(),
                          uninterrupted.obs["scdefer"].to_numpy())
    np.testing.assert_allclose(result.obsm["X_scdefer"], uninterrupted.obsm["X_scdefer"],
                               atol=1e-5)


def test_checkpoint_of_other_settings_is_refused(tmp_path: Path,
                                                 sim_prepared: ad.AnnData) -> None:
    checkpoints = tmp_path / "ckpt"
    scdefer.ScDefer(n_clusters=3, **TINY_TRAIN).fit(sim_prepared, checkpoint_dir=checkpoints,
                                                    checkpoint_every=0)
    assert (checkpoints / CHECKPOINT_FILE).is_file()
    other = dict(TINY_TRAIN, lr=1e-3)
    with pytest.raises(scdefer.ScDeferInputError, match="other cells or settings"):
        scdefer.ScDefer(n_clusters=3, **other).fit(sim_prepared, checkpoint_dir=checkpoints)


def test_finished_checkpoint_gives_the_same_result_again(tmp_path: Path,
                                                         sim_prepared: ad.AnnData) -> None:
    first = scdefer.ScDefer(n_clusters=3, **TINY_TRAIN).fit(
        sim_prepared, checkpoint_dir=tmp_path, checkpoint_every=0)
    again = scdefer.ScDefer(n_clusters=3, **TINY_TRAIN).fit(
        sim_prepared, checkpoint_dir=tmp_path, checkpoint_every=0)
    assert np.array_equal(first.result.labels, again.result.labels)
    assert again.result.epochs_run == first.result.epochs_run


def test_negative_interval_is_one_error_line(tmp_path: Path, prepared_file: Path) -> None:
    done = scdefer_cli("train", str(prepared_file), "-o", str(tmp_path / "o.h5ad"),
                       "--checkpoint-every", "-1")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "scdefer: error: --checkpoint-every must be >= 0 seconds, got -1.0"]
    assert not (tmp_path / "o.h5ad").exists()
