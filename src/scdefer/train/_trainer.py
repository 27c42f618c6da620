"""The two training phases of scDEFER: reconstruction pre-training, then joint clustering."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.cluster import KMeans
from tqdm.auto import tqdm

from .._errors import ScDeferInputError
from .._progress import peak_memory, timed_step
from ..assignment import (
    KMEANS_STARTS,
    agreeing_kmeans,
    cluster_means,
    ensemble_partitions,
    final_labels,
    joint_spectral_labels,
    neighbour_votes,
    pretrain_medoid,
)
from ..module import (
    GraphPairs,
    LossWeights,
    ScDeferNetwork,
    dense_rows,
    encoder_latents,
    objective,
    target_distribution,
)
from ..nclusters import describe as describe_estimate
from ..nclusters import estimate_n_clusters
from ..params import TrainParams
from ._batching import Batch, ClusterBatcher
from ._checkpoint import CHECKPOINT_EVERY, Checkpointer, fingerprint, random_state, restore_random_state
from ._data import CellData
from ._inference import Embedding, assign, build_network, embed

logger = logging.getLogger("scdefer")


@dataclass
class TrainResult:
    """What training produced besides the network's weights."""

    latent: np.ndarray
    proba: np.ndarray
    labels: np.ndarray
    n_clusters: int
    final_source: str = "dec"  # the partition the final labels come from
    partition: np.ndarray | None = None  # what the labels vote from (None: the head's Q)
    history: list[dict[str, float]] = field(default_factory=list)
    pretrain_epochs_run: int = 0
    epochs_run: int = 0
    seconds: float = 0.0


