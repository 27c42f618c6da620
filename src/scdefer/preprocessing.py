"""Counts -> filtered, normalised, log1p, HVG, PCA and a symmetric KNN graph (MODEL.md step 1-2)."""

from __future__ import annotations

import logging
from dataclasses import asdict

import anndata as ad
import numpy as np
import scipy.sparse as sp

from ._errors import ScDeferInputError
from ._progress import timed_step
from ._provenance import package_versions
from ._spec import check
from .graph import knn_graph, resolve_knn_method
from .keys import (
    CONNECTIVITIES,
    COUNTS,
    DISTANCES,
    KEY,
    NEIGHBORS,
    PCA,
    PREPROCESS_RECORD,
    SIZE_FACTORS,
    TARGET_SUM,
)
from .params import MIN_GENES, InputKind, PreprocessParams

logger = logging.getLogger("scdefer")

MIN_CELLS = 20


def make_names_unique(adata: ad.AnnData) -> None:
    """Make duplicate cell and gene names unique in place (``-1``, ``-2`` suffixes), with a warning."""
    for axis, names in (("cell", adata.obs_names), ("gene", adata.var_names)):
        duplicated = int(names.duplicated().sum())
        if duplicated:
            logger.warning("%d duplicate %s names made unique (suffixes -1, -2, ...)",
                           duplicated, axis)
            (adata.obs_names_make_unique if axis == "cell" else adata.var_names_make_unique)()


def is_preprocessed(adata: ad.AnnData) -> bool:
    """True when ``adata`` was written by :func:`preprocess`."""
    return KEY in adata.uns and PREPROCESS_RECORD in adata.uns[KEY]


