"""Other views of the input cells for ensemble experiments: scaled and Pearson-residual PCA.

Each is the PCA of a dense transform of the (sparse) input, computed a block of cells at a time
from the genes x genes covariance, so memory stays cells x components plus one block: never the
dense cells x genes matrix.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from scdefer.residuals import PEARSON_THETA, PearsonResiduals

#: Cells per block when a dense transform of the input is formed.
VIEW_BLOCK = 8192


def blockwise_pca(rows: Callable[[slice], np.ndarray], n_cells: int, n_genes: int,
                  n_pcs: int) -> np.ndarray:
    """Scores on the top ``n_pcs`` principal components of the matrix whose rows ``rows`` gives.

    Two passes over blocks of :data:`VIEW_BLOCK` cells: the column means and the cross-product
    (genes x genes), then the centred projection. Exact PCA (eigenvectors of the covariance).
    """
    blocks = [slice(s, min(s + VIEW_BLOCK, n_cells)) for s in range(0, n_cells, VIEW_BLOCK)]
    total = np.zeros(n_genes)
    cross = np.zeros((n_genes, n_genes))
    for block in blocks:
        values = rows(block).astype(np.float64)
        total += values.sum(axis=0)
        cross += values.T @ values
    mean = total / n_cells
    covariance = cross / n_cells - np.outer(mean, mean)
    n_pcs = int(min(n_pcs, n_genes, n_cells - 1))
    _, vectors = np.linalg.eigh(covariance)
    loadings = vectors[:, ::-1][:, :n_pcs]
    loadings *= np.sign(loadings[np.abs(loadings).argmax(axis=0), np.arange(n_pcs)])
    out = np.empty((n_cells, n_pcs), dtype=np.float32)
    for block in blocks:
        out[block] = (rows(block) - mean) @ loadings
    return out


def scaled_pca(lognorm: sp.csr_matrix, n_pcs: int = 50) -> np.ndarray:
    """PCA of the log-normalised genes scaled to unit variance (scanpy's ``scale`` without a
    clip): every gene weighs the same, not only the highly expressed ones."""
    matrix = sp.csr_matrix(lognorm, dtype=np.float32)
    mean = np.asarray(matrix.mean(axis=0)).ravel()
    square = np.asarray(matrix.multiply(matrix).mean(axis=0)).ravel()
    sd = np.sqrt(np.maximum(square - mean**2, 0.0))
    inverse = np.divide(1.0, sd, out=np.zeros_like(sd), where=sd > 0)
    return blockwise_pca(lambda block: matrix[block].toarray() * inverse, matrix.shape[0],
                         matrix.shape[1], n_pcs)


def pearson_residual_rows(counts: sp.csr_matrix,
                          theta: float = PEARSON_THETA) -> Callable[[slice], np.ndarray]:
    """A function giving blocks of rows of the analytic Pearson residuals of the counts
    (:class:`scdefer.residuals.PearsonResiduals` fitted on all of them)."""
    matrix = sp.csr_matrix(counts, dtype=np.float32)
    model = PearsonResiduals.fit(matrix, theta)
    return lambda block: model.rows(matrix[block])


def pearson_residuals(counts: sp.csr_matrix, theta: float = PEARSON_THETA) -> np.ndarray:
    """The dense cells x genes Pearson residuals (float32); for the probes of small sets only."""
    return pearson_residual_rows(counts, theta)(slice(None)).astype(np.float32)


def pearson_residual_pca(counts: sp.csr_matrix, n_pcs: int = 50,
                         theta: float = PEARSON_THETA) -> np.ndarray:
    """PCA of the analytic Pearson residuals of the counts (:func:`pearson_residual_rows`)."""
    return blockwise_pca(pearson_residual_rows(counts, theta), counts.shape[0], counts.shape[1],
                         n_pcs)
