"""The tensors scDEFER trains on, taken from a preprocessed AnnData."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import anndata as ad
import numpy as np
import scipy.sparse as sp
import torch

from .._errors import ScDeferInputError
from ..preprocessing import NEIGHBORS_KEY

ZinbTarget = Literal["counts", "lognorm"]


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
        key = f"{NEIGHBORS_KEY}_connectivities"
        missing = [k for k, ok in (("obsp['" + key + "']", key in adata.obsp),
                                   ("obsm['X_pca']", "X_pca" in adata.obsm),
                                   ("obs['size_factors']", "size_factors" in adata.obs)) if not ok]
        if missing:
            raise ScDeferInputError(
                f"input is not preprocessed by scdefer (missing {', '.join(missing)}); "
                "run `scdefer preprocess` first"
            )
        features = sp.csr_matrix(adata.X, dtype=np.float32)
        if zinb_target == "counts":
            if "counts" not in adata.layers:
                raise ScDeferInputError(
                    "--zinb-target counts needs layers['counts'] (count input); this input was "
                    "preprocessed as non-count data: use --zinb-target lognorm"
                )
            target = sp.csr_matrix(adata.layers["counts"], dtype=np.float32)
            size_factors = adata.obs["size_factors"].to_numpy(np.float32)
        elif zinb_target == "lognorm":
            target = features
            size_factors = np.ones(adata.n_obs, dtype=np.float32)
        else:
            raise ScDeferInputError(f"--zinb-target must be counts or lognorm, got {zinb_target!r}")
        adjacency = sp.csr_matrix(adata.obsp[key], dtype=np.float32)
        return cls(features, target, size_factors, adjacency,
                   np.asarray(adata.obsm["X_pca"], dtype=np.float32), zinb_target)

    def dense_rows(self, matrix: sp.csr_matrix, index: np.ndarray, device: torch.device) -> torch.Tensor:
        """Rows ``index`` of a sparse matrix as a dense tensor on ``device``."""
        return torch.from_numpy(matrix[index].toarray()).to(device)
