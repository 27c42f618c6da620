"""Estimate the number of clusters from the data alone (no labels)."""

from __future__ import annotations

import random

import igraph as ig
import numpy as np

from .graph import knn_graph


def leiden_labels(coords: np.ndarray, n_neighbors: int = 15, resolution: float = 1.0,
                  seed: int = 0) -> np.ndarray:
    """Leiden (modularity) communities of the symmetric KNN graph of ``coords``."""
    adjacency, _ = knn_graph(coords, n_neighbors)
    upper = adjacency.tocoo()
    keep = upper.row < upper.col
    graph = ig.Graph(n=coords.shape[0], edges=list(zip(upper.row[keep], upper.col[keep], strict=True)))
    random.seed(seed)  # igraph draws from Python's random module
    ig.set_random_number_generator(random)
    partition = graph.community_leiden(objective_function="modularity", resolution=resolution,
                                       n_iterations=-1)
    return np.asarray(partition.membership)


def estimate_n_clusters(coords: np.ndarray, seed: int = 0, resolution: float = 1.0,
                        min_fraction: float = 0.005) -> int:
    """Number of Leiden communities (resolution 1) holding at least ``min_fraction`` of the cells.

    scdefer runs it on the PCA of the log-normalised HVGs (15-NN graph); labels are never used.
    """
    labels = leiden_labels(coords, resolution=resolution, seed=seed)
    sizes = np.bincount(labels)
    big = int(np.sum(sizes >= max(2, min_fraction * coords.shape[0])))
    return max(2, big)
