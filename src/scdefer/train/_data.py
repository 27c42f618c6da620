"""The tensors scDEFER trains on, taken from a preprocessed AnnData."""

from __future__ import annotations

from dataclasses import dataclass

import anndata as ad
import numpy as np
import scipy.sparse as sp
import torch

from .._errors import ScDeferInputError
from ..keys import CONNECTIVITIES, COUNTS, PCA, SIZE_FACTORS
from ..params import ZinbTarget


@dataclass
class CellData:
    """Features, ZINB targets, size factors and the cell graph of one preprocessed dataset."""

    features: sp.csr_matrix  # log-normalised HVG expression (cells x genes)
    target: sp.csr_matrix  # what the ZINB likelihood scores: counts or log-normalised values
    size_factors: np.ndarray  # multiplies the ZINB mean (all ones for the log-normalised target)
    adjacency: sp.csr_matrix  # symmetric 0/1 KNN graph, no self loops
    coords: np.ndarray  # PCA coordinates (used to partition the graph into batches)
    zinb_target: ZinbTarget

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return self.features.shape[0]

    @property
    def n_genes(self) -> int:
        """Number of genes."""
        return self.features.shape[1]

    @classmethod
    def from_anndata(cls, adata: ad.AnnData, zinb_target: ZinbTarget = "counts") -> CellData:
        """Collect the arrays from an AnnData written by :func:`scdefer.preprocessing.preprocess`."""
        missing = [k for k, ok in ((f"obsp['{CONNECTIVITIES}']", CONNECTIVITIES in adata.obsp),
                                   (f"obsm['{PCA}']", PCA in adata.obsm),
                                   (f"obs['{SIZE_FACTORS}']", SIZE_FACTORS in adata.obs)) if not ok]
        if missing:
            raise ScDeferInputError(
                f"input is not preprocessed by scdefer (missing {', '.join(missing)}); "
                "run `scdefer preprocess` first"
            )
        features = sp.csr_matrix(adata.X, dtype=np.float32)
        if zinb_target == "counts":
            if COUNTS not in adata.layers:
                raise ScDeferInputError(
                    f"--zinb-target counts needs layers['{COUNTS}'] (count input); this input was "
                    "preprocessed as non-count data: use --zinb-target lognorm"
                )
            target = sp.csr_matrix(adata.layers[COUNTS], dtype=np.float32)
            size_factors = adata.obs[SIZE_FACTORS].to_numpy(np.float32)
        elif zinb_target == "lognorm":
            target = features
            size_factors = np.ones(adata.n_obs, dtype=np.float32)
        else:
            raise ScDeferInputError(f"--zinb-target must be counts or lognorm, got {zinb_target!r}")
        adjacency = sp.csr_matrix(adata.obsp[CONNECTIVITIES], dtype=np.float32)
        return cls(features, target, size_factors, adjacency,
                   np.asarray(adata.obsm[PCA], dtype=np.float32), zinb_target)

    def dense_rows(self, matrix: sp.csr_matrix, index: np.ndarray, device: torch.device) -> torch.Tensor:
        """Rows ``index`` of a sparse matrix as a dense tensor on ``device``."""
        return torch.from_numpy(matrix[index].toarray()).to(device)
