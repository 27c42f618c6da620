"""Estimate the number of clusters from the data alone (no labels).

Leiden's modularity ties the size of its communities to the size of the graph: at a fixed
resolution, a 15-NN graph of 8,000 cells splits into many more communities than one of 500 cells of
the same kinds of cells (resolution 1 over-counted on every large shared set, e.g. 23 for 11 types
on Young, and under-counted on the small ones). ``auto`` therefore lowers the resolution as the
cells grow, ``RESOLUTION_AT_REFERENCE * (REFERENCE_CELLS / n_cells) ** SIZE_EXPONENT``, never
above scanpy's default of 1 (``MAX_RESOLUTION``; reached below about 1,500 cells: a few hundred
cells at a higher resolution split into many small communities), and counts the communities
holding at least ``MIN_FRACTION`` of the cells. The constants were chosen leave-one-dataset-out
over the eight shared count sets, 3 Leiden seeds each (``bench/nclusters.py``,
``bench/results/nclusters.md``); they are extrapolated beyond 550 to 8,617 cells.
"""

from __future__ import annotations

import numpy as np

from .assignment import knn_igraph, leiden_partition

NEIGHBORS = 15
REFERENCE_CELLS = 3000
RESOLUTION_AT_REFERENCE = 0.6
SIZE_EXPONENT = 0.75
MAX_RESOLUTION = 1.0
MIN_FRACTION = 0.01


def auto_resolution(n_cells: int, at_reference: float = RESOLUTION_AT_REFERENCE,
                    exponent: float = SIZE_EXPONENT, cap: float = MAX_RESOLUTION) -> float:
    """The Leiden resolution ``auto`` uses for ``n_cells`` cells (lower for more cells)."""
    return min(cap, at_reference * (REFERENCE_CELLS / max(n_cells, 1)) ** exponent)


def count_communities(labels: np.ndarray, min_fraction: float = MIN_FRACTION) -> int:
    """Communities holding at least ``min_fraction`` of the cells (and 2 cells); at least 2."""
    sizes = np.bincount(labels)
    return max(2, int(np.sum(sizes >= max(2, min_fraction * labels.size))))


def leiden_labels(coords: np.ndarray, resolution: float, seed: int = 0,
                  n_neighbors: int = NEIGHBORS) -> np.ndarray:
    """Leiden (modularity) communities of the symmetric KNN graph of ``coords``."""
    return leiden_partition(knn_igraph(coords, n_neighbors), resolution, seed)


def estimate_n_clusters(coords: np.ndarray, seed: int = 0) -> int:
    """Number of clusters ``--n-clusters auto`` trains with, from the PCA ``coords``.

    Leiden on the 15-NN graph at :func:`auto_resolution` of the number of cells, counting the
    communities that hold at least ``MIN_FRACTION`` of the cells. Labels are never used.
    """
    labels = leiden_labels(coords, auto_resolution(coords.shape[0]), seed)
    return count_communities(labels)


def describe() -> str:
    """One line for the training log: how ``auto`` counted."""
    return (f"Leiden on the PCA {NEIGHBORS}-NN graph at resolution min({MAX_RESOLUTION:g}, "
            f"{RESOLUTION_AT_REFERENCE:g} x ({REFERENCE_CELLS:,} / cells)^{SIZE_EXPONENT:g}), "
            f"communities of at least {MIN_FRACTION:.0%} of the cells")
