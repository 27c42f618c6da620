"""Layers: topology adaptive graph convolution and a fully connected block."""

from __future__ import annotations

import torch
from torch import nn


def propagate(adj_t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Sparse product ``Â x`` (no per-edge messages are materialised)."""
    return torch.sparse.mm(adj_t, x)


class TAGConv(nn.Module):
    """Topology adaptive graph convolution (Du et al. 2017): ``sum_k Â^k X W_k + b``.

    Equal to :class:`torch_geometric.nn.TAGConv` with ``normalize=False`` given the normalised
    adjacency ``Â`` (the tests check it), but it transforms before it propagates (Horner's
    scheme), so the K sparse products run at the output width instead of the input width. It
    is written on ``torch.sparse`` alone: importing torch_geometric at run time costs about
    260 MB of resident memory per process for one sparse product.

    Parameters
    ----------
    in_channels, out_channels
        Feature widths.
    K
        Number of hops (the polynomial degree).
    """

    def __init__(self, in_channels: int, out_channels: int, K: int = 3, bias: bool = True) -> None:
        super().__init__()
        self.K = K
        self.out_channels = out_channels
        self.lin = nn.Linear(in_channels, out_channels * (K + 1), bias=False)
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None

    def forward(self, x: torch.Tensor, adj_t: torch.Tensor) -> torch.Tensor:
        """Apply the layer; ``adj_t`` is the (symmetric) normalised adjacency as a sparse tensor."""
        hops = self.lin(x).split(self.out_channels, dim=-1)
        out = hops[self.K]
        for k in range(self.K - 1, -1, -1):
            out = hops[k] + propagate(adj_t, out)
        if self.bias is not None:
            out = out + self.bias
        return out


class DenseBlock(nn.Module):
    """Linear -> BatchNorm -> ReLU -> Dropout (hidden layers of encoders and decoder)."""

    def __init__(self, in_features: int, out_features: int, dropout: float) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.post = _activation(out_features, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block."""
        return self.post(self.linear(x))


def _activation(width: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.BatchNorm1d(width), nn.ReLU(), nn.Dropout(dropout))


class GraphBlock(nn.Module):
    """TAGConv -> BatchNorm -> ReLU -> Dropout (hidden layers of the graph encoder)."""

    def __init__(self, in_features: int, out_features: int, hops: int, dropout: float) -> None:
        super().__init__()
        self.conv = TAGConv(in_features, out_features, K=hops)
        self.post = _activation(out_features, dropout)

    def forward(self, x: torch.Tensor, adj_t: torch.Tensor) -> torch.Tensor:
        """Apply the block."""
        return self.post(self.conv(x, adj_t))
