"""The consensus of several trainings (``n_runs``): their clustering heads, aligned and averaged.

Each training's cluster numbering is arbitrary, so the clusters of every later run are first
matched to the first run's (a maximum-overlap one-to-one matching of their labels, the Hungarian
algorithm on the K x K contingency table), then the matched soft assignments are averaged cell by
cell. Memory and time are linear in the cells; no cells x cells matrix is made.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def matching_columns(reference: np.ndarray, labels: np.ndarray, n_clusters: int) -> np.ndarray:
    """For each cluster of ``reference``, the cluster of ``labels`` that overlaps it most.

    A permutation of ``range(n_clusters)``: ``proba[:, columns]`` puts a run's soft assignments
    in the reference run's cluster order.
    """
    overlap = np.zeros((n_clusters, n_clusters), dtype=np.int64)
    np.add.at(overlap, (reference, labels), 1)
    rows, cols = linear_sum_assignment(overlap, maximize=True)
    columns = np.empty(n_clusters, dtype=np.int64)
    columns[rows] = cols
    return columns


def align_runs(probas: list[np.ndarray]) -> list[np.ndarray]:
    """Column orders that put each run's soft assignments in the first run's cluster order."""
    n_clusters = probas[0].shape[1]
    reference = probas[0].argmax(axis=1)
    return [np.arange(n_clusters)] + [matching_columns(reference, p.argmax(axis=1), n_clusters)
                                      for p in probas[1:]]


def mean_assignment(probas: list[np.ndarray], columns: list[np.ndarray]) -> np.ndarray:
    """The runs' soft assignments, each in the aligned order, averaged (rows sum to 1)."""
    total = np.zeros_like(probas[0], dtype=np.float64)
    for proba, order in zip(probas, columns, strict=True):
        total += proba[:, order]
    return (total / len(probas)).astype(probas[0].dtype)


def consensus(probas: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The runs' mean soft assignment (first run's cluster order) and each run's column order."""
    columns = align_runs(probas)
    return mean_assignment(probas, columns), columns
