"""Training hyper-parameters, with the paper's values where the paper gives them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from .._errors import ScDeferInputError

Schedule = Literal["fast", "paper"]
GraphLoss = Literal["pairs", "squared", "edges"]

# batch_size 0 = the whole graph in every step; target_update 0 = P from the batch every step,
# not detached (the authors' code); tolerances 0 = never stop early; input_noise is the standard
# deviation of the Gaussian noise added to the (log-normalised) input while training.
# "fast" pre-trains a fixed number of epochs (the reconstruction loss keeps creeping down long after
# the embedding stops getting better for clustering, so it is a poor stopping signal) and weighs the
# pair-sampled graph loss 0.1: that BCE is not on the scale of the paper's squared error, and at 0.3
# it dominates and splits cell types into tight graph communities (bench/results/ablation.md).
# "paper" is the paper as written: Eq. 9's squared error (on edges and as many sampled non-edges),
# gamma = 0.3 / 0.1 / 0.5 / 0.1, 250 + 250 full-batch epochs at lr 5e-5 / 1e-7.
SCHEDULES: dict[str, dict[str, Any]] = {
    "fast": {"pretrain_epochs": 40, "epochs": 40, "batch_size": 512, "pretrain_lr": 1e-3,
             "lr": 1e-4, "target_update": 1, "pretrain_tol": 0.0, "tol": 0.001,
             "input_noise": 1.0, "weight_graph": 0.1, "graph_loss": "pairs"},
    "paper": {"pretrain_epochs": 250, "epochs": 250, "batch_size": 0, "pretrain_lr": 5e-5,
              "lr": 1e-7, "target_update": 0, "pretrain_tol": 0.0, "tol": 0.0,
              "input_noise": 0.0, "weight_graph": 0.3, "graph_loss": "squared"},
}


@dataclass
class TrainParams:
    """Every knob of :class:`scdefer.train.Trainer`; recorded in ``uns['scdefer']['train']``.

    ``schedule="paper"`` reproduces the paper's full-batch 250 + 250 epochs at learning rates
    5e-5 and 1e-7 with no early stopping; ``"fast"`` (default) trains on Cluster-GCN mini-batches
    at higher learning rates and stops when the losses and the labels settle.
    """

    n_clusters: int | Literal["auto"] = "auto"
    schedule: Schedule = "fast"
    pretrain_epochs: int | None = None
    epochs: int | None = None
    min_epochs: int = 5
    batch_size: int | None = None
    pretrain_lr: float | None = None
    lr: float | None = None
    alpha: float = 0.1
    hops: int = 3
    dropout: float = 0.1
    input_noise: float | None = None
    hidden: tuple[int, ...] = (1024, 128, 24)
    decoder_hidden: tuple[int, ...] = (128, 1024)
    zinb_target: Literal["counts", "lognorm"] = "counts"
    fusion_weights: Literal["dimension", "cell"] = "dimension"
    graph_loss: GraphLoss | None = None
    target_update: int | None = None
    weight_graph: float | None = None
    weight_zinb: float = 0.1
    weight_kl: float = 0.5
    weight_bce: float = 0.1
    pretrain_tol: float | None = None
    tol: float | None = None
    seed: int = 0

    def resolved(self) -> TrainParams:
        """Fill the settings left at None from the schedule preset, check all; return a copy."""
        if self.schedule not in SCHEDULES:
            raise ScDeferInputError(f"--schedule must be fast or paper, got {self.schedule!r}")
        preset = SCHEDULES[self.schedule]
        params = replace(self, **{k: v for k, v in preset.items() if getattr(self, k) is None})
        if isinstance(params.n_clusters, int) and params.n_clusters < 2:
            raise ScDeferInputError(f"--n-clusters must be at least 2 or 'auto', got {params.n_clusters}")
        for name in ("pretrain_epochs", "epochs", "batch_size", "target_update", "min_epochs"):
            if getattr(params, name) < 0:
                raise ScDeferInputError(f"{name} must not be negative")
        for name in ("weight_graph", "weight_zinb", "weight_kl", "weight_bce"):
            if getattr(params, name) < 0:
                raise ScDeferInputError(f"--{name.replace('_', '-')} must not be negative")
        if not 0.0 <= params.alpha <= 1.0:
            raise ScDeferInputError(f"--alpha must be within [0, 1], got {params.alpha}")
        if params.graph_loss not in ("pairs", "squared", "edges"):
            raise ScDeferInputError(
                f"--graph-loss must be pairs, squared or edges, got {params.graph_loss!r}"
            )
        if params.fusion_weights not in ("dimension", "cell"):
            raise ScDeferInputError(
                f"--fusion-weights must be dimension or cell, got {params.fusion_weights!r}"
            )
        return params

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for ``uns`` and the model file (tuples as lists)."""
        out = asdict(self)
        out["hidden"], out["decoder_hidden"] = list(self.hidden), list(self.decoder_hidden)
        return out
