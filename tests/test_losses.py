"""Loss functions against independent computations (scipy, hand-made numbers)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from scdefer.module import (
    clustering_kl,
    contrastive_loss,
    graph_edge_mse_loss,
    graph_pair_loss,
    graph_pair_squared_loss,
    graph_reconstruction_loss,
    soft_assignment,
    soft_bce,
    target_distribution,
    zinb_nll,
)


def _zinb_pmf(x: np.ndarray, mu: np.ndarray, theta: np.ndarray, pi: np.ndarray) -> np.ndarray:
    nb = stats.nbinom.pmf(x, theta, theta / (theta + mu))
    return np.where(x == 0, pi + (1 - pi) * nb, (1 - pi) * nb)


@pytest.mark.parametrize("pi", [0.0, 0.3, 0.9])
def test_zinb_nll_matches_scipy(pi: float) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 30, size=(5, 7)).astype(np.float64)
    x[0, :3] = 0
    mu = rng.uniform(0.1, 20, size=x.shape)
    theta = rng.uniform(0.2, 10, size=x.shape)
    pis = np.full(x.shape, pi)
    expected = -np.log(_zinb_pmf(x, mu, theta, pis)).mean()
    logits = torch.logit(torch.tensor(pis), eps=1e-12) if pi > 0 else torch.full(x.shape, -50.0)
    got = zinb_nll(torch.tensor(x), torch.tensor(mu), torch.tensor(theta), logits.double())
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_zinb_nll_prefers_the_true_mean() -> None:
    x = torch.tensor([[5.0, 0.0, 12.0]])
    theta, logits = torch.full_like(x, 3.0), torch.full_like(x, -3.0)
    good = zinb_nll(x, torch.tensor([[5.0, 0.5, 12.0]]), theta, logits)
    bad = zinb_nll(x, torch.tensor([[50.0, 20.0, 1.0]]), theta, logits)
    assert good < bad


def test_soft_assignment_student_t_by_hand() -> None:
    z = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    centers = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    q = soft_assignment(z, centers)
    # cell 0: distances^2 0 and 1 -> kernels 1 and 1/2 -> q = 2/3, 1/3
    # cell 1: distances^2 2 and 1 -> kernels 1/3 and 1/2 -> q = 0.4, 0.6
    assert torch.allclose(q, torch.tensor([[2 / 3, 1 / 3], [0.4, 0.6]]), atol=1e-6)


def test_target_distribution_by_hand() -> None:
    q = torch.tensor([[0.8, 0.2], [0.5, 0.5]])
    f = q.sum(dim=0)  # 1.3, 0.7
    w = q**2 / f
    expected = w / w.sum(dim=1, keepdim=True)
    p = target_distribution(q)
    assert torch.allclose(p, expected)
    assert p[0, 0] > q[0, 0]  # sharpened
    assert torch.allclose(p.sum(dim=1), torch.ones(2))
    # balance 0: the cluster frequencies drop out, so the tied cell stays tied
    flat = target_distribution(q, balance=0.0)
    assert torch.allclose(flat, q**2 / (q**2).sum(dim=1, keepdim=True))
    assert flat[1, 0] == flat[1, 1] and p[1, 1] > p[1, 0]  # DEC favours the smaller cluster


def test_kl_and_bce_are_zero_or_minimal_at_the_target() -> None:
    p = torch.tensor([[0.7, 0.3], [0.1, 0.9]])
    assert clustering_kl(p, p).item() == pytest.approx(0.0, abs=1e-6)
    assert clustering_kl(p, torch.full_like(p, 0.5)).item() > 0.05
    assert soft_bce(p, p) < soft_bce(torch.full_like(p, 0.5), p)


def test_graph_pair_loss_penalises_constant_predictions() -> None:
    # every node at the same point: edges predicted 1, but non-edges as well -> high loss
    z_const = torch.full((4, 3), 3.0)
    z_good = torch.tensor([[3.0, 0, 0], [3.0, 0, 0], [-3.0, 0, 0], [-3.0, 0, 0]])
    edges = torch.tensor([[0, 2], [1, 3]])
    non_edges = torch.tensor([[0, 1], [2, 3]])
    assert graph_pair_loss(z_good, edges, non_edges) < 0.01
    assert graph_pair_loss(z_const, edges, non_edges) > 5


def test_graph_edge_mse_loss_by_hand() -> None:
    z = torch.zeros(3, 2)  # sigmoid(0) = 0.5 on every edge
    edges = torch.tensor([[0, 1], [1, 2]])
    values = torch.tensor([0.25, 0.5])
    expected = ((0.25 - 0.5) ** 2 + 0.0) / 3
    assert graph_edge_mse_loss(z, edges, values, 3).item() == pytest.approx(expected)


def test_graph_pair_squared_loss_by_hand() -> None:
    """Eq. 9 on sampled pairs: mean of (1 - sigmoid(z_i.z_j))^2 on edges and sigmoid^2 off them."""
    z = torch.tensor([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]])
    edges = torch.tensor([[0], [1]])  # z0.z1 = 2
    non_edges = torch.tensor([[0], [2]])  # z0.z2 = 0
    sig2 = 1.0 / (1.0 + np.exp(-2.0))
    expected = ((1.0 - sig2) ** 2 + 0.5**2) / 2
    assert graph_pair_squared_loss(z, edges, non_edges).item() == pytest.approx(expected)
    assert graph_reconstruction_loss("squared", z, edges, non_edges, torch.ones(1)).item() == \
        pytest.approx(expected)
    with pytest.raises(ValueError, match="unknown graph loss"):
        graph_reconstruction_loss("bogus", z, edges, non_edges, torch.ones(1))


def test_contrastive_loss_by_hand() -> None:
    """NT-Xent of two cells: each view's positive is the other view of its cell."""
    z_a = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    z_b = torch.tensor([[3.0, 0.0], [0.0, 1.0]])  # the same directions: cosine 1 to its pair
    t = 0.5
    # every view: cosine 1 to its positive, 0 to the two other views
    expected = -np.log(np.exp(1 / t) / (np.exp(1 / t) + 2 * np.exp(0.0)))
    assert contrastive_loss(z_a, z_b, t).item() == pytest.approx(expected, rel=1e-5)
    swapped = contrastive_loss(z_a, z_b.flip(0), t)  # the pairs crossed: positives orthogonal
    assert swapped.item() > expected + 1.0
