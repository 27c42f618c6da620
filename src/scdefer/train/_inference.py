"""Building the network and running it on every cell: shared by training and the saved model."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..graph import normalized_adjacency, to_torch_sparse
from ..module import ScDeferNetwork, soft_assignment
from ..params import TrainParams
from ._data import CellData


@dataclass
class Embedding:
    """Full-data latents in evaluation mode."""

    z: torch.Tensor
    z_dense: torch.Tensor
    z_graph: torch.Tensor


def build_network(n_genes: int, n_cells: int, n_clusters: int, params: TrainParams) -> ScDeferNetwork:
    """The network described by ``params`` (also used to rebuild a saved model)."""
    return ScDeferNetwork(
        n_genes,
        hidden=tuple(params.hidden),
        decoder_hidden=tuple(params.decoder_hidden),
        alpha=params.alpha,
        hops=params.hops,
        dropout=params.dropout,
        fusion_weights=params.fusion_weights,
        n_cells=n_cells,
        n_clusters=n_clusters,
    )


@torch.no_grad()
def embed(network: ScDeferNetwork, data: CellData, device: torch.device,
          transductive: bool = True) -> Embedding:
    """Latents of every cell on the whole graph, in evaluation mode (no dropout, BN running stats)."""
    network.eval()
    adj_t = to_torch_sparse(normalized_adjacency(data.adjacency), device)
    x = torch.from_numpy(data.features.toarray()).to(device)
    index = torch.arange(data.n_cells, device=device) if transductive else None
    out = network.encode(x, adj_t, index)
    return Embedding(z=out.z, z_dense=out.z_dense, z_graph=out.z_graph)


@torch.no_grad()
def assign(network: ScDeferNetwork, z: torch.Tensor) -> torch.Tensor:
    """Soft assignments of ``z`` to the network's cluster centres (no gradient)."""
    return soft_assignment(z, network.centers)
