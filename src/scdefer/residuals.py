"""Analytic Pearson residuals of counts (Lause, Berens & Kobak 2021), a block of cells at a time.

The residual of a count ``x`` is ``(x - mu) / sqrt(mu + mu^2 / theta)``, with ``mu`` the cell's
total times the gene's share of all training counts, clipped to +-sqrt(training cells): a
depth-aware alternative to log-normalisation. The training cells fix the gene shares and the
clip, so the residuals of a new cell do not depend on any other new cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

#: Overdispersion of the residuals' negative binomial (Lause et al. 2021: 100).
PEARSON_THETA = 100.0


@dataclass(frozen=True)
class PearsonResiduals:
    """What fixes the residuals: the training cells' gene shares, the clip and ``theta``."""

    gene_fractions: np.ndarray  # each gene's share of all training counts
    clip: float  # residuals are clipped to +-clip (sqrt of the number of training cells)
    theta: float = PEARSON_THETA

    @classmethod
    def fit(cls, counts: sp.spmatrix, theta: float = PEARSON_THETA) -> PearsonResiduals:
        """The gene shares and the clip of the training cells (cells x genes counts)."""
        gene_totals = np.asarray(counts.sum(axis=0)).ravel()
        return cls(gene_totals / max(gene_totals.sum(), 1.0), float(np.sqrt(counts.shape[0])),
                   theta)

    def rows(self, counts: sp.spmatrix, cell_totals: np.ndarray | None = None) -> np.ndarray:
        """The dense residuals of these cells (cells x genes, float32); keep blocks small.

        ``cell_totals`` defaults to each cell's sum over these genes.
        """
        block = sp.csr_matrix(counts)
        if cell_totals is None:
            cell_totals = np.asarray(block.sum(axis=1)).ravel()
        mu = np.outer(cell_totals, self.gene_fractions)
        spread = np.sqrt(mu + mu**2 / self.theta)
        values = np.divide(block.toarray() - mu, spread, out=np.zeros_like(mu), where=spread > 0)
        return np.clip(values, -self.clip, self.clip).astype(np.float32, copy=False)

    def to_payload(self) -> dict:
        """Tensors and plain values for ``torch.save`` (a saved model's residual model)."""
        return {"gene_fractions": torch.from_numpy(np.ascontiguousarray(self.gene_fractions)),
                "clip": self.clip, "theta": self.theta}

    @classmethod
    def from_payload(cls, payload: dict) -> PearsonResiduals:
        """Inverse of :meth:`to_payload`."""
        return cls(payload["gene_fractions"].numpy(), float(payload["clip"]),
                   float(payload["theta"]))


#: Rows made dense at once by :class:`ResidualRows` (bounds the float64 temporaries: ~16 MB a
#: block for 2,000 genes).
RESIDUAL_BLOCK = 1024


@dataclass(frozen=True)
class ResidualRows:
    """The residuals of a count matrix, made dense a block of rows at a time on indexing.

    ``rows[index]`` (a slice or integer array) is the dense float32 residuals of those cells; the
    whole cells x genes matrix never exists.
    """

    counts: sp.csr_matrix  # cells x genes counts (the model's genes, in its order)
    model: PearsonResiduals

    @property
    def shape(self) -> tuple[int, int]:
        """Cells x genes, like the counts."""
        return self.counts.shape

    def __getitem__(self, index: slice | np.ndarray) -> np.ndarray:
        block = self.counts[index]
        out = np.empty(block.shape, dtype=np.float32)
        for start in range(0, block.shape[0], RESIDUAL_BLOCK):
            stop = min(start + RESIDUAL_BLOCK, block.shape[0])
            out[start:stop] = self.model.rows(block[start:stop])
        return out
