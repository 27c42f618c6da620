"""Pure-torch pieces of scDEFER: layers, the network and its losses (no AnnData here)."""

from ._layers import Rows, TAGConv, dense_rows
from ._losses import (
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
from ._network import MAX_ATTENTION_KEYS, NetworkOutput, ScDeferNetwork, encoder_latents
from ._objective import GraphPairs, LossWeights, objective

__all__ = [
    "MAX_ATTENTION_KEYS",
    "GraphPairs",
    "LossWeights",
    "NetworkOutput",
    "Rows",
    "ScDeferNetwork",
    "TAGConv",
    "clustering_kl",
    "contrastive_loss",
    "dense_rows",
    "encoder_latents",
    "graph_edge_mse_loss",
    "graph_pair_loss",
    "graph_pair_squared_loss",
    "graph_reconstruction_loss",
    "objective",
    "soft_assignment",
    "soft_bce",
    "target_distribution",
    "zinb_nll",
]
