"""The scDEFER network: two layer-wise fused encoders, heterogeneous fusion, optional ZINB decoder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch
import torch.nn.functional as F
from torch import nn

from ..params import ATTENTIONS, ENCODERS, Attention, Encoders, FusionWeights
from ._layers import DenseBlock, GraphBlock, Rows, TAGConv, by_rows, propagate


@dataclass
class NetworkOutput:
    """What one forward pass returns."""

    z_dense: torch.Tensor | None  # Z_D, latent of the fusion cell topology encoder (if built)
    z_graph: torch.Tensor | None  # Z_G, latent of the graph encoder (if built)
    z: torch.Tensor  # fused latent Z
    mean: torch.Tensor | None = None  # ZINB mean (before size factors)
    dispersion: torch.Tensor | None = None
    pi_logits: torch.Tensor | None = None
    pca: torch.Tensor | None = None  # the PCA decoder's reconstruction of the cell's PCA coordinates


class EncoderLatents(Protocol):
    """Anything carrying both encoders' latents: a forward pass or a full-data embedding."""

    z_dense: torch.Tensor | None
    z_graph: torch.Tensor | None


def encoder_latents(out: EncoderLatents) -> dict[str, torch.Tensor]:
    """``{"dense": Z_D, "graph": Z_G}`` of ``out``, the encoders that are built only."""
    latents = {"dense": out.z_dense, "graph": out.z_graph}
    return {name: z for name, z in latents.items() if z is not None}


# The most keys the global attention looks at when the network is trained on the whole graph in
# every step (``batch_size`` 0); above it, evenly spaced cells stand for all (linear cost).
MAX_ATTENTION_KEYS = 16384
# Parameters that only training uses: a saved model leaves them out (see inference_state).
TRAINING_ONLY_PREFIXES = ("pca_decoder.",)


def global_attention(queries: torch.Tensor, keys: torch.Tensor, chunk: int = 4096,
                     max_keys: int = MAX_ATTENTION_KEYS) -> torch.Tensor:
    """``softmax(Q Kᵀ) K`` (Eq. 5, scale 1), in row chunks: never more than ``chunk`` x keys.

    More than ``max_keys`` keys are thinned to ``max_keys`` evenly spaced ones.
    """
    if keys.shape[0] > max_keys:
        keys = keys[torch.linspace(0, keys.shape[0] - 1, max_keys, device=keys.device).long()]
    return torch.cat([
        F.scaled_dot_product_attention(part[None], keys[None], keys[None], scale=1.0)[0]
        for part in queries.split(chunk)
    ])


