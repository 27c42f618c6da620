"""Building the network and running it on every cell: shared by training and the saved model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..graph import normalized_adjacency, to_torch_sparse
from ..module import MAX_ATTENTION_KEYS, ScDeferNetwork, soft_assignment
from ..params import TrainParams
from ._data import CellData

if TYPE_CHECKING:
    from ..reference import QueryCells, Reference

# Inference runs every cell-wise transform this many cells at a time: memory is then linear in
# the cells (cells x the widest hidden layer), and the sparse input is never made dense whole.
INFERENCE_CHUNK = 16384


@dataclass
class Embedding:
    """Full-data latents in evaluation mode."""

    z: torch.Tensor
    z_dense: torch.Tensor | None  # None when that encoder is ablated
    z_graph: torch.Tensor | None


def build_network(n_genes: int, n_cells: int, n_clusters: int, params: TrainParams,
                  n_pcs: int = 0) -> ScDeferNetwork:
    """The network described by ``params`` (also used to rebuild a saved model).

    ``n_pcs``: the PCA's width, for the training-only PCA decoder (when ``weight_pca`` > 0); a
    saved model is rebuilt without it (0).
    """
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
        attention_keys=params.batch_size or MAX_ATTENTION_KEYS,
        attention=params.attention,
        encoders=params.encoders,
        layer_fusion=params.layer_fusion,
        fused_propagation=params.fused_propagation,
        zinb_decoder=params.has_zinb_term,
        projection=params.weight_contrast > 0 and params.contrast_head,
        pca_decoder=n_pcs if params.weight_pca > 0 else 0,
    )


@torch.no_grad()
def embed(network: ScDeferNetwork, data: CellData, device: torch.device,
          transductive: bool = True) -> Embedding:
    """Latents of every cell on the whole graph, in evaluation mode (no dropout, BN running stats).

    Layer by layer over all cells, each transform :data:`INFERENCE_CHUNK` cells at a time.
    """
    network.eval()
    adj_t = to_torch_sparse(normalized_adjacency(data.adjacency), device)
    index = torch.arange(data.n_cells, device=device) if transductive else None
    out = network.encode(data.inputs.dense, adj_t, index, chunk=INFERENCE_CHUNK,
                         x_graph=data.inputs.graph)
    return Embedding(z=out.z, z_dense=out.z_dense, z_graph=out.z_graph)


@torch.no_grad()
def assign(network: ScDeferNetwork, z: torch.Tensor) -> torch.Tensor:
    """Soft assignments of ``z`` to the network's cluster centres (no gradient)."""
    return soft_assignment(z, network.centers)


@torch.no_grad()
def embed_attached(network: ScDeferNetwork, reference: Reference, cells: QueryCells,
                   device: torch.device) -> np.ndarray:
    """Latents of new cells attached to the training graph, chunk by chunk (see :mod:`reference`).

    Each pass runs the training cells plus one chunk of new cells; the training rows never see the
    new ones, so a new cell's latent is the same whatever else is in its chunk or the call.
    """
    network.eval()
    out = np.empty((cells.n_cells, network.centers.shape[1]), dtype=np.float32)
    for rows, links in reference.links(cells.coords):
        adj_t = to_torch_sparse(reference.attached_adjacency(links), device)
        inputs = reference.attached_inputs(cells, rows)
        unseen = torch.full((rows.stop - rows.start,), -1)  # -1: not a training cell
        index = torch.cat([torch.arange(reference.n_cells), unseen]).to(device)
        z = network.encode(inputs.dense, adj_t, index, n_keys=reference.n_cells,
                           chunk=INFERENCE_CHUNK, x_graph=inputs.graph).z
        out[rows] = z[reference.n_cells:].cpu().numpy()
    return out
