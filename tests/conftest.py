"""Shared fixtures: tiny simulated data, the shared real datasets, the installed CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import anndata as ad
import pytest

import scdefer

warnings.filterwarnings("ignore", category=FutureWarning)

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

# Small enough to train in seconds on a 2-core CPU.
TINY_TRAIN = dict(pretrain_epochs=3, epochs=2, hidden=(64, 16, 8), decoder_hidden=(16, 64),
                  batch_size=0, progress=False, device="cpu")


@pytest.fixture(scope="session")
def sim_counts() -> ad.AnnData:
    """300 cells x 400 genes in 3 well separated groups (truth in obs['group'])."""
    return scdefer.simulate(300, 400, 3, seed=1)


@pytest.fixture(scope="session")
def sim_prepared(sim_counts: ad.AnnData) -> ad.AnnData:
    """The simulated data, preprocessed with 200 HVGs."""
    return scdefer.preprocess(sim_counts, scdefer.PreprocessParams(n_top_genes=200, n_pcs=20))


@pytest.fixture(scope="session")
def sim_file(tmp_path_factory: pytest.TempPathFactory, sim_counts: ad.AnnData) -> Path:
    """The simulated counts written as .h5ad."""
    path = tmp_path_factory.mktemp("sim") / "sim.h5ad"
    sim_counts.write_h5ad(path)
    return path


def shared_dataset(name: str) -> Path:
    """Path of a dataset of ../shared/data, or skip the test when it is absent."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"{path} not available")
    return path


def scdefer_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed ``scdefer`` entry point."""
    beside = Path(sys.executable).parent / "scdefer"
    exe = str(beside) if beside.exists() else shutil.which("scdefer")
    assert exe is not None, "the scdefer console script is not installed on PATH"
    env = dict(os.environ, OMP_NUM_THREADS="2")
    return subprocess.run([exe, *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=900)