class ScDeferNetwork(nn.Module):
    """Layer-wise fused dense + TAGConv encoders, DFCN-style fusion and (optionally) a ZINB decoder.

    Parameters
    ----------
    n_genes
        Input width (highly variable genes).
    hidden
        Encoder widths; the last is the latent size (paper: 1024, 128, 24).
    decoder_hidden
        Decoder widths (paper: 128, 1024).
    alpha
        Layer-wise fusion weight of the dense encoder (paper: 0.1).
    hops
        TAGConv polynomial degree (paper: 3).
    dropout
        Dropout on hidden layers.
    fusion_weights
        ``"dimension"``: learnable a, b of size latent (inductive, default); ``"cell"``: one a, b
        per cell and dimension as in the authors' code (transductive; needs ``n_cells``).
    n_cells
        Number of training cells (only for ``fusion_weights="cell"``).
    n_clusters
        Number of cluster centres (set later with :meth:`init_centers`).
    attention_keys
        How many cells the global attention looks at, at most: the training batch's size, so
        that inference over many cells sees as many keys as training did (more evenly spaced
        ones are thinned to this many). A softmax over 16,384 keys is far sharper than over 512:
        a network trained on 512-cell batches and applied with all 100,000 cells as keys lost
        its clusters (ARI 0.17 vs 1.0 of its graph latent alone, simulated data).
    attention
        ``"global"``: ``Z = beta softmax(Z_L Z_Lᵀ) Z_L + Z_L`` (Eq. 5-6, beta learnt from 0);
        ``"none"``: ``Z = Z_L``, the fused local latent (the fast schedule's default; beta is
        kept, unused, so every saved network has the same parameters).
    encoders
        ``"both"`` (the model); ``"dense"`` or ``"graph"``: that encoder alone, the other one is
        not built and ``Z_L`` is the graph propagation of its latent (an ablation).
    layer_fusion
        Whether each hidden layer of both encoders reads the fused layer ``Z^l`` (Eq. 1, 4);
        False: each encoder reads its own previous layer (an ablation).
    fused_propagation
        Whether the fused latent is propagated once more over the graph,
        ``Z_L = Â (a Z_D + b Z_G)`` (Eq. 5, the paper); False: ``Z_L = a Z_D + b Z_G`` (a probe
        of less smoothing).
    projection
        Whether to build a projection head ``g`` (latent -> latent -> latent MLP) for the
        contrastive pre-training term: the NT-Xent is taken on ``g(Z)``, so its push towards
        uniformly spread points falls on the head, not on the latent that is clustered (SimCLR,
        Chen et al. 2020). Built after every other layer, so all else starts from the same weights.
    zinb_decoder
        Whether the network keeps its ZINB decoder (False when the ZINB loss has weight 0: the
        genes-wide output layers then cost neither time nor memory, nor room in a saved model).
        Its weights are drawn either way, so everything else starts from the same weights and
        sees the same random draws: at ZINB weight 0 a network without the decoder trains as one
        with it (bit for bit on 1 thread, simulated data).
    """

    def __init__(
        self,
        n_genes: int,
        hidden: tuple[int, ...] = (1024, 128, 24),
        decoder_hidden: tuple[int, ...] = (128, 1024),
        alpha: float = 0.1,
        hops: int = 3,
        dropout: float = 0.1,
        fusion_weights: FusionWeights = "dimension",
        n_cells: int | None = None,
        n_clusters: int = 1,
        attention_keys: int = MAX_ATTENTION_KEYS,
        attention: Attention = "global",
        encoders: Encoders = "both",
        layer_fusion: bool = True,
        fused_propagation: bool = True,
        zinb_decoder: bool = True,
        projection: bool = False,
        pca_decoder: int = 0,
    ) -> None:
        super().__init__()
        if attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}, got {attention!r}")
        if encoders not in ENCODERS:
            raise ValueError(f"encoders must be one of {ENCODERS}, got {encoders!r}")
        self.alpha = alpha
        self.attention_keys = attention_keys
        self.attention = attention
        self.layer_fusion = layer_fusion and encoders == "both"
        self.fused_propagation = fused_propagation
        self.n_hidden_layers = len(hidden) - 1
        widths = (n_genes, *hidden)
        self.dense_layers: nn.ModuleList | None = None
        self.dense_out: nn.Linear | None = None
        if encoders != "graph":
            self.dense_layers = nn.ModuleList(
                DenseBlock(widths[i], widths[i + 1], dropout) for i in range(len(hidden) - 1)
            )
            self.dense_out = nn.Linear(widths[-2], widths[-1])
        self.graph_layers: nn.ModuleList | None = None
        self.graph_out: TAGConv | None = None
        if encoders != "dense":
            self.graph_layers = nn.ModuleList(
                GraphBlock(widths[i], widths[i + 1], hops, dropout) for i in range(len(hidden) - 1)
            )
            self.graph_out = TAGConv(widths[-2], widths[-1], K=hops)
        latent = hidden[-1]
        self.fusion_weights = fusion_weights
        if fusion_weights == "cell":
            if not n_cells:
                raise ValueError("fusion_weights='cell' needs n_cells")
            self.weight_a = nn.Parameter(torch.full((n_cells, latent), 0.5))
            self.weight_b = nn.Parameter(torch.full((n_cells, latent), 0.5))
        elif fusion_weights == "dimension":
            self.weight_a = nn.Parameter(torch.full((latent,), 0.5))
            self.weight_b = nn.Parameter(torch.full((latent,), 0.5))
        else:
            raise ValueError(f"fusion_weights must be 'dimension' or 'cell', got {fusion_weights!r}")
        self.beta = nn.Parameter(torch.zeros(1))
        dec_widths = (latent, *decoder_hidden)
        decoder = (
            nn.Sequential(*(DenseBlock(dec_widths[i], dec_widths[i + 1], 0.0)
                            for i in range(len(decoder_hidden)))),
            nn.Linear(dec_widths[-1], n_genes),
            nn.Linear(dec_widths[-1], n_genes),
            nn.Linear(dec_widths[-1], n_genes),
        )
        self.decoder: nn.Sequential | None = None
        self.mean_head: nn.Linear | None = None
        self.dispersion_head: nn.Linear | None = None
        self.pi_head: nn.Linear | None = None
        if zinb_decoder:
            self.decoder, self.mean_head, self.dispersion_head, self.pi_head = decoder
        self.centers = nn.Parameter(torch.zeros(n_clusters, latent))
        self.projection: nn.Sequential | None = None
        if projection:
            self.projection = nn.Sequential(nn.Linear(latent, latent), nn.ReLU(),
                                            nn.Linear(latent, latent))
        self.pca_decoder: nn.Sequential | None = None
        if pca_decoder:
            self.pca_decoder = nn.Sequential(DenseBlock(latent, dec_widths[1], 0.0),
                                             nn.Linear(dec_widths[1], pca_decoder))

    def encode(
        self, x: Rows, adj_t: torch.Tensor, cell_index: torch.Tensor | None = None,
        n_keys: int | None = None, chunk: int | None = None, x_graph: Rows | None = None,
    ) -> NetworkOutput:
        """Both encoders with layer-wise fusion, then the heterogeneous fusion (Eq. 1-6).

        The graph encoder's first layer reads ``x_graph`` when given (``--encoder-input dual``),
        the dense encoder's ``x``; from the second layer on both read the fused hidden layer.
        The global attention of every cell looks at the first ``n_keys`` cells (all by default),
        thinned to ``attention_keys`` evenly spaced ones: a saved model passes its training cells
        first and new cells after them. With ``chunk`` (inference) every cell-wise transform runs
        ``chunk`` rows at a time, so ``x`` may be a sparse scipy matrix (or residual rows) that is
        never made dense whole; memory is then cells x the widest hidden layer.
        """
        device = self.centers.device
        dense_in, graph_in = x, (x if x_graph is None else x_graph)
        for layer in range(self.n_hidden_layers):
            h_dense = (None if self.dense_layers is None
                       else by_rows(self.dense_layers[layer], dense_in, chunk, device))
            h_graph = (None if self.graph_layers is None
                       else self.graph_layers[layer](graph_in, adj_t, chunk))
            dense_in, graph_in = self._fuse(h_dense, h_graph)
            del h_dense, h_graph
        z_dense = (None if self.dense_out is None
                   else by_rows(self.dense_out, dense_in, chunk, device))
        z_graph = None if self.graph_out is None else self.graph_out(graph_in, adj_t, chunk)
        del dense_in, graph_in
        a, b = self._fusion_weights(cell_index)
        if z_dense is None or z_graph is None:  # one encoder (an ablation): no fusion weights
            z_local = z_graph if z_dense is None else z_dense
        else:
            z_local = a * z_dense + b * z_graph
        if self.fused_propagation:
            z_local = propagate(adj_t, z_local)
        if self.attention == "none":
            return NetworkOutput(z_dense=z_dense, z_graph=z_graph, z=z_local)
        keys = z_local if n_keys is None else z_local[:n_keys]
        z_global = global_attention(z_local, keys, max_keys=self.attention_keys)
        z = self.beta * z_global + z_local
        return NetworkOutput(z_dense=z_dense, z_graph=z_graph, z=z)

    def forward(
        self, x: torch.Tensor, adj_t: torch.Tensor, cell_index: torch.Tensor | None = None,
        x_graph: torch.Tensor | None = None,
    ) -> NetworkOutput:
        """Encode, decode the ZINB parameters (Eq. 7, 10-12) and the PCA (each if built)."""
        out = self.encode(x, adj_t, cell_index, x_graph=x_graph)
        if self.pca_decoder is not None:
            out.pca = self.pca_decoder(out.z)
        if self.decoder is None:
            return out
        hidden = self.decoder(out.z)
        out.mean = torch.clamp(torch.exp(self.mean_head(hidden)), 1e-5, 1e6)
        out.dispersion = torch.clamp(F.softplus(self.dispersion_head(hidden)), 1e-4, 1e4)
        out.pi_logits = self.pi_head(hidden)
        return out

    def inference_state(self) -> dict[str, torch.Tensor]:
        """The state a saved model keeps: every tensor but the training-only heads', on the CPU."""
        return {k: v.detach().cpu() for k, v in self.state_dict().items()
                if not k.startswith(TRAINING_ONLY_PREFIXES)}

    def project(self, z: torch.Tensor) -> torch.Tensor:
        """The contrastive term's view of ``z``: the projection head's output, or ``z`` itself."""
        return z if self.projection is None else self.projection(z)

    def _fuse(self, h_dense: torch.Tensor | None, h_graph: torch.Tensor | None
              ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """The next layer's inputs of both encoders: ``Z^l = alpha H_D^(l-1) + (1 - alpha)
        H_G^(l-1)`` for both (Eq. 1, 4), or each encoder's own layer without layer-wise fusion."""
        if not self.layer_fusion:
            return h_dense, h_graph
        fused = self.alpha * h_dense + (1.0 - self.alpha) * h_graph
        return fused, fused

    def _fusion_weights(
        self, cell_index: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if self.fusion_weights == "dimension":
            return self.weight_a, self.weight_b
        if cell_index is None:  # unseen cells: the average of the learnt per-cell weights
            return self.weight_a.mean(dim=0), self.weight_b.mean(dim=0)
        seen = (cell_index >= 0)[:, None]  # index -1 marks an unseen cell
        index = cell_index.clamp(min=0)
        return (torch.where(seen, self.weight_a[index], self.weight_a.mean(dim=0)),
                torch.where(seen, self.weight_b[index], self.weight_b.mean(dim=0)))

    @torch.no_grad()
    def init_centers(self, centers: torch.Tensor) -> None:
        """Replace the cluster centres (K x latent), e.g. by K-means on the pre-trained Z."""
        self.centers = nn.Parameter(centers.to(self.weight_a.device, torch.float32).clone())
