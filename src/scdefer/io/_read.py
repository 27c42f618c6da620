"""Read a count matrix from .h5ad, 10x .h5, 10x mtx directories, csv/tsv or scDeepCluster data.h5."""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._errors import ScDeferInputError
from ..preprocessing import make_names_unique

_TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz")


def read_input(path: str | Path, *, transpose: bool = False) -> ad.AnnData:
    """Read ``path`` into an AnnData with cells as rows.

    Parameters
    ----------
    path
        An ``.h5ad`` file, a 10x ``.h5`` file, a 10x ``mtx`` directory, a (gzipped) ``.csv``/``.tsv``
        table with cells as rows, or an ``.h5`` in the scDeepCluster/scTAG layout (``X`` and ``Y``).
    transpose
        The table has genes as rows (only for csv/tsv input).
    """
    path = Path(path)
    if not path.exists():
        raise ScDeferInputError(f"input not found: {path}")
    try:
        adata = _dispatch(path, transpose)
    except ScDeferInputError:
        raise
    except (OSError, ValueError, KeyError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ScDeferInputError(f"cannot read {path}: {_first_line(exc)}") from exc
    if adata.n_obs == 0 or adata.n_vars == 0:
        raise ScDeferInputError(f"{path} holds an empty matrix ({adata.n_obs} x {adata.n_vars})")
    make_names_unique(adata)
    return adata


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _dispatch(path: Path, transpose: bool) -> ad.AnnData:
    name = path.name.lower()
    if path.is_dir():
        return _read_mtx_dir(path)
    if name.endswith(".h5ad"):
        return ad.read_h5ad(path)
    if name.endswith((".h5", ".hdf5")):
        return _read_h5(path)
    if name.endswith(_TABLE_SUFFIXES):
        return _read_table(path, transpose)
    raise ScDeferInputError(
        f"unsupported input {path}: expected .h5ad, 10x .h5, a 10x mtx directory, .csv/.tsv(.gz) "
        "or a scDeepCluster-style data.h5"
    )


def _read_mtx_dir(path: Path) -> ad.AnnData:
    import scanpy as sc

    if not any(p.name.startswith("matrix.mtx") for p in path.iterdir()):
        raise ScDeferInputError(f"{path} is a directory without matrix.mtx(.gz): not a 10x mtx folder")
    return sc.read_10x_mtx(path, var_names="gene_symbols", cache=False)


def _read_h5(path: Path) -> ad.AnnData:
    import scanpy as sc

    with h5py.File(path, "r") as handle:
        keys = set(handle.keys())
        if "X" in keys and isinstance(handle["X"], h5py.Dataset):
            return _read_scdeepcluster(handle)
    if not keys:
        raise ScDeferInputError(f"{path} is an empty HDF5 file")
    return sc.read_10x_h5(path)


def _read_scdeepcluster(handle: h5py.File) -> ad.AnnData:
    """The ``data.h5`` layout of scDeepCluster/scTAG: dense ``X`` (cells x genes), labels ``Y``."""
    matrix = np.asarray(handle["X"][()], dtype=np.float32)
    if matrix.ndim != 2:
        raise ScDeferInputError(f"dataset X must be 2-dimensional, got shape {matrix.shape}")
    adata = ad.AnnData(sp.csr_matrix(matrix))
    for key, axis in (("obs_names", "obs"), ("cell_names", "obs"), ("var_names", "var"),
                      ("gene_names", "var")):
        if key in handle:
            names = [n.decode() if isinstance(n, bytes) else str(n) for n in handle[key][()]]
            if len(names) == getattr(adata, f"n_{axis}"):
                setattr(adata, f"{axis}_names", names)
    if "Y" in handle:
        labels = np.asarray(handle["Y"][()]).ravel()
        if labels.shape[0] == adata.n_obs:
            adata.obs["Y"] = pd.Categorical([str(v) for v in labels])
    return adata


def _read_table(path: Path, transpose: bool) -> ad.AnnData:
    sep = "," if ".csv" in path.name.lower() else "\t"
    frame = pd.read_csv(path, sep=sep, index_col=0)
    if transpose:
        frame = frame.T
    values = frame.apply(pd.to_numeric, errors="coerce")
    if values.isna().to_numpy().any() and not frame.isna().to_numpy().any():
        raise ScDeferInputError(f"{path} holds non-numeric values outside the first column/row")
    adata = ad.AnnData(sp.csr_matrix(values.to_numpy(dtype=np.float32)))
    adata.obs_names = frame.index.astype(str)
    adata.var_names = frame.columns.astype(str)
    return adata
