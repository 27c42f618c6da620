"""Sparse graph pieces against dense computations on tiny graphs."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch_geometric.nn import TAGConv as PygTAGConv

from scdefer.graph import (
    edge_pairs,
    knn_graph,
    normalized_adjacency,
    sample_non_edges,
    to_torch_sparse,
)
from scdefer.module import TAGConv


def _tiny_graph() -> sp.csr_matrix:
    edges = [(0, 1), (1, 2), (2, 3), (3, 0), (0, 2), (4, 3)]
    a = np.zeros((5, 5), dtype=np.float32)
    for i, j in edges:
        a[i, j] = a[j, i] = 1
    return sp.csr_matrix(a)


def test_normalized_adjacency_matches_dense() -> None:
    a = _tiny_graph().toarray()
    a_hat = a + np.eye(5)
    d = np.diag(1 / np.sqrt(a_hat.sum(axis=1)))
    expected = d @ a_hat @ d
    got = normalized_adjacency(_tiny_graph()).toarray()
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert sp.issparse(normalized_adjacency(_tiny_graph()))


def test_tagconv_matches_dense_polynomial_and_pyg() -> None:
    torch.manual_seed(0)
    norm = normalized_adjacency(_tiny_graph())
    a = torch.tensor(norm.toarray())
    x = torch.randn(5, 6)
    conv = TAGConv(6, 4, K=3)
    weights = conv.lin.weight.detach().split(4, dim=0)  # K+1 blocks of (out, in)
    expected = sum(torch.linalg.matrix_power(a, k) @ x @ weights[k].T for k in range(4))
    expected = expected + conv.bias.detach()
    got = conv(x, to_torch_sparse(norm))
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)

    reference = PygTAGConv(6, 4, K=3, normalize=False)
    with torch.no_grad():
        for k, lin in enumerate(reference.lins):
            lin.weight.copy_(weights[k])
        reference.bias.copy_(conv.bias)
    coo = norm.tocoo()
    edge_index = torch.tensor(np.vstack([coo.row, coo.col]), dtype=torch.long)
    pyg = reference(x, edge_index, torch.tensor(coo.data))
    torch.testing.assert_close(got, pyg, rtol=1e-5, atol=1e-5)


def test_tagconv_gradients_flow() -> None:
    norm = to_torch_sparse(normalized_adjacency(_tiny_graph()))
    conv = TAGConv(3, 2, K=2)
    x = torch.randn(5, 3, requires_grad=True)
    conv(x, norm).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert conv.lin.weight.grad.abs().sum() > 0


def test_knn_graph_is_symmetric_binary_without_self_loops() -> None:
    rng = np.random.default_rng(0)
    coords = rng.normal(size=(60, 5))
    conn, dist = knn_graph(coords, 4)
    assert (conn != conn.T).nnz == 0
    assert set(np.unique(conn.data)) == {1.0}
    assert conn.diagonal().sum() == 0
    assert (np.asarray(conn.sum(axis=1)).ravel() >= 4).all()
    assert dist.shape == (60, 60)


def test_edge_pairs_and_non_edges() -> None:
    adj = _tiny_graph()
    pairs = edge_pairs(adj)
    assert pairs.shape == (2, 6)
    assert (pairs[0] < pairs[1]).all()
    neg = sample_non_edges(adj, 3, np.random.default_rng(0))
    assert neg.shape == (2, 3)
    dense = adj.toarray()
    assert all(dense[i, j] == 0 and i != j for i, j in neg.T)


@pytest.mark.parametrize("n", [1, 2])
def test_non_edges_on_degenerate_graphs(n: int) -> None:
    adj = sp.csr_matrix((n, n), dtype=np.float32)
    out = sample_non_edges(adj, 2, np.random.default_rng(0))
    if n == 1:  # a single node has no pair at all
        assert out.shape == (2, 0)
    else:  # two unconnected nodes: only (0, 1) and (1, 0) are non-edges
        assert out.shape == (2, 2)
        assert {tuple(p) for p in out.T} <= {(0, 1), (1, 0)}


def test_approximate_knn_recalls_the_exact_neighbours() -> None:
    """NN-descent (used above EXACT_KNN_MAX_CELLS cells) finds nearly all exact neighbours."""
    from scdefer.graph import nearest_neighbors, resolve_knn_method
    from scdefer.params import EXACT_KNN_MAX_CELLS

    rng = np.random.default_rng(0)
    centres = rng.normal(scale=5, size=(6, 10))
    coords = (centres[rng.integers(0, 6, 1500)] + rng.normal(size=(1500, 10))).astype(np.float32)
    exact, _ = nearest_neighbors(coords, 10, "exact")
    approx, dist = nearest_neighbors(coords, 10, "approximate")
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact, strict=True)])
    assert recall > 0.9
    assert np.all(approx != np.arange(1500)[:, None])  # no cell is its own neighbour
    assert np.all(np.diff(dist, axis=1) >= 0)
    assert resolve_knn_method("auto", EXACT_KNN_MAX_CELLS) == "exact"
    assert resolve_knn_method("auto", EXACT_KNN_MAX_CELLS + 1) == "approximate"
