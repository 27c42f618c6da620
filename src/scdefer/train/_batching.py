"""Cluster-GCN style mini-batches: groups of graph partitions with their induced subgraph."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.cluster import MiniBatchKMeans

from ..graph import edge_pairs, normalized_adjacency, sample_non_edges, to_torch_sparse


@dataclass
class Batch:
    """One training step's cells, their normalised subgraph and the pairs for the graph loss."""

    index: np.ndarray  # cell indices into the full data
    adj_t: torch.Tensor  # normalised adjacency of the induced subgraph (sparse)
    edges: torch.Tensor  # (2, E) local indices of edges
    edge_values: torch.Tensor  # Â on those edges (for the authors' edge-only loss)
    non_edges: torch.Tensor  # (2, E) local indices of sampled non-edges


def make_batch(
    adjacency: sp.csr_matrix, index: np.ndarray, rng: np.random.Generator, device: torch.device
) -> Batch:
    """Build the :class:`Batch` of the subgraph induced by ``index``."""
    sub = adjacency[index][:, index].tocsr()
    norm = normalized_adjacency(sub)
    edges = edge_pairs(sub)
    non_edges = sample_non_edges(sub, edges.shape[1], rng)
    values = (np.asarray(norm[edges[0], edges[1]]).ravel() if edges.shape[1]  # a batch of
              else np.zeros(0)).astype(np.float32)                          # isolated cells
    return Batch(
        index=index,
        adj_t=to_torch_sparse(norm, device),
        edges=torch.from_numpy(edges).to(device),
        edge_values=torch.from_numpy(values).to(device),
        non_edges=torch.from_numpy(non_edges).to(device),
    )


class ClusterBatcher:
    """Partition cells by K-means on their PCA coordinates; a batch is a random set of parts.

    Neighbouring cells tend to share a part, so the induced subgraph of a batch keeps most KNN
    edges (Chiang et al. 2019, Cluster-GCN). With ``batch_size >= n_cells`` every step is the
    whole graph. With ``max_cells`` an epoch is the first ``max_cells / batch_size`` batches of a
    new random grouping of the parts, so an epoch's cost does not grow with the cells.
    """

    def __init__(
        self,
        adjacency: sp.csr_matrix,
        coords: np.ndarray,
        batch_size: int,
        seed: int,
        device: torch.device,
        part_size: int = 32,
        max_cells: int = 0,
    ) -> None:
        self.adjacency = adjacency
        self.device = device
        self.rng = np.random.default_rng(seed)
        n = adjacency.shape[0]
        self.batch_size = batch_size
        self.max_cells = max_cells
        if batch_size >= n:
            self.parts = [np.arange(n)]
        else:
            n_parts = int(np.clip(n // part_size, 2, 4096))
            labels = MiniBatchKMeans(
                n_clusters=n_parts, random_state=seed, n_init=1, batch_size=4096
            ).fit_predict(coords)
            self.parts = [np.flatnonzero(labels == p) for p in range(n_parts)]
            self.parts = [p for p in self.parts if p.size]

    @property
    def batches_per_pass(self) -> int:
        """Number of batches that cover every cell once."""
        return min(len(self.parts), max(1, round(self.adjacency.shape[0] / self.batch_size)))

    def __len__(self) -> int:
        """Number of batches per epoch."""
        if not self.max_cells:
            return self.batches_per_pass
        return min(self.batches_per_pass, max(1, round(self.max_cells / self.batch_size)))

    @property
    def epochs_per_pass(self) -> int:
        """Epochs it takes to see every cell (1 unless ``max_cells`` limits the epochs)."""
        return -(-self.batches_per_pass // len(self))

    def __iter__(self) -> Iterator[Batch]:
        """Yield one epoch of batches."""
        order = self.rng.permutation(len(self.parts))
        groups = np.array_split(order, self.batches_per_pass)[: len(self)]
        for group in groups:
            index = np.sort(np.concatenate([self.parts[p] for p in group]))
            yield make_batch(self.adjacency, index, self.rng, self.device)
