"""Pure-torch pieces of scDEFER: layers, the network and its losses (no AnnData here)."""

from ._layers import TAGConv
from ._losses import (
    clustering_kl,
    graph_edge_mse_loss,
    graph_pair_loss,
    graph_pair_squared_loss,
    graph_reconstruction_loss,
    soft_assignment,
    soft_bce,
    target_distribution,
    zinb_nll,
)
from ._network import ScDeferNetwork

__all__ = [
    "ScDeferNetwork",
    "TAGConv",
    "clustering_kl",
    "graph_edge_mse_loss",
    "graph_pair_loss",
    "graph_pair_squared_loss",
    "graph_reconstruction_loss",
    "soft_assignment",
    "soft_bce",
    "target_distribution",
    "zinb_nll",
]
