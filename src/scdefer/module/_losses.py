"""Loss functions of scDEFER (paper Eq. 9, 13-20), written for sparse graphs and mini-batches."""

from __future__ import annotations

import torch
import torch.nn.functional as F

_EPS = 1e-10


def zinb_nll(
    x: torch.Tensor, mean: torch.Tensor, dispersion: torch.Tensor, pi_logits: torch.Tensor
) -> torch.Tensor:
    """Mean negative log-likelihood of ``x`` under ZINB(mean, dispersion, pi=sigmoid(logits)).

    Computed in log space: ``log pi = -softplus(-l)``, ``log(1 - pi) = -softplus(l)``.
    """
    theta = dispersion
    log_theta_mu = torch.log(theta + mean + _EPS)
    log_nb = (
        torch.lgamma(x + theta)
        - torch.lgamma(theta)
        - torch.lgamma(x + 1.0)
        + theta * (torch.log(theta + _EPS) - log_theta_mu)
        + x * (torch.log(mean + _EPS) - log_theta_mu)
    )
    log_pi = -F.softplus(-pi_logits)
    log_one_minus_pi = -F.softplus(pi_logits)
    log_nb_zero = theta * (torch.log(theta + _EPS) - log_theta_mu)
    log_zero = torch.logaddexp(log_pi, log_one_minus_pi + log_nb_zero)
    log_lik = torch.where(x < 0.5, log_zero, log_one_minus_pi + log_nb)
    return -log_lik.mean()


def soft_assignment(z: torch.Tensor, centers: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """Student-t similarity of each row of ``z`` to each centre, rows summing to 1 (Eq. 16)."""
    sq_dist = torch.cdist(z, centers).pow(2)
    q = (1.0 + sq_dist / alpha).pow(-(alpha + 1.0) / 2.0)
    return q / q.sum(dim=1, keepdim=True)


def target_distribution(q: torch.Tensor, balance: float = 1.0) -> torch.Tensor:
    """Sharpened target ``p_iu = (q_iu^2 / f_u^b) / sum_r (q_ir^2 / f_r^b)``, ``f_u = sum_i q_iu``.

    ``b = balance``; 1 is Eq. 17 (DEC), which favours clusters of equal size.
    """
    weight = q.pow(2) / q.sum(dim=0, keepdim=True).pow(balance)
    return weight / weight.sum(dim=1, keepdim=True)


def clustering_kl(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """``KL(P || Q)`` averaged over cells (Eq. 18)."""
    return (p * (torch.log(p + _EPS) - torch.log(q + _EPS))).sum(dim=1).mean()


def soft_bce(q: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of ``q`` against the soft target ``p`` (Eq. 19-20), mean over entries."""
    q = q.clamp(_EPS, 1.0 - 1e-7)
    return -(p * torch.log(q) + (1.0 - p) * torch.log(1.0 - q)).mean()


def graph_pair_loss(z: torch.Tensor, edges: torch.Tensor, non_edges: torch.Tensor) -> torch.Tensor:
    """Inner-product decoder on edges (target 1) and sampled non-edges (target 0), as BCE.

    The sampled form of ``||A - sigmoid(Z Z^T)||`` (Eq. 8-9) that no constant prediction satisfies.
    """
    pos = (z[edges[0]] * z[edges[1]]).sum(dim=1)
    loss = F.binary_cross_entropy_with_logits(pos, torch.ones_like(pos))
    if non_edges.shape[1] > 0:
        neg = (z[non_edges[0]] * z[non_edges[1]]).sum(dim=1)
        loss = 0.5 * (loss + F.binary_cross_entropy_with_logits(neg, torch.zeros_like(neg)))
    return loss


def graph_pair_squared_loss(
    z: torch.Tensor, edges: torch.Tensor, non_edges: torch.Tensor
) -> torch.Tensor:
    """The paper's ``||A - sigmoid(Z Z^T)||^2`` (Eq. 8-9) on edges (A = 1) and sampled non-edges (A = 0).

    Mean squared error over the sampled pairs: an unbiased estimate, up to scale, of the full sum
    when as many non-edges as edges are drawn.
    """
    pos = torch.sigmoid((z[edges[0]] * z[edges[1]]).sum(dim=1))
    squares = (1.0 - pos).pow(2)
    if non_edges.shape[1] > 0:
        neg = torch.sigmoid((z[non_edges[0]] * z[non_edges[1]]).sum(dim=1))
        squares = torch.cat([squares, neg.pow(2)])
    return squares.mean()


def graph_edge_mse_loss(
    z: torch.Tensor, edges: torch.Tensor, edge_values: torch.Tensor, n_nodes: int
) -> torch.Tensor:
    """The authors' variant: squared error of sigmoid(z_i.z_j) against Â_ij on edges only, per node."""
    pred = torch.sigmoid((z[edges[0]] * z[edges[1]]).sum(dim=1))
    return (edge_values - pred).pow(2).sum() / max(n_nodes, 1)


def contrastive_loss(z_a: torch.Tensor, z_b: torch.Tensor, temperature: float) -> torch.Tensor:
    """NT-Xent (SimCLR) between two views of the same cells, rows paired.

    Each cell's other view is its positive; the other ``2n - 2`` views of the batch are its
    negatives; cosine similarities over ``temperature``, mean cross-entropy over all ``2n`` views.
    """
    n = z_a.shape[0]
    z = F.normalize(torch.cat([z_a, z_b]), dim=1)
    logits = (z @ z.T / temperature).masked_fill(
        torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
    positives = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    return F.cross_entropy(logits, positives)


def graph_reconstruction_loss(
    kind: str, z: torch.Tensor, edges: torch.Tensor, non_edges: torch.Tensor,
    edge_values: torch.Tensor,
) -> torch.Tensor:
    """The graph loss named by ``kind``: ``pairs`` (BCE), ``squared`` (paper Eq. 9), ``edges`` (code)."""
    if kind == "pairs":
        return graph_pair_loss(z, edges, non_edges)
    if kind == "squared":
        return graph_pair_squared_loss(z, edges, non_edges)
    if kind == "edges":
        return graph_edge_mse_loss(z, edges, edge_values, z.shape[0])
    raise ValueError(f"unknown graph loss {kind!r}")
