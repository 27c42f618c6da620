"""The tensors scDEFER trains on, taken from a preprocessed AnnData."""

from __future__ import annotations

from dataclasses import dataclass

import anndata as ad
import numpy as np
import scipy.sparse as sp

from .._errors import ScDeferInputError
from ..inputs import EncoderInputs, needs_counts
from ..keys import CONNECTIVITIES, COUNTS, PCA, SIZE_FACTORS
from ..params import TrainParams, ZinbTarget
from ..residuals import PearsonResiduals


@dataclass
class CellData:
    """Encoder inputs, ZINB targets, size factors and the cell graph of one preprocessed dataset."""

    features: sp.csr_matrix  # log-normalised HVG expression (cells x genes)
    inputs: EncoderInputs  # what each encoder reads (--encoder-input)
    target: sp.csr_matrix  # what the ZINB likelihood scores: counts or log-normalised values
    size_factors: np.ndarray  # multiplies the ZINB mean (all ones for the log-normalised target)
    adjacency: sp.csr_matrix  # symmetric 0/1 KNN graph, no self loops
    coords: np.ndarray  # PCA coordinates (used to partition the graph into batches)
    zinb_target: ZinbTarget

    def scaled_coords(self) -> np.ndarray:
        """The PCA coordinates divided by the root of their mean variance per component: the
        PCA decoder's target, whose mean squared error is then the fraction of the PCA's
        variance that the latent does not reconstruct."""
        scale = float(np.sqrt(np.mean(np.var(self.coords, axis=0))))
        return self.coords / (scale if scale > 0 else 1.0)

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return self.features.shape[0]

    @property
    def n_genes(self) -> int:
        """Number of genes."""
        return self.features.shape[1]

    @classmethod
    def from_anndata(cls, adata: ad.AnnData, params: TrainParams | None = None) -> CellData:
        """The arrays a training with ``params`` (default: the defaults) reads from an AnnData
        written by :func:`scdefer.preprocessing.preprocess`."""
        params = (params or TrainParams()).resolved()
        zinb_target, encoder_input = params.zinb_target, params.encoder_input
        missing = [k for k, ok in ((f"obsp['{CONNECTIVITIES}']", CONNECTIVITIES in adata.obsp),
                                   (f"obsm['{PCA}']", PCA in adata.obsm),
                                   (f"obs['{SIZE_FACTORS}']", SIZE_FACTORS in adata.obs)) if not ok]
        if missing:
            raise ScDeferInputError(
                f"input is not preprocessed by scdefer (missing {', '.join(missing)}); "
                "run `scdefer preprocess` first"
            )
        features = sp.csr_matrix(adata.X, dtype=np.float32)
        counts = sp.csr_matrix(adata.layers[COUNTS], dtype=np.float32) \
            if COUNTS in adata.layers else None
        needing = [(option, fix) for option, fix, needs in (
            ("--zinb-target counts", "--zinb-target lognorm",
             zinb_target == "counts" and params.has_zinb_term),
            (f"--encoder-input {encoder_input}", "--encoder-input lognorm",
             needs_counts(encoder_input))) if needs]
        if counts is None and needing:
            raise ScDeferInputError(
                f"{' and '.join(option for option, _ in needing)} need(s) layers['{COUNTS}'] "
                "(count input); this input was preprocessed as non-count data: use "
                f"{' '.join(fix for _, fix in needing)}"
            )
        residuals = PearsonResiduals.fit(counts) if needs_counts(encoder_input) else None
        inputs = EncoderInputs.build(encoder_input, features, counts, residuals)
        if zinb_target == "counts":
            target = counts
            size_factors = adata.obs[SIZE_FACTORS].to_numpy(np.float32)
        elif zinb_target == "lognorm":
            target = features
            size_factors = np.ones(adata.n_obs, dtype=np.float32)
        else:
            raise ScDeferInputError(f"--zinb-target must be counts or lognorm, got {zinb_target!r}")
        adjacency = sp.csr_matrix(adata.obsp[CONNECTIVITIES], dtype=np.float32)
        return cls(features, inputs, target, size_factors, adjacency,
                   np.asarray(adata.obsm[PCA], dtype=np.float32), zinb_target)
