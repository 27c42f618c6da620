"""scDEFER's training objective (paper Eq. 21): which losses, on which outputs, with which weights.

The trainer only runs the loop; what is minimised lives here, next to the network, as a function
returning every term (like scvi-tools' ``module.loss``), so the history records each part.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ._losses import (
    clustering_kl,
    contrastive_loss,
    graph_reconstruction_loss,
    soft_assignment,
    soft_bce,
    target_distribution,
    zinb_nll,
)
from ._network import NetworkOutput, encoder_latents


@dataclass(frozen=True)
class LossWeights:
    """gamma_1..gamma_4 of Eq. 21, the graph loss's form and the optional contrastive term."""

    graph: float
    zinb: float
    kl: float
    bce: float
    graph_loss: str = "pairs"
    contrast: float = 0.0  # weight of NT-Xent between two views in pre-training (not the paper)
    contrast_temperature: float = 0.5
    target_balance: float = 1.0  # exponent of the cluster frequency in P (1 = DEC)
    pca: float = 0.0  # weight of the PCA reconstruction term (not the paper)


@dataclass
class GraphPairs:
    """A batch's graph: edges, sampled non-edges and Â on the edges (local indices)."""

    edges: torch.Tensor
    non_edges: torch.Tensor
    edge_values: torch.Tensor


def objective(
    out: NetworkOutput,
    centers: torch.Tensor,
    counts: torch.Tensor | None,
    size_factors: torch.Tensor | None,
    pairs: GraphPairs,
    weights: LossWeights,
    clustering: bool,
    targets: dict[str, torch.Tensor] | None = None,
    views: tuple[torch.Tensor, torch.Tensor] | None = None,
    pca: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """Every loss term and their weighted sum under ``"loss"``.

    Pre-training: ``gamma_1 L_r + gamma_2 L_ZINB`` (no ZINB term at weight 0, when ``counts`` may
    be None). Clustering adds ``gamma_3 KL(P || Q)`` on Z and
    ``gamma_4 (BCE(Q_D, P_D) + BCE(Q_G, P_G))``; ``targets`` (rows of P for these cells, detached,
    DEC) or, when None, P from this batch's own Q with gradients (the authors' code).
    ``views``, the (projected) latents of two passes over the same cells with other input
    corruption, adds ``weights.contrast`` times the NT-Xent between them. ``pca``, the cells'
    scaled PCA coordinates, adds ``weights.pca`` times the mean squared error of the network's
    PCA decoder, in both phases (so the clustering phase, too, keeps the latent close to the PCA's
    structure, as IDEC keeps its reconstruction term).
    """
    terms = {"graph": graph_reconstruction_loss(weights.graph_loss, out.z, pairs.edges,
                                                pairs.non_edges, pairs.edge_values)}
    total = weights.graph * terms["graph"]
    if weights.zinb > 0:
        terms["zinb"] = zinb_nll(counts, out.mean * size_factors, out.dispersion, out.pi_logits)
        total = weights.zinb * terms["zinb"] + total
    if pca is not None:
        terms["pca"] = F.mse_loss(out.pca, pca)
        total = total + weights.pca * terms["pca"]
    if views is not None:
        terms["contrast"] = contrastive_loss(*views, weights.contrast_temperature)
        total = total + weights.contrast * terms["contrast"]
    if clustering:
        latents = {"z": out.z, **encoder_latents(out)}
        q = {name: soft_assignment(z, centers) for name, z in latents.items()}
        p = targets if targets is not None else {
            k: target_distribution(v, weights.target_balance) for k, v in q.items()}
        terms["kl"] = clustering_kl(p["z"], q["z"])
        terms["bce"] = sum(soft_bce(q[name], p[name]) for name in q if name != "z")
        total = total + weights.kl * terms["kl"] + weights.bce * terms["bce"]
    terms["loss"] = total
    return terms