class Trainer:
    """Train a :class:`ScDeferNetwork` on one dataset.

    Parameters
    ----------
    data
        The preprocessed dataset.
    params
        Resolved training parameters (:meth:`TrainParams.resolved`).
    device
        Where to compute.
    progress
        Show a progress bar with the losses.
    on_phase_end
        Called with ``("pretrain" | "cluster", embedding)`` after each phase (diagnostics).
    checkpoint_dir
        Save the training state there every ``checkpoint_every`` seconds and resume from it
        when it holds one (see :mod:`._checkpoint`).
    checkpoint_every
        Seconds between checkpoints (0: after every epoch).
    """

    def __init__(self, data: CellData, params: TrainParams, device: torch.device,
                 progress: bool = True,
                 on_phase_end: Callable[[str, Embedding], None] | None = None,
                 checkpoint_dir: Path | str | None = None,
                 checkpoint_every: float = CHECKPOINT_EVERY) -> None:
        self.data = data
        self.params = params
        self.device = device
        self.progress = progress
        self.on_phase_end = on_phase_end
        self.history: list[dict[str, float]] = []
        self._views: dict[str, np.ndarray] = {}
        self._pretrain_partitions: dict[str, np.ndarray] = {}  # made for center_init's start
        key = fingerprint(data, params) if checkpoint_dir is not None else ""
        self.checkpoints = Checkpointer(checkpoint_dir, key, checkpoint_every)
        self._resume: dict[str, Any] | None = None
        self._pretrain_epochs_run = 0
        self.weights = LossWeights(graph=params.weight_graph, zinb=params.weight_zinb,
                                   kl=params.weight_kl, bce=params.weight_bce,
                                   graph_loss=params.graph_loss,
                                   contrast=params.weight_contrast,
                                   contrast_temperature=params.contrast_temperature,
                                   target_balance=params.target_balance,
                                   pca=params.weight_pca)
        self._pca_target = (torch.from_numpy(data.scaled_coords()).to(device)
                            if params.weight_pca > 0 else None)

    def fit(self) -> tuple[ScDeferNetwork, TrainResult]:
        """Pre-train, initialise the centres, train jointly; return the network and results."""
        p, data = self.params, self.data
        start = time.perf_counter()
        network = build_network(data.n_genes, data.n_cells, 1, p,
                                n_pcs=data.coords.shape[1]).to(self.device)
        batch_size = p.batch_size if p.batch_size else data.n_cells
        batcher = ClusterBatcher(data.adjacency, data.coords, batch_size, p.seed, self.device,
                                 max_cells=p.epoch_cells)
        logger.info("training on %d cells x %d genes, %d batch(es) per epoch, %d epoch(s) per "
                    "pass over the cells", data.n_cells, data.n_genes, len(batcher),
                    batcher.epochs_per_pass)

        self._resume = self.checkpoints.load()
        if self._resume is not None and self._resume["phase"] == "cluster":
            # pre-training and the centres' initialisation are in the checkpoint
            pre_epochs = int(self._resume["pretrain_epochs_run"])
            self._views = {"pca": data.coords, "pretrain": self._resume["pretrain_view"].numpy()}
            n_clusters = int(self._resume["n_clusters"])
            network.init_centers(torch.zeros(n_clusters, network.centers.shape[1]))
        else:
            pre_epochs = self._pretrain(network, batcher)
            n_clusters = self._init_clusters(network)
        self._pretrain_epochs_run = pre_epochs
        epochs = self._cluster(network, batcher)

        with timed_step(f"embedding {data.n_cells:,} cells"):
            emb = embed(network, data, self.device)
        if self.on_phase_end is not None:
            self.on_phase_end("cluster", emb)
        with timed_step(f"final labels ({p.final_assignment})"):
            q, source, partition = self._final_assignment(network, emb, n_clusters)
        result = TrainResult(
            latent=emb.z.cpu().numpy(), proba=q, labels=q.argmax(axis=1), n_clusters=n_clusters,
            final_source=source, partition=partition,
            history=self.history, pretrain_epochs_run=pre_epochs, epochs_run=epochs,
            seconds=time.perf_counter() - start,
        )
        logger.info("trained in %.1f s (%s)", result.seconds, peak_memory())
        return network, result

    def _init_clusters(self, network: ScDeferNetwork) -> int:
        """Embed after pre-training, choose K (given or estimated), start the centres (center_init)."""
        p, data = self.params, self.data
        with timed_step(f"embedding {data.n_cells:,} cells"):
            emb = embed(network, data, self.device)
        self._views = {"pca": data.coords, "pretrain": emb.z.cpu().numpy()}
        if self.on_phase_end is not None:
            self.on_phase_end("pretrain", emb)
        n_clusters = p.n_clusters
        if n_clusters == "auto":
            # On the PCA rather than the pre-trained embedding: the graph loss makes the latter
            # fragment into many tight communities, so Leiden over-counts there.
            with timed_step("estimating the number of clusters"):
                n_clusters = estimate_n_clusters(data.coords, seed=p.seed)
            logger.info("estimated number of clusters: %d (%s)", n_clusters,
                        describe_estimate())
        n_clusters = int(n_clusters)
        if n_clusters > data.n_cells // 2:
            raise ScDeferInputError(
                f"--n-clusters {n_clusters} is more than half of the {data.n_cells} cells; "
                "give fewer clusters or more cells"
            )
        network.init_centers(torch.from_numpy(self._initial_centers(emb.z.cpu().numpy(),
                                                                    n_clusters)))
        return n_clusters

    def _initial_centers(self, z: np.ndarray, n_clusters: int) -> np.ndarray:
        """The head's starting centres in ``z``, the pre-trained embedding (``center_init``)."""
        p = self.params
        if p.center_init == "spectral":
            with timed_step(f"spectral clustering ({n_clusters}) of the PCA and pre-trained "
                            "embedding graphs"):
                labels = joint_spectral_labels([self.data.coords, z], n_clusters, p.seed)
            return cluster_means(z, np.unique(labels, return_inverse=True)[1])
        if p.center_init in ("ensemble", "agreement"):
            with timed_step(f"{n_clusters}-cluster partitions of the PCA and pre-trained "
                            "embedding"):
                self._pretrain_partitions = ensemble_partitions(self._views, None, n_clusters,
                                                                p.seed)
        if p.center_init == "ensemble":
            return cluster_means(z, pretrain_medoid(self._pretrain_partitions, n_clusters))
        if p.center_init == "agreement":
            with timed_step(f"K-means ({n_clusters} centres) on the pre-trained embedding, the "
                            "start that agrees most with those partitions"):
                return agreeing_kmeans(z, n_clusters, p.seed, self._pretrain_partitions)
        kmeans = KMeans(n_clusters=n_clusters, n_init=KMEANS_STARTS, random_state=p.seed)
        with timed_step(f"K-means ({n_clusters} centres) on the pre-trained embedding"):
            kmeans.fit(z)
        return kmeans.cluster_centers_

    def _final_assignment(self, network: ScDeferNetwork, emb: Embedding,
                          n_clusters: int) -> tuple[np.ndarray, str, np.ndarray | None]:
        """Soft assignments, where the labels come from, and the partition they vote from.

        The head's labels are its soft assignments Q (no partition). Any other partition labels
        each cell by a vote of its nearest cells in the learnt embedding (itself included, see
        :func:`neighbour_votes`), the rule a saved model applies to new cells; the centres move
        to the clusters' means.
        """
        q = assign(network, emb.z)
        method = self.params.final_assignment
        if method == "dec":
            return q.cpu().numpy(), method, None
        z = emb.z.cpu().numpy()
        labels, source = final_labels(method, z, q.argmax(dim=1).cpu().numpy(), n_clusters,
                                      self.params.seed, views=self._views,
                                      known=self._pretrain_partitions)
        if source == "dec":  # the ensemble chose the head's own labels: keep its centres
            return q.cpu().numpy(), source, None
        network.init_centers(torch.from_numpy(cluster_means(z, labels)))
        logger.info("final labels: %s (%s), %d clusters", method, source, labels.max() + 1)
        return neighbour_votes(z, labels, labels.max() + 1), source, labels

    # -- phases -------------------------------------------------------------------------------
    def _pretrain(self, network: ScDeferNetwork, batcher: ClusterBatcher) -> int:
        p = self.params
        optimizer = torch.optim.Adam(network.parameters(), lr=p.pretrain_lr)
        first, saved = self._restore("pretrain", network, optimizer, batcher)
        best, stale = saved.get("best", np.inf), saved.get("stale", 0)
        if saved.get("stopped"):
            return first
        bar = self._bar(p.pretrain_epochs, "pre-train", first)
        for epoch in bar:
            network.train()
            sums = self._run_epoch(network, batcher, optimizer, targets=None)
            self._record("pretrain", epoch, sums, bar)
            stopped = False
            if p.pretrain_tol > 0 and epoch + 1 >= p.min_epochs:
                if sums["loss"] < best * (1.0 - p.pretrain_tol):
                    best, stale = sums["loss"], 0
                else:
                    stale += 1
                stopped = stale >= 3
            else:
                best = min(best, sums["loss"])
            self._save("pretrain", epoch + 1, network, optimizer, batcher,
                       functools.partial(dict, best=best, stale=stale, stopped=stopped))
            if stopped:
                bar.close()
                return epoch + 1
        return p.pretrain_epochs

    def _cluster(self, network: ScDeferNetwork, batcher: ClusterBatcher) -> int:
        p = self.params
        optimizer = torch.optim.Adam(network.parameters(), lr=p.lr)
        first, saved = self._restore("cluster", network, optimizer, batcher)
        targets: dict[str, torch.Tensor] | None = saved.get("targets")
        if targets is not None:
            targets = {k: v.to(self.device) for k, v in targets.items()}
        previous = saved["previous"].numpy() if "previous" in saved else None
        bar = self._bar(p.epochs, "clustering", first)
        for epoch in bar:
            if p.target_update > 0 and epoch % (p.target_update * batcher.epochs_per_pass) == 0:
                targets, labels = self._full_targets(network)
                if previous is not None:
                    changed = float(np.mean(labels != previous))
                    self.history[-1]["label_change"] = changed
                    if p.tol > 0 and epoch >= p.min_epochs and changed < p.tol:
                        bar.close()
                        return epoch
                previous = labels
            network.train()
            sums = self._run_epoch(network, batcher, optimizer, targets=targets, clustering=True)
            self._record("cluster", epoch, sums, bar)
            self._save("cluster", epoch + 1, network, optimizer, batcher,
                       functools.partial(self._cluster_state, targets, previous))
        return p.epochs

    # -- checkpoints ----------------------------------------------------------------------------
    def _restore(self, phase: str, network: ScDeferNetwork, optimizer: torch.optim.Optimizer,
                 batcher: ClusterBatcher) -> tuple[int, dict[str, Any]]:
        """Load the checkpoint of ``phase`` if resuming in it: (first epoch to run, its extras)."""
        state = self._resume
        if state is None or state["phase"] != phase:
            return 0, {}
        self._resume = None
        network.load_state_dict(state["network"])
        optimizer.load_state_dict(state["optimizer"])
        restore_random_state(batcher.rng, state["random"])
        self.history = list(state["history"])
        return int(state["epoch"]), dict(state["extras"])

    @staticmethod
    def _cluster_state(targets: dict[str, torch.Tensor] | None,
                       previous: np.ndarray | None) -> dict[str, Any]:
        """The clustering phase's own state: the current targets and the last refresh's labels."""
        state: dict[str, Any] = {}
        if targets is not None:
            state["targets"] = {k: v.cpu() for k, v in targets.items()}
        if previous is not None:
            state["previous"] = torch.from_numpy(previous)
        return state

    def _save(self, phase: str, epoch: int, network: ScDeferNetwork,
              optimizer: torch.optim.Optimizer, batcher: ClusterBatcher,
              extras: Callable[[], dict[str, Any]]) -> None:
        """Checkpoint the end of ``epoch`` when one is due (see :class:`Checkpointer`).

        ``extras`` makes the phase's own state; it is called only when a checkpoint is written.
        """
        if not self.checkpoints.due():
            return
        state = {"phase": phase, "epoch": epoch, "network": network.state_dict(),
                 "optimizer": optimizer.state_dict(), "random": random_state(batcher.rng),
                 "history": self.history, "extras": extras(),
                 "n_clusters": network.centers.shape[0]}
        if phase == "cluster":
            state["pretrain_view"] = torch.from_numpy(self._views["pretrain"])
            state["pretrain_epochs_run"] = self._pretrain_epochs_run
        self.checkpoints.save(state)

    # -- steps ----------------------------------------------------------------------------------
    def _run_epoch(self, network: ScDeferNetwork, batcher: ClusterBatcher,
                   optimizer: torch.optim.Optimizer, targets: dict[str, torch.Tensor] | None,
                   clustering: bool = False) -> dict[str, float]:
        sums: dict[str, float] = {}
        tic = time.perf_counter()
        seen = 0
        for batch in batcher:
            seen += batch.index.size
            losses = self._losses(network, batch, targets, clustering)
            optimizer.zero_grad(set_to_none=True)
            losses["loss"].backward()
            optimizer.step()
            for key, value in losses.items():
                sums[key] = sums.get(key, 0.0) + float(value.detach()) * batch.index.size
        out = {key: value / seen for key, value in sums.items()}
        out["seconds"] = time.perf_counter() - tic
        return out

    def _losses(self, network: ScDeferNetwork, batch: Batch,
                targets: dict[str, torch.Tensor] | None, clustering: bool) -> dict[str, torch.Tensor]:
        data, device = self.data, self.device
        x = dense_rows(data.inputs.dense, batch.index, device)
        x_graph = None if data.inputs.shared else dense_rows(data.inputs.graph, batch.index, device)
        index = torch.from_numpy(batch.index).to(device)
        contrast = self.weights.contrast > 0 and not clustering
        x_in, graph_in = self._view(x, x_graph, contrastive=contrast)
        out = network(x_in, batch.adj_t, index, graph_in)
        views = None
        if contrast:
            x_in, graph_in = self._view(x, x_graph, contrastive=True)
            second = network(x_in, batch.adj_t, index, graph_in)
            views = (network.project(out.z), network.project(second.z))
        counts = size = None
        if self.params.has_zinb_term:
            counts = dense_rows(data.target, batch.index, device)
            size = torch.from_numpy(data.size_factors[batch.index]).to(device)[:, None]
        rows = None if targets is None else {k: v[index] for k, v in targets.items()}
        pairs = GraphPairs(batch.edges, batch.non_edges, batch.edge_values)
        with_pca = self._pca_target is not None and not (
            clustering and self.params.pca_phases == "pretrain")
        pca = self._pca_target[index] if with_pca else None
        return objective(out, network.centers, counts, size, pairs, self.weights, clustering, rows,
                         views, pca)

    def _view(self, x: torch.Tensor, x_graph: torch.Tensor | None, contrastive: bool
              ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """One corrupted view of a batch's inputs for the network: ``(x, x_graph)``.

        The same random fraction of the genes (``contrast_mask`` in a contrastive view,
        ``input_mask`` otherwise) is zeroed in both encoders' inputs; then each gets its
        Gaussian ``input_noise``.
        """
        rate = self.params.contrast_mask if contrastive else self.params.input_mask
        if rate > 0:
            keep = (torch.rand(x.shape, device=x.device) >= rate).to(x.dtype)
            x, x_graph = x * keep, (None if x_graph is None else x_graph * keep)
        return self._noisy(x), (None if x_graph is None else self._noisy(x_graph))

    def _noisy(self, x: torch.Tensor) -> torch.Tensor:
        """Denoising: the input corrupted by Gaussian noise."""
        noise = self.params.input_noise
        return x + noise * torch.randn_like(x) if noise > 0 else x

    @torch.no_grad()
    def _full_targets(self, network: ScDeferNetwork) -> tuple[dict[str, torch.Tensor], np.ndarray]:
        """Detached target distributions of every cell (DEC), and the current labels."""
        emb = embed(network, self.data, self.device)
        q = assign(network, emb.z)
        balance = self.weights.target_balance  # the same P as the per-batch objective's
        targets = {"z": target_distribution(q, balance)} | {
            name: target_distribution(assign(network, z), balance)
            for name, z in encoder_latents(emb).items()
        }
        return targets, q.argmax(dim=1).cpu().numpy()

    # -- reporting -----------------------------------------------------------------------------
    def _bar(self, total: int, desc: str, first: int = 0) -> tqdm:
        """Epochs ``first..total-1`` with a progress bar (rate and time left) unless quiet."""
        return tqdm(range(first, total), desc=desc, unit="epoch", disable=not self.progress,
                    dynamic_ncols=True, leave=True, initial=first, total=total)

    def _record(self, phase: str, epoch: int, sums: dict[str, float], bar: tqdm) -> None:
        self.history.append({"phase": phase, "epoch": epoch, **sums})
        bar.set_postfix({k: f"{v:.4g}" for k, v in sums.items() if k != "seconds"})
