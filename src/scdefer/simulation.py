"""Simulate zero-inflated negative binomial counts with known groups (demo and test data)."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._errors import ScDeferInputError

#: Cells simulated at once (the dense block is block x genes).
SIMULATION_BLOCK = 10_000


def simulate(n_cells: int = 1000, n_genes: int = 2000, n_groups: int = 5, *, seed: int = 0,
             de_fraction: float = 0.1, de_log_fold: float = 1.2, dispersion: float = 2.0,
             dropout: float = 0.3, mean_library: float = 3000.0) -> ad.AnnData:
    """Counts in X (CSR), true group in ``obs['group']``.

    Each gene has a log-normal base expression; in each group a random ``de_fraction`` of the
    genes is scaled up or down by ``exp(+-de_log_fold)``. Cells draw a log-normal library size,
    NB counts with the given dispersion, and zeros with probability ``dropout * exp(-mean)``.
    """
    if n_cells < 2 or n_genes < 2 or n_groups < 1 or n_groups > n_cells:
        raise ScDeferInputError(
            f"cannot simulate {n_cells} cells x {n_genes} genes in {n_groups} groups"
        )
    rng = np.random.default_rng(seed)
    base = rng.lognormal(mean=0.0, sigma=1.2, size=n_genes)
    profiles = np.tile(base, (n_groups, 1))
    for g in range(n_groups):
        de = rng.random(n_genes) < de_fraction
        sign = rng.choice([-1.0, 1.0], size=n_genes)
        profiles[g, de] *= np.exp(sign[de] * de_log_fold * rng.uniform(0.5, 1.5, de.sum()))
    profiles /= profiles.sum(axis=1, keepdims=True)
    group = rng.integers(0, n_groups, size=n_cells)
    group[:n_groups] = np.arange(n_groups)  # every group present
    library = rng.lognormal(np.log(mean_library), 0.4, size=n_cells)
    # Counts in blocks of cells, each with its own stream: memory stays O(block x genes).
    blocks = []
    for number, start in enumerate(range(0, n_cells, SIMULATION_BLOCK)):
        rows = slice(start, min(start + SIMULATION_BLOCK, n_cells))
        block_rng = np.random.default_rng([seed, number])
        mu = profiles[group[rows]] * library[rows, None]
        counts = block_rng.poisson(block_rng.gamma(shape=dispersion, scale=mu / dispersion))
        counts = counts.astype(np.float32)
        counts[block_rng.random(counts.shape) < dropout * np.exp(-mu)] = 0.0
        blocks.append(sp.csr_matrix(counts))
    counts = sp.vstack(blocks, format="csr")
    adata = ad.AnnData(counts)
    adata.obs_names = [f"cell{i}" for i in range(n_cells)]
    adata.var_names = [f"gene{j}" for j in range(n_genes)]
    adata.obs["group"] = pd.Categorical([f"group{g}" for g in group])
    adata.uns["simulation"] = {
        "seed": seed, "n_groups": n_groups, "de_fraction": de_fraction, "de_log_fold": de_log_fold,
        "dispersion": dispersion, "dropout": dropout, "mean_library": mean_library,
    }
    return adata