def check_matrix(matrix: sp.spmatrix | np.ndarray, kind: InputKind, source: str) -> None:
    """Raise :class:`ScDeferInputError` unless ``matrix`` is a finite, non-negative ``kind``."""
    values = matrix.data if sp.issparse(matrix) else np.asarray(matrix).ravel()
    if values.size and not np.all(np.isfinite(values)):
        raise ScDeferInputError(f"{source} holds NaN or infinite values; clean the matrix first")
    if values.size and values.min() < 0:
        raise ScDeferInputError(
            f"{source} holds negative values: scdefer needs counts (or --input-kind lognorm "
            "for log-normalised, non-negative data), not scaled or centred data"
        )
    if kind == "counts" and values.size:
        sample = values[:: max(1, values.size // 1_000_000)]
        if not np.allclose(sample, np.round(sample)):
            raise ScDeferInputError(
                f"{source} does not hold integer counts "
                f"(e.g. {sample[~np.isclose(sample, np.round(sample))][0]:.4g}); "
                "use --layer NAME for a count layer, or --input-kind normalized (TPM/RPKM) / "
                "--input-kind lognorm (log1p-normalised) for non-count input"
            )


def take_matrix(adata: ad.AnnData, layer: str | None) -> sp.csr_matrix:
    if layer is None:
        matrix = adata.X
    elif layer in adata.layers:
        matrix = adata.layers[layer]
    else:
        raise ScDeferInputError(
            f"layer {layer!r} not found; available layers: {sorted(adata.layers) or 'none'}"
        )
    if matrix is None:
        raise ScDeferInputError("the input has no expression matrix in X")
    return sp.csr_matrix(matrix, dtype=np.float32)


def preprocess(
    adata: ad.AnnData, params: PreprocessParams | None = None, genes: list[str] | None = None
) -> ad.AnnData:
    """Return a new AnnData ready for :class:`scdefer.ScDefer`; ``adata`` is left untouched.

    With ``genes`` (a trained model's gene order) the highly variable gene selection is replaced
    by those genes; genes absent from the input are filled with zeros, and an input that lacks
    more than half of them is refused.

    X holds the log-normalised highly variable genes, ``layers['counts']`` the raw counts of those
    genes (count input only), ``obs['size_factors']`` the library size over its median,
    ``obsm['X_pca']`` the PCA, ``obsp['scdefer_knn_connectivities']`` the symmetric KNN graph.
    """
    import scanpy as sc

    params = params or PreprocessParams()
    _check_params(params)
    matrix = take_matrix(adata, params.layer)
    source = f"layer {params.layer!r}" if params.layer else "X"
    check_matrix(matrix, params.input_kind, source)

    out = ad.AnnData(matrix, obs=adata.obs.copy(), var=adata.var.copy())
    make_names_unique(out)
    # Library sizes over every gene, before gene filtering: a new cell's library is computed the
    # same way when a saved model maps it (scdefer.reference), whatever genes the others express.
    with timed_step(f"filtering {out.n_obs:,} cells x {out.n_vars:,} genes"):
        out, library = _filter(out, params.min_genes, params.min_cells)
    if out.n_obs < MIN_CELLS:
        raise ScDeferInputError(
            f"only {out.n_obs} cells left after filtering (at least {MIN_CELLS} are needed)"
        )
    if out.n_vars < MIN_GENES and genes is None:
        raise ScDeferInputError(
            f"only {out.n_vars} genes left after filtering (at least {MIN_GENES} are needed)"
        )

    target_sum = float(np.median(library))
    out.obs[SIZE_FACTORS] = (library / target_sum).astype(np.float32)
    counts = out.X if params.input_kind == "counts" else None  # kept as is, not copied
    if params.input_kind != "lognorm":
        out.X = log_normalise(out.X, target_sum, library)
        out.uns["log1p"] = {"base": None}  # what scanpy's log1p records
    if counts is not None:
        out.layers[COUNTS] = counts
    with timed_step("selecting highly variable genes"):
        out = _select_genes(out, params.n_top_genes, genes)

    n_pcs = int(min(params.n_pcs, out.n_obs - 1, out.n_vars - 1))
    with timed_step(f"PCA ({n_pcs} components)"):
        sc.pp.pca(out, n_comps=n_pcs, random_state=params.seed, svd_solver="arpack")
    knn_method = resolve_knn_method(params.knn_method, out.n_obs)
    with timed_step(f"{params.n_neighbors}-NN graph ({knn_method})"):
        connectivities, distances = knn_graph(out.obsm[PCA], params.n_neighbors, knn_method,
                                              params.seed)
    out.obsp[CONNECTIVITIES] = connectivities
    out.obsp[DISTANCES] = distances
    out.uns[NEIGHBORS] = {
        "connectivities_key": CONNECTIVITIES,
        "distances_key": DISTANCES,
        "params": {"n_neighbors": params.n_neighbors, "method": f"{knn_method}-knn-symmetric",
                   "metric": "euclidean", "use_rep": PCA, "n_pcs": n_pcs},
    }
    record = asdict(params) | {"layer": params.layer or "",
                               TARGET_SUM: target_sum if params.input_kind != "lognorm" else ""}
    out.uns[KEY] = {PREPROCESS_RECORD: record,
                          "versions": package_versions()}
    logger.info("preprocessed: %d cells x %d genes, %d PCs, %d-NN graph with %d edges",
                out.n_obs, out.n_vars, n_pcs, params.n_neighbors, connectivities.nnz)
    return out


FILTER_BLOCK = 65_536  # cells per block when counting detected genes


def _filter(adata: ad.AnnData, min_genes: int, min_cells: int) -> tuple[ad.AnnData, np.ndarray]:
    """Drop cells with fewer than ``min_genes`` genes, then genes seen in fewer than ``min_cells``.

    What scanpy's ``filter_cells``/``filter_genes`` do (``obs['n_genes']``, ``var['n_cells']``),
    counted a block of cells at a time and copying the matrix only when something is dropped, so
    an atlas is not held twice. Returns the filtered data and its cells' library sizes over
    every gene (before the gene filter).
    """
    matrix = adata.X
    n_cells, n_genes = matrix.shape
    genes_per_cell = np.empty(n_cells, dtype=np.int64)
    library = np.empty(n_cells, dtype=np.float64)
    cells_per_gene = np.zeros(n_genes, dtype=np.int64)
    for start in range(0, n_cells, FILTER_BLOCK):
        block = matrix[start:start + FILTER_BLOCK]
        detected = block > 0
        rows = np.asarray(detected.sum(axis=1)).ravel()
        genes_per_cell[start:start + block.shape[0]] = rows
        library[start:start + block.shape[0]] = np.asarray(block.sum(axis=1)).ravel()
        cells_per_gene += np.asarray(detected[rows >= min_genes].sum(axis=0)).ravel()
    keep_cells = genes_per_cell >= min_genes
    keep_genes = cells_per_gene >= min_cells
    if not keep_cells.all():
        adata = adata[keep_cells].copy()
    if not keep_genes.all():
        adata = adata[:, keep_genes].copy()
    adata.obs["n_genes"] = genes_per_cell[keep_cells]
    adata.var["n_cells"] = cells_per_gene[keep_genes]
    return adata, library[keep_cells]


def log_normalise(matrix: sp.spmatrix, target_sum: float,
                  library: np.ndarray | None = None) -> sp.csr_matrix:
    """``log1p`` of every cell scaled to ``target_sum`` counts (cells without counts stay 0).

    ``library`` defaults to the row sums of ``matrix``; each cell is scaled on its own, so the
    result for a cell never depends on the other cells.
    """
    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    if library is None:
        library = np.asarray(matrix.sum(axis=1)).ravel()
    library = np.asarray(library, dtype=np.float64)
    scale = np.divide(target_sum, library, out=np.zeros_like(library), where=library > 0)
    out = (sp.diags(scale.astype(np.float32)) @ matrix).tocsr()
    np.log1p(out.data, out=out.data)  # in place: no second copy of the values
    return out


def _check_params(params: PreprocessParams) -> None:
    check(params)


def _select_genes(adata: ad.AnnData, n_top_genes: int, genes: list[str] | None) -> ad.AnnData:
    if genes is None:
        selected = _highly_variable(adata, n_top_genes)
        return adata if selected.all() else adata[:, selected].copy()
    present = adata.var_names.get_indexer(genes)
    missing = int(np.sum(present < 0))
    if missing > len(genes) // 2:
        example = ", ".join(g for g, i in zip(genes, present, strict=True) if i < 0)[:80]
        raise ScDeferInputError(
            f"{missing} of the model's {len(genes)} genes are not in the input (e.g. {example}); "
            "use the same gene ids (symbols vs Ensembl) as the training data"
        )
    if missing:
        logger.warning("%d of %d model genes are missing from the input; they are set to 0",
                       missing, len(genes))
    out = ad.AnnData(take_genes(adata.X, present), obs=adata.obs.copy())
    out.var_names = list(genes)
    for name, layer in adata.layers.items():
        out.layers[name] = take_genes(layer, present)
    return out


def take_genes(matrix: sp.spmatrix, positions: np.ndarray) -> sp.csr_matrix:
    """Columns ``positions`` of ``matrix`` in that order; -1 gives a column of zeros."""
    present = positions >= 0
    selector = sp.csr_matrix(
        (np.ones(int(present.sum()), dtype=np.float32),
         (positions[present], np.flatnonzero(present))),
        shape=(matrix.shape[1], len(positions)),
    )
    out = (sp.csr_matrix(matrix) @ selector).tocsr()
    out.eliminate_zeros()
    return out.astype(np.float32)


def _highly_variable(adata: ad.AnnData, n_top_genes: int) -> np.ndarray:
    """Boolean mask of the top ``n_top_genes`` dispersion genes (all genes if fewer)."""
    import scanpy as sc

    if adata.n_vars <= n_top_genes:
        adata.var["highly_variable"] = True
        return np.ones(adata.n_vars, dtype=bool)
    sc.pp.highly_variable_genes(adata, n_top_genes=n_top_genes, flavor="seurat")
    return adata.var["highly_variable"].to_numpy()
