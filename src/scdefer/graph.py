"""Sparse cell graphs: KNN construction, normalised adjacency, subgraphs and pair sampling.

Nothing here builds a dense cells x cells matrix.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.neighbors import NearestNeighbors

from .params import EXACT_KNN_MAX_CELLS, KnnMethod


def resolve_knn_method(method: KnnMethod, n_cells: int) -> str:
    """``"exact"`` or ``"approximate"``: what ``"auto"`` means for ``n_cells`` cells."""
    if method == "auto":
        return "exact" if n_cells <= EXACT_KNN_MAX_CELLS else "approximate"
    return method


def nearest_neighbors(coords: np.ndarray, k: int, method: KnnMethod = "auto",
                      seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices and Euclidean distances of each row's ``k`` nearest other rows (cells x k)."""
    if resolve_knn_method(method, coords.shape[0]) == "exact":
        dist, idx = NearestNeighbors(n_neighbors=k + 1).fit(coords).kneighbors(coords)
    else:
        from pynndescent import NNDescent

        index = NNDescent(coords, n_neighbors=k + 1, metric="euclidean", random_state=seed,
                          low_memory=True, verbose=False)
        idx, dist = index.neighbor_graph
    return idx[:, 1:], dist[:, 1:]  # the first neighbour of a cell is itself


def knn_graph(coords: np.ndarray, n_neighbors: int, method: KnnMethod = "auto",
              seed: int = 0) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Euclidean KNN on ``coords``; return the symmetric 0/1 graph and its distances.

    Exact up to :data:`EXACT_KNN_MAX_CELLS` cells with ``method="auto"``, approximate above.
    """
    n = coords.shape[0]
    k = min(n_neighbors, n - 1)
    idx, dist = nearest_neighbors(coords, k, method, seed)
    rows = np.repeat(np.arange(n), k)
    cols = idx.ravel()
    dvals = dist.ravel().astype(np.float32)
    distances = sp.csr_matrix((dvals, (rows, cols)), shape=(n, n))
    distances = distances.maximum(distances.T).tocsr()
    connectivities = distances.copy()
    connectivities.data[:] = 1.0
    connectivities.setdiag(0)
    connectivities.eliminate_zeros()
    return connectivities.astype(np.float32), distances


def normalized_adjacency(adjacency: sp.spmatrix) -> sp.csr_matrix:
    """``D^-1/2 (A + I) D^-1/2`` of a symmetric 0/1 adjacency, as a sparse matrix."""
    a = sp.csr_matrix(adjacency, dtype=np.float32)
    a = (a + sp.eye(a.shape[0], dtype=np.float32, format="csr")).tocsr()
    a.data[:] = 1.0  # binary, with exactly one self loop per node
    degree = np.asarray(a.sum(axis=1)).ravel()
    inv_sqrt = sp.diags(1.0 / np.sqrt(degree))
    return (inv_sqrt @ a @ inv_sqrt).tocsr().astype(np.float32)


def to_torch_sparse(matrix: sp.spmatrix, device: torch.device | str = "cpu") -> torch.Tensor:
    """A scipy sparse matrix as a torch sparse CSR tensor."""
    m = sp.csr_matrix(matrix)
    with warnings.catch_warnings():  # "sparse CSR support is in beta": spmm with CSR is stable
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(
            torch.from_numpy(m.indptr.astype(np.int64)),
            torch.from_numpy(m.indices.astype(np.int64)),
            torch.from_numpy(m.data.astype(np.float32)),
            size=m.shape,
            device=device,
            check_invariants=False,
        )


def edge_pairs(adjacency: sp.spmatrix) -> np.ndarray:
    """The (2, E) array of the upper-triangle edges of a symmetric adjacency."""
    upper = sp.triu(adjacency, k=1).tocoo()
    return np.vstack([upper.row, upper.col]).astype(np.int64)


def sample_non_edges(
    adjacency: sp.csr_matrix, n_pairs: int, generator: np.random.Generator
) -> np.ndarray:
    """Sample ``n_pairs`` random (i, j) pairs with i != j that are not edges (rejection sampling)."""
    n = adjacency.shape[0]
    if n < 2 or n_pairs == 0:
        return np.zeros((2, 0), dtype=np.int64)
    found: list[np.ndarray] = []
    total = 0
    for _ in range(20):
        i = generator.integers(0, n, size=2 * n_pairs)
        j = generator.integers(0, n, size=2 * n_pairs)
        keep = i != j
        i, j = i[keep], j[keep]
        is_edge = np.asarray(adjacency[i, j]).ravel() != 0
        pairs = np.vstack([i[~is_edge], j[~is_edge]])
        found.append(pairs)
        total += pairs.shape[1]
        if total >= n_pairs:
            break
    return np.concatenate(found, axis=1)[:, :n_pairs].astype(np.int64)
