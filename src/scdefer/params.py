"""Every option of preprocessing and training, declared once with its help, choices and bounds.

The command line, ``--help``, the parameter checks (CLI and Python API alike), the README's option
tables and the cross-interface tests (Galaxy, Nextflow) all read these dataclasses. This module
imports nothing heavy, so the CLI can build its options without loading torch or scanpy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal, get_args

from ._errors import ScDeferInputError
from ._spec import check, check_value, option, specs

InputKind = Literal["counts", "normalized", "lognorm"]
KnnMethod = Literal["auto", "exact", "approximate"]
Schedule = Literal["fast", "paper"]
GraphLoss = Literal["pairs", "squared", "edges"]
ZinbTarget = Literal["counts", "lognorm"]
FusionWeights = Literal["dimension", "cell"]
EncoderInput = Literal["lognorm", "pearson", "dual"]
ENCODER_INPUTS: tuple[str, ...] = get_args(EncoderInput)
Attention = Literal["global", "none"]
ATTENTIONS: tuple[str, ...] = get_args(Attention)
PcaPhases = Literal["both", "pretrain"]
PCA_PHASES: tuple[str, ...] = get_args(PcaPhases)
Encoders = Literal["both", "dense", "graph"]
ENCODERS: tuple[str, ...] = get_args(Encoders)
CenterInit = Literal["kmeans", "spectral", "ensemble", "agreement"]
CENTER_INITS: tuple[str, ...] = get_args(CenterInit)
FinalAssignment = Literal["dec", "kmeans", "spectral", "leiden", "consensus", "ensemble"]
FINAL_ASSIGNMENTS: tuple[str, ...] = ("dec", "kmeans", "spectral", "leiden", "consensus",
                                      "ensemble")
MIN_GENES = 50  # fewer genes than this after filtering cannot define cell types
# 20 batches of 512: above every shared benchmark dataset (the largest has 8,617 cells), so the
# accuracy measured there is that of full epochs; 100,000 cells train 40 + 40 such epochs.
EPOCH_CELLS = 10240
# Up to this many cells the KNN graph is exact; above it NN-descent (pynndescent) finds the
# neighbours in about O(N log N) instead of O(N^2) (recall measured in bench/results/knn.tsv).
EXACT_KNN_MAX_CELLS = 50_000
CHECKPOINT_EVERY = 300.0  # seconds between training checkpoints (--checkpoint-every)


@dataclass
class PreprocessParams:
    """Every parameter of :func:`preprocess`; recorded in ``uns['scdefer']['preprocess']``.

    Each field's help, choices and bounds are declared once here (see :mod:`scdefer._spec`).
    """

    input_kind: InputKind = option(
        "counts", "'counts' (checked to be integers), 'normalized' (TPM/RPKM: log1p applied) or "
        "'lognorm' (already log-normalised).", choices=("counts", "normalized", "lognorm"))
    layer: str | None = option(None, "Read counts from this layer instead of X (h5ad).")
    min_genes: int = option(1, "Drop cells with fewer detected genes.", minimum=0)
    min_cells: int = option(1, "Drop genes detected in fewer cells.", minimum=0)
    n_top_genes: int = option(2000, "Highly variable genes kept.", minimum=MIN_GENES)
    n_pcs: int = option(50, "Principal components for the KNN graph.", minimum=2)
    n_neighbors: int = option(10, "K of the KNN cell graph (paper: 10).", minimum=1)
    knn_method: KnnMethod = option(
        "auto", "How the KNN graph is found: 'exact', 'approximate' (NN-descent, pynndescent) or "
        f"'auto' (exact up to {EXACT_KNN_MAX_CELLS:,} cells, approximate above).",
        choices=("auto", "exact", "approximate"))
    seed: int = option(0, "Random seed.", minimum=0, cli=False)


# batch_size 0 = the whole graph in every step; target_update 0 = P from the batch every step,
# not detached (the authors' code); tolerances 0 = never stop early; input_noise is the standard
# deviation of the Gaussian noise added to the (log-normalised) input while training.
# "fast" pre-trains a fixed number of epochs (the reconstruction loss keeps creeping down long after
# the embedding stops getting better for clustering, so it is a poor stopping signal) and weighs the
# pair-sampled graph loss 0.1: that BCE is not on the scale of the paper's squared error, and at 0.3
# it dominates and splits cell types into tight graph communities (measured with bench/stage_scores.py
# in an earlier session; that table was never committed, see the README).
# "paper" is the paper as written: Eq. 9's squared error (on edges and as many sampled non-edges),
# gamma = 0.3 / 0.1 / 0.5 / 0.1, 250 + 250 full-batch epochs at lr 5e-5 / 1e-7, labels from the
# DEC head. "fast" also takes its labels from the DEC head, but starts the head's centres from the
# K-means start that agrees most with the pre-training readouts (center_init "agreement"; chosen
# leave-one-dataset-out over the eight shared count sets, 3 seeds, against the lowest-inertia start
# and against the ensemble's most central partition as the final labels:
# bench/results/lodo_agreement.md), and leaves out the global
# attention term: on the eight sets it changes nothing beyond seed noise (its learnt weight stays
# near 0), and at 100,000 cells it cost accuracy, because a mini-batch never holds the keys that
# inference over all cells sees (bench/results/scale.md, "Global attention"). Its dense encoder
# reads the log-normalised genes and its graph encoder the Pearson residuals of the counts: chosen
# in every leave-one-dataset-out fold over {lognorm, pearson, dual} (bench/results/lodo_dual.md).
# "fast" also leaves out the ZINB term (weight 0, no decoder): over 3 seeds of the eight sets the
# mean ARI was 0.648 in the ablation (chosen in every leave-one-dataset-out fold against keeping
# it, bench/results/lodo_nozinb.md), 0.633 when the harness re-ran it as the default (run-to-run
# noise) and 0.637 through the package (bench/results/accuracy_default_ensemble.md), against
# 0.631 with it: as accurate, with 35-40% less training time and 0.17 GB less memory on 10x PBMC
# (bench/results/timing.md). "fast" divides the target distribution P by the square root of the
# cluster frequencies rather than by the frequencies (target_balance 0.5): DEC's P pulls clusters
# towards equal sizes, so the head split the large types of unbalanced sets (PBMC 10k); chosen
# leave-one-dataset-out against 1 over 9 seeds (+0.007 ARI; Pancreas loses), 0.25 no different
# (bench/results/balance.md).
SCHEDULES: dict[str, dict[str, Any]] = {
    "fast": {"pretrain_epochs": 40, "epochs": 40, "batch_size": 512, "pretrain_lr": 1e-3,
             "lr": 1e-4, "target_update": 1, "pretrain_tol": 0.0, "tol": 0.001,
             "input_noise": 1.0, "weight_graph": 0.1, "graph_loss": "pairs",
             "final_assignment": "dec", "center_init": "agreement", "attention": "none",
             "encoder_input": "dual", "weight_zinb": 0.0, "target_balance": 0.5},
    "paper": {"pretrain_epochs": 250, "epochs": 250, "batch_size": 0, "pretrain_lr": 5e-5,
              "lr": 1e-7, "target_update": 0, "pretrain_tol": 0.0, "tol": 0.0,
              "input_noise": 0.0, "weight_graph": 0.3, "graph_loss": "squared",
              "final_assignment": "dec", "center_init": "kmeans", "attention": "global",
              "encoder_input": "lognorm", "weight_zinb": 0.1, "target_balance": 1.0},
}


@dataclass
class TrainParams:
    """Every knob of :class:`scdefer.train.Trainer`; recorded in ``uns['scdefer']['train']``.

    ``schedule="paper"`` reproduces the paper's full-batch 250 + 250 epochs at learning rates
    5e-5 and 1e-7 with no early stopping; ``"fast"`` (default) trains on Cluster-GCN mini-batches
    at higher learning rates and stops when the labels settle. Options left at None take the
    schedule's value (:data:`SCHEDULES`). Each field's help, choices and bounds are declared here
    once; the command line, ``--help``, the checks and the README table are made from them.
    """

    n_clusters: int | Literal["auto"] = option(
        "auto", "Number of clusters, or 'auto' to estimate it from the PCA (Leiden, at a "
        "resolution that falls as the number of cells grows).",
        choices=("auto",), minimum=2)
    schedule: Schedule = option(
        "fast", "'fast': Cluster-GCN mini-batches, higher learning rates, early stopping; "
        "'paper': full-batch 250 + 250 epochs at lr 5e-5 / 1e-7, the paper's Eq. 9 graph loss "
        "and weights.", choices=("fast", "paper"))
    pretrain_epochs: int | None = option(None, "Pre-training epochs.", minimum=0)
    epochs: int | None = option(
        None, "Maximum clustering epochs (stops earlier when fewer than --tol of the labels "
        "change).", minimum=0)
    min_epochs: int = option(5, "Epochs before early stopping may stop a phase.", minimum=0,
                             cli=False)
    batch_size: int | None = option(
        None, "Cells per step (Cluster-GCN subgraphs); 0 = the whole graph.", minimum=0)
    epoch_cells: int = option(
        EPOCH_CELLS, "Cells an epoch trains on at most: a larger dataset trains each epoch on a "
        "new random set of graph parts this large, and refreshes the clustering targets once per "
        "pass over all cells, so the training cost stops growing with the cells. Smaller data "
        "trains on all its cells every epoch. 0 = no limit.", minimum=0)
    pretrain_lr: float | None = option(None, "Pre-training learning rate (Adam).", minimum=0,
                                       exclusive_minimum=True)
    lr: float | None = option(None, "Clustering learning rate (Adam).", minimum=0,
                              exclusive_minimum=True)
    encoder_input: EncoderInput | None = option(
        None, "What the encoders read: 'lognorm', the log-normalised genes (the paper); "
        "'pearson', the analytic Pearson residuals of the counts (theta 100, clipped at "
        "sqrt(cells); fixed by the training cells, so a new cell's do not depend on other new "
        "cells); 'dual', the log-normalised genes to the dense encoder and the residuals to the "
        "graph encoder. 'pearson' and 'dual' need counts.", choices=ENCODER_INPUTS)
    alpha: float = option(0.1, "Layer-wise fusion weight of the dense encoder (paper: 0.1).",
                          minimum=0, maximum=1)
    hops: int = option(3, "TAGConv hops, the graph encoder's polynomial degree (paper: 3).",
                       minimum=1)
    dropout: float = option(0.1, "Dropout on hidden layers.", minimum=0, maximum=1,
                            exclusive_maximum=True)
    input_noise: float | None = option(
        None, "SD of Gaussian noise added to the log-normalised input while training "
        "(denoising).", minimum=0)
    input_mask: float = option(
        0.0, "Fraction of the genes set to zero in each training pass's input, a fresh draw per "
        "cell and step, before the Gaussian noise (masked denoising; not in the paper); a "
        "contrastive view uses contrast_mask instead. A probe: bench/results/RUNS.md.",
        minimum=0, maximum=1, exclusive_maximum=True, cli=False)
    encoders: Encoders = option(
        "both", "Ablation: 'both' encoders (the model), or only the 'dense' or the 'graph' one.",
        choices=ENCODERS, cli=False)
    layer_fusion: bool = option(
        True, "Ablation: False makes each encoder read its own previous layer instead of the "
        "fused one (Eq. 1, 4).", cli=False)
    fused_propagation: bool = option(
        True, "Probe: False leaves out the last graph propagation of the fused latent "
        "(Z_L = a Z_D + b Z_G instead of Â (a Z_D + b Z_G), Eq. 5).", cli=False)
    hidden: tuple[int, ...] = option((1024, 128, 24), "Encoder widths; the last is the latent "
                                     "size (paper: 1024, 128, 24).", cli=False)
    decoder_hidden: tuple[int, ...] = option((128, 1024), "Decoder widths (paper: 128, 1024).",
                                             cli=False)
    zinb_target: ZinbTarget = option(
        "counts", "What the ZINB likelihood scores (when --weight-zinb is above 0): raw "
        "'counts' with size factors, or 'lognorm' values (the authors' code; needed for "
        "non-count input).",
        choices=("counts", "lognorm"))
    fusion_weights: FusionWeights = option(
        "dimension", "Fusion weights a, b per latent 'dimension' (inductive) or per 'cell' "
        "(authors' code; new cells get the mean).", choices=("dimension", "cell"))
    attention: Attention | None = option(
        None, "'global': the fused latent gets the learnt-weight term softmax(Z Z^T) Z over "
        "the batch's cells (the paper's Eq. 5-6); 'none': Z is the fused local latent alone.",
        choices=ATTENTIONS)
    graph_loss: GraphLoss | None = option(
        None, "'pairs': BCE on edges and as many sampled non-edges; 'squared': the paper's "
        "squared error ||A - sigmoid(ZZ^T)||^2 on the same pairs (Eq. 9); 'edges': squared "
        "error against the normalised adjacency on edges only (authors' code).",
        choices=("pairs", "squared", "edges"))
    target_update: int | None = option(
        None, "Refresh the target distribution P over all cells every N epochs (detached, DEC); "
        "0 = from each batch every step, not detached (authors' code).", minimum=0)
    weight_graph: float | None = option(None, "Weight of the graph reconstruction loss.",
                                        minimum=0)
    weight_zinb: float | None = option(
        None, "Weight of the ZINB loss (paper: 0.1); 0 = no ZINB decoder, so no genes-wide "
        "output layers to compute or save.", minimum=0)
    weight_contrast: float = option(
        0.0, "Weight of a contrastive pre-training term (not in the paper): NT-Xent between the "
        "fused latents of two passes over each batch, each with its own input noise, gene mask "
        "and dropout; 0 = none (a probe: bench/results/RUNS.md).", minimum=0, cli=False)
    weight_pca: float = option(
        0.0, "Weight of a PCA reconstruction term (not in the paper): a small decoder predicts "
        "each cell's PCA coordinates, scaled to unit mean variance per component, from its "
        "latent (in the phases pca_phases names), so the latent keeps the structure of the PCA "
        "it starts from; 0 = none (a probe: bench/results/RUNS.md).", minimum=0, cli=False)
    pca_phases: PcaPhases = option(
        "both", "When the PCA reconstruction term (weight_pca) applies: 'both' phases, or "
        "'pretrain' only (a PCA-like start, a clustering phase free of it).",
        choices=PCA_PHASES, cli=False)
    contrast_head: bool = option(
        True, "Take the contrastive term on a small projection head's output rather than on the "
        "latent itself (SimCLR).", cli=False)
    contrast_mask: float = option(
        0.2, "Fraction of genes set to zero in each contrastive view.", minimum=0, maximum=1,
        exclusive_maximum=True, cli=False)
    contrast_temperature: float = option(
        0.5, "Temperature of the contrastive term's cosine similarities.", minimum=0,
        exclusive_minimum=True, cli=False)
    target_balance: float | None = option(
        None, "Exponent of the cluster frequency that the clustering target P divides by: 1 = "
        "DEC's and the paper's P, which pulls clusters towards equal sizes; lower lets "
        "unbalanced cell types keep their sizes (0 = the sharpened Q alone).", minimum=0,
        maximum=1)
    weight_kl: float = option(0.5, "Weight of the clustering KL loss (paper: 0.5).", minimum=0)
    weight_bce: float = option(0.1, "Weight of the two encoders' BCE losses (paper: 0.1).",
                               minimum=0)
    pretrain_tol: float | None = option(
        None, "Stop pre-training when the loss improves by less than this fraction for 3 "
        "epochs; 0 = never.", minimum=0, cli=False)
    center_init: CenterInit | None = option(
        None, "How the clustering head's centres start: 'kmeans', K-means on the pre-trained "
        "embedding, the start of lowest inertia of 20 (DEC, the paper); 'agreement', of the same "
        "20 K-means starts the one that agrees most (mean NMI) with K-means, spectral and "
        "Leiden on the PCA and on the pre-trained embedding (and the joint graph), all at K "
        "(chosen leave-one-dataset-out: bench/results/lodo_agreement.md); 'spectral', the "
        "cluster means of a spectral clustering of the PCA's and the pre-trained embedding's "
        "10-NN graphs together (a probe: bench/results/center_init.md); 'ensemble', the cluster "
        "means of the partition those readouts agree on most (their medoid; a probe: "
        "bench/results/RUNS.md).",
        choices=CENTER_INITS)
    tol: float | None = option(
        None, "Stop clustering when fewer than this fraction of the labels change; 0 = never.",
        minimum=0, maximum=1)
    final_assignment: FinalAssignment | None = option(
        None, "How the final labels are made: 'dec', the clustering head (the paper); "
        "'kmeans', 'spectral' (10-NN graph), 'leiden' (at K) or 'consensus' (of those three and "
        "the head) on the learnt embedding; 'ensemble', of the head and of K-means, spectral "
        "and Leiden on the PCA, the pre-trained and the final embedding (and joint graphs of "
        "the PCA with each), the partition agreeing most with all the others (largest summed "
        "NMI). Each cell then takes the majority label of its 16 nearest cells in the learnt "
        "embedding (itself included), the vote a saved model gives new cells.",
        choices=FINAL_ASSIGNMENTS)
    n_runs: int = option(
        1, "Train this many networks, with seeds seed, seed + 1, ..., and label each cell by "
        "their consensus: every run's clusters are matched to the first run's (largest overlap) "
        "and the clustering heads' soft assignments averaged. The embedding is the first run's. "
        "Needs the head's labels (final_assignment 'dec'). On the shared sets 3 runs gained "
        "0.010 ARI for 4.4 times the training time (bench/results/n_runs.md).", minimum=1)
    seed: int = option(0, "Random seed.", minimum=0, cli=False)

    def resolved(self) -> TrainParams:
        """Fill the settings left at None from the schedule preset, check all; return a copy."""
        check_value("schedule", self.schedule, specs(TrainParams)["schedule"])
        preset = SCHEDULES[self.schedule]
        params = replace(self, **{k: v for k, v in preset.items() if getattr(self, k) is None})
        check(params)
        if params.n_runs > 1 and params.final_assignment != "dec":
            raise ScDeferInputError(
                f"--n-runs {params.n_runs} needs the clustering head's labels (--final-assignment "
                f"dec); got --final-assignment {params.final_assignment}")
        for name in ("hidden", "decoder_hidden"):
            widths = getattr(params, name)
            if not widths or any(isinstance(w, bool) or not isinstance(w, int) or w < 1
                                 for w in widths):
                raise ScDeferInputError(f"{name} must be positive integers, got {widths!r}")
        return params

    @property
    def has_zinb_term(self) -> bool:
        """Whether the loss has the ZINB term, and so the network its decoder (resolved params)."""
        return self.weight_zinb > 0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for ``uns`` and the model file (tuples as lists)."""
        out = asdict(self)
        out["hidden"], out["decoder_hidden"] = list(self.hidden), list(self.decoder_hidden)
        return out
