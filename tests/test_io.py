"""Round trips through every input format, and unreadable inputs."""

from __future__ import annotations

import gzip
from pathlib import Path

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.io
import scipy.sparse as sp

from scdefer import ScDeferInputError, read_input
from scdefer.io import atomic_directory, write_h5ad_atomic


@pytest.fixture()
def small(sim_counts: ad.AnnData) -> ad.AnnData:
    return sim_counts[:25, :12].copy()


def _same(a: ad.AnnData, b: ad.AnnData) -> None:
    assert a.shape == b.shape
    np.testing.assert_array_equal(sp.csr_matrix(a.X).toarray(), sp.csr_matrix(b.X).toarray())
    assert list(a.obs_names) == list(b.obs_names)
    assert list(a.var_names) == list(b.var_names)


def test_h5ad(tmp_path: Path, small: ad.AnnData) -> None:
    small.write_h5ad(tmp_path / "x.h5ad")
    _same(read_input(tmp_path / "x.h5ad"), small)


@pytest.mark.parametrize("name,sep", [("x.csv", ","), ("x.tsv", "\t"), ("x.csv.gz", ","),
                                      ("x.tsv.gz", "\t")])
def test_tables(tmp_path: Path, small: ad.AnnData, name: str, sep: str) -> None:
    frame = pd.DataFrame(small.X.toarray(), index=small.obs_names, columns=small.var_names)
    frame.to_csv(tmp_path / name, sep=sep)
    _same(read_input(tmp_path / name), small)
    frame.T.to_csv(tmp_path / f"t{name}", sep=sep)
    _same(read_input(tmp_path / f"t{name}", transpose=True), small)


def test_10x_mtx_directory(tmp_path: Path, small: ad.AnnData) -> None:
    folder = tmp_path / "filtered_feature_bc_matrix"
    folder.mkdir()
    with gzip.open(folder / "matrix.mtx.gz", "wb") as handle:
        scipy.io.mmwrite(handle, sp.csr_matrix(small.X).T.astype(np.int64))
    features = pd.DataFrame({"id": [f"ENSG{i}" for i in range(small.n_vars)],
                             "name": small.var_names, "type": "Gene Expression"})
    features.to_csv(folder / "features.tsv.gz", sep="\t", header=False, index=False)
    pd.Series(small.obs_names).to_csv(folder / "barcodes.tsv.gz", header=False, index=False)
    _same(read_input(folder), small)


def test_10x_h5(tmp_path: Path, small: ad.AnnData) -> None:
    m = sp.csc_matrix(small.X.T.astype(np.int32))  # genes x cells, CSC = cells as columns
    path = tmp_path / "filtered_feature_bc_matrix.h5"
    with h5py.File(path, "w") as f:
        g = f.create_group("matrix")
        g["data"], g["indices"], g["indptr"] = m.data, m.indices, m.indptr
        g["shape"] = np.array(m.shape)
        g["barcodes"] = np.array(small.obs_names, dtype="S")
        feat = g.create_group("features")
        feat["id"] = np.array([f"ENSG{i}" for i in range(small.n_vars)], dtype="S")
        feat["name"] = np.array(small.var_names, dtype="S")
        feat["feature_type"] = np.array(["Gene Expression"] * small.n_vars, dtype="S")
        feat["genome"] = np.array(["GRCh38"] * small.n_vars, dtype="S")
    _same(read_input(path), small)


def test_scdeepcluster_data_h5(tmp_path: Path, small: ad.AnnData) -> None:
    path = tmp_path / "data.h5"
    with h5py.File(path, "w") as f:
        f["X"] = small.X.toarray()
        f["Y"] = np.arange(small.n_obs) % 3
    out = read_input(path)
    np.testing.assert_array_equal(out.X.toarray(), small.X.toarray())
    assert out.obs["Y"].nunique() == 3


@pytest.mark.parametrize("content,match", [
    (None, "input not found"),
    (b"", "cannot read"),
    (b"\x89HDF\r\n\x1a\n truncated", "cannot read"),
])
def test_unreadable_inputs(tmp_path: Path, content: bytes | None, match: str) -> None:
    path = tmp_path / "bad.h5ad"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ScDeferInputError, match=match):
        read_input(path)


def test_unknown_extension_and_bad_table(tmp_path: Path) -> None:
    (tmp_path / "x.xlsx").write_text("nope")
    with pytest.raises(ScDeferInputError, match="unsupported input"):
        read_input(tmp_path / "x.xlsx")
    (tmp_path / "x.csv").write_text("cell,g1,g2\nc1,1,hello\n")
    with pytest.raises(ScDeferInputError, match="non-numeric"):
        read_input(tmp_path / "x.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ScDeferInputError, match="cannot read .*empty.csv"):
        read_input(tmp_path / "empty.csv")


def test_atomic_writers_leave_nothing_on_failure(tmp_path: Path, small: ad.AnnData) -> None:
    target = tmp_path / "out.h5ad"
    small.uns["bad"] = object()  # anndata cannot write this
    from anndata._io.specs.registry import IORegistryError

    with pytest.raises(IORegistryError, match="No method registered for writing"):
        write_h5ad_atomic(small, target)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_directory(tmp_path / "dir") as tmp:
            (tmp / "half.txt").write_text("x")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
