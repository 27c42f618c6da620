"""Estimate the number of clusters from the data alone (no labels)."""

from __future__ import annotations

import numpy as np

from .assignment import knn_igraph, leiden_partition


def leiden_labels(coords: np.ndarray, n_neighbors: int = 15, resolution: float = 1.0,
                  seed: int = 0) -> np.ndarray:
    """Leiden (modularity) communities of the symmetric KNN graph of ``coords``."""
    return leiden_partition(knn_igraph(coords, n_neighbors), resolution, seed)


def estimate_n_clusters(coords: np.ndarray, seed: int = 0, resolution: float = 1.0,
                        min_fraction: float = 0.005) -> int:
    """Number of Leiden communities (resolution 1) holding at least ``min_fraction`` of the cells.

    scdefer runs it on the PCA of the log-normalised HVGs (15-NN graph); labels are never used.
    """
    labels = leiden_labels(coords, resolution=resolution, seed=seed)
    sizes = np.bincount(labels)
    big = int(np.sum(sizes >= max(2, min_fraction * coords.shape[0])))
    return max(2, big)
