"""Layers: topology adaptive graph convolution and a fully connected block."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import nn

from ..residuals import ResidualRows

# The input of inference may be the training data's sparse feature matrix or its residual rows:
# it is made dense one block of rows at a time, never whole.
Rows = torch.Tensor | sp.csr_matrix | ResidualRows


def propagate(adj_t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Sparse product ``Â x`` (no per-edge messages are materialised)."""
    return torch.sparse.mm(adj_t, x)


def dense_rows(x: Rows, index: slice | np.ndarray, device: torch.device) -> torch.Tensor:
    """Rows ``index`` (a slice or integer array) of ``x`` as a dense float32 tensor on ``device``."""
    if isinstance(x, torch.Tensor):
        return x[index]
    block = x[index]
    if sp.issparse(block):
        block = block.toarray()
    return torch.from_numpy(np.asarray(block, dtype=np.float32)).to(device)


def by_rows(fn: Callable[[torch.Tensor], torch.Tensor], x: Rows, chunk: int | None,
            device: torch.device) -> torch.Tensor:
    """``fn(x)`` for a row-wise ``fn``, computed ``chunk`` rows at a time (all at once if None)."""
    n = x.shape[0]
    if chunk is None or n <= chunk:
        return fn(dense_rows(x, slice(0, n), device))
    step = max(1, chunk)
    return torch.cat([fn(dense_rows(x, slice(i, min(i + step, n)), device))
                      for i in range(0, n, step)])


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

    def forward(self, x: Rows, adj_t: torch.Tensor, chunk: int | None = None) -> torch.Tensor:
        """Apply the layer; ``adj_t`` is the (symmetric) normalised adjacency as a sparse tensor.

        With ``chunk`` (inference on many cells) each hop's transform runs ``chunk`` rows at a
        time and only two cells x ``out_channels`` arrays are alive at once.
        """
        if chunk is None or x.shape[0] <= chunk:
            hops = self.lin(dense_rows(x, slice(0, x.shape[0]), self.lin.weight.device))
            parts = hops.split(self.out_channels, dim=-1)

            def hop(k: int) -> torch.Tensor:
                return parts[k]
        else:
            weights = self.lin.weight.split(self.out_channels, dim=0)
            device = self.lin.weight.device

            def hop(k: int) -> torch.Tensor:
                return by_rows(lambda rows: F.linear(rows, weights[k]), x, chunk, device)
        out = hop(self.K)
        for k in range(self.K - 1, -1, -1):
            out = hop(k) + propagate(adj_t, out)
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

    def forward(self, x: Rows, adj_t: torch.Tensor, chunk: int | None = None) -> torch.Tensor:
        """Apply the block (the convolution's transforms ``chunk`` rows at a time)."""
        return self.post(self.conv(x, adj_t, chunk))
