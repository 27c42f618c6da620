"""The user-facing model: fit on a preprocessed AnnData, embed and assign new cells, save/load."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import anndata as ad
import numpy as np
import pandas as pd
import torch

from ._errors import ScDeferInputError
from ._provenance import package_versions
from ._runtime import deterministic_algorithms, resolve_device, seed_everything
from ._version import __version__
from .assignment import neighbour_votes
from .consensus import consensus, mean_assignment
from .io import atomic_directory
from .keys import KEY, PREPROCESS_RECORD
from .preprocessing import is_preprocessed
from .reference import QueryCells, Reference
from .train import (
    CHECKPOINT_EVERY,
    CellData,
    Trainer,
    TrainParams,
    TrainResult,
    assign,
    build_network,
    embed_attached,
)

logger = logging.getLogger("scdefer")

MODEL_FILE = "model.pt"


@dataclass
class MappedCells:
    """New cells placed by a saved model: latent, soft assignments and their features."""

    latent: np.ndarray
    proba: np.ndarray
    cells: QueryCells


class ScDefer:
    """scDEFER: deep embedded fusion clustering of single-cell RNA-seq (Cheng et al., AAAI 2023).

    Parameters
    ----------
    n_clusters
        Number of clusters, or ``"auto"`` to estimate it from the pre-trained embedding.
    device
        ``"auto"``, ``"cpu"`` or ``"cuda"``; falls back to the CPU with a warning.
    progress
        Show progress bars.
    **train_kwargs
        Any field of :class:`scdefer.train.TrainParams` (epochs, learning rates, options).

    Examples
    --------
    >>> prepared = scdefer.preprocess(adata)
    >>> model = scdefer.ScDefer(n_clusters=8).fit(prepared)
    >>> prepared.obsm["X_scdefer"] = model.latent()
    """

    def __init__(self, n_clusters: int | str = "auto", device: str = "auto",
                 progress: bool = True, **train_kwargs: Any) -> None:
        unknown = set(train_kwargs) - set(TrainParams.__dataclass_fields__)
        if unknown:
            raise ScDeferInputError(f"unknown training option(s): {', '.join(sorted(unknown))}")
        self.params = TrainParams(n_clusters=n_clusters, **train_kwargs).resolved()
        self.device = resolve_device(device)
        self.progress = progress
        self.networks: list[torch.nn.Module] = []  # one per run (n_runs); the first embeds
        self.columns: list[np.ndarray] = []  # each run's clusters in the first run's order
        self.result: TrainResult | None = None
        self.var_names: list[str] = []
        self.preprocess_params: dict[str, Any] = {}
        self.n_cells_trained = 0
        self.reference: Reference | None = None

    # -- training --------------------------------------------------------------------------------
    def fit(self, adata: ad.AnnData, checkpoint_dir: str | Path | None = None,
            checkpoint_every: float = CHECKPOINT_EVERY) -> ScDefer:
        """Train on a preprocessed AnnData (see :func:`scdefer.preprocess`). Labels are never read.

        With ``checkpoint_dir`` the training state is saved there every ``checkpoint_every``
        seconds, and a checkpoint already there (from an interrupted run with the same cells and
        settings) is resumed: the result equals that of an uninterrupted run.
        """
        if checkpoint_every < 0:
            raise ScDeferInputError(f"checkpoint_every must be >= 0, got {checkpoint_every}")
        data = CellData.from_anndata(adata, self.params)
        results: list[TrainResult] = []
        self.networks = []
        for run in range(self.params.n_runs):
            params = self._run_params(run, results)
            if self.params.n_runs > 1:
                logger.info("run %d of %d (seed %d)", run + 1, self.params.n_runs, params.seed)
            seed_everything(params.seed)
            trainer = Trainer(data, params, self.device, self.progress,
                              checkpoint_dir=_run_directory(checkpoint_dir, run),
                              checkpoint_every=checkpoint_every)
            with deterministic_algorithms():
                network, result = trainer.fit()
            self.networks.append(network)
            results.append(result)
        self.result, self.columns = _consensus(results)
        self.var_names = list(map(str, adata.var_names))
        self.preprocess_params = dict(adata.uns.get(KEY, {}).get(PREPROCESS_RECORD, {}))
        self.n_cells_trained = data.n_cells
        self.reference = Reference.from_prepared(adata, self.params.encoder_input,
                                                 data.inputs.residual_rows)
        if self.result.partition is not None:  # new cells vote on these clusters
            self.reference.latent = self.result.latent
            self.reference.partition = self.result.partition
        return self

    def _run_params(self, run: int, done: list[TrainResult]) -> TrainParams:
        """Run ``run``'s settings: seed + run, and the first run's number of clusters."""
        if run == 0:
            return self.params
        return replace(self.params, seed=self.params.seed + run, n_clusters=done[0].n_clusters)

    @property
    def network(self) -> torch.nn.Module | None:
        """The (first run's) trained network: it makes the embedding; None before training."""
        return self.networks[0] if self.networks else None

    def _require_fitted(self) -> torch.nn.Module:
        if self.network is None:
            raise RuntimeError("the model is not trained: call fit() or load() first")
        return self.network

    # -- inference -------------------------------------------------------------------------------
    def latent(self, adata: ad.AnnData | None = None) -> np.ndarray:
        """The 24-d embedding of the training cells, or of the cells of a new ``adata``."""
        return self.embed_and_assign(adata)[0]

    def predict(self, adata: ad.AnnData | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Cluster labels and soft assignments (cells x K) of training or new cells."""
        _, proba = self.embed_and_assign(adata)
        return proba.argmax(axis=1), proba

    def embed_and_assign(self, adata: ad.AnnData | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Embedding and soft assignments of the training cells, or of new cells (see :meth:`map`)."""
        self._require_fitted()
        if adata is None:
            if self.result is None:
                raise ScDeferInputError("a loaded model needs the cells to embed")
            return self.result.latent, self.result.proba
        mapped = self.map(adata)
        return mapped.latent, mapped.proba

    def map(self, adata: ad.AnnData, layer: str | None = None) -> MappedCells:
        """Place new cells (raw counts, or scdefer-preprocessed) into the training graph.

        Each cell is normalised to the training library-size target, projected on the training
        PCA, attached to its nearest training cells and embedded with them (in chunks), and
        labelled by a vote of its nearest training cells in the learnt embedding (or, when the
        model's labels are its clustering head's, by the head, or by the consensus of the heads
        of ``n_runs`` networks); its label does not depend on the other cells in ``adata``.
        Missing model genes count as zeros.
        """
        network = self._require_fitted()
        if self.reference is None:
            raise ScDeferInputError(
                "this model was saved without its training reference (an older scdefer); "
                "train it again to predict new cells"
            )
        if layer is None and not is_preprocessed(adata):
            layer = self.preprocess_params.get("layer") or None
        cells = self.reference.query_cells(adata, layer)
        latents = [embed_attached(net, self.reference, cells, self.device) for net in self.networks]
        reference = self.reference
        if reference.partition is None:  # the clustering heads' labels: their soft assignments
            probas = [assign(net, torch.from_numpy(z).to(self.device)).cpu().numpy()
                      for net, z in zip(self.networks, latents, strict=True)]
            proba = mean_assignment(probas, self.columns)
        else:  # the training cells' partition (one run): a vote of the nearest training cells
            proba = neighbour_votes(reference.latent, reference.partition,
                                    int(network.centers.shape[0]), query=latents[0])
        return MappedCells(latent=latents[0], proba=proba, cells=cells)

    # -- persistence -----------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write ``model.pt`` (weights, hyper-parameters, genes, versions, reference) and ``params.json``."""
        network = self._require_fitted()
        payload = {
            "class": type(self).__name__,
            "scdefer_version": __version__,
            "state_dict": network.inference_state(),
            "train_params": self.params.to_dict(),
            "preprocess_params": _plain(self.preprocess_params),
            "var_names": self.var_names,
            "n_cells_trained": self.n_cells_trained,
            "n_clusters": int(network.centers.shape[0]),
            "versions": package_versions(),
            "reference": None if self.reference is None else self.reference.to_payload(),
            "extra_runs": [{"state_dict": net.inference_state(), "columns": order.tolist()}
                           for net, order in zip(self.networks[1:], self.columns[1:],
                                                 strict=True)],
        }
        directory = Path(directory)
        with atomic_directory(directory) as tmp:
            torch.save(payload, tmp / MODEL_FILE)
            readable = {k: v for k, v in payload.items()
                        if k not in ("state_dict", "var_names", "reference", "extra_runs")}
            (tmp / "params.json").write_text(json.dumps(readable, indent=2, default=str))
            pd.Series(self.var_names, name="gene").to_csv(tmp / "genes.tsv", index=False, sep="\t")
        return directory

    @classmethod
    def load(cls, directory: str | Path, device: str = "auto") -> ScDefer:
        """Rebuild a model saved by :meth:`save` (loaded with ``weights_only=True``)."""
        path = Path(directory) / MODEL_FILE
        if not path.is_file():
            raise ScDeferInputError(f"no {MODEL_FILE} in model directory {directory}")
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # any unpickling failure means a bad file
            reason = (str(exc).splitlines() or [f"{type(exc).__name__}, not a torch file"])[0]
            raise ScDeferInputError(f"cannot load {path}: {reason}") from exc
        if payload.get("class") != cls.__name__:
            raise ScDeferInputError(f"{path} does not hold a {cls.__name__} model")
        params = dict(payload["train_params"])
        params.setdefault("attention", "global")  # saved before the option: trained with it
        params.setdefault("encoder_input", "lognorm")  # likewise
        params.setdefault("target_balance", 1.0)  # likewise (DEC's target)
        params["hidden"], params["decoder_hidden"] = (tuple(params["hidden"]),
                                                      tuple(params["decoder_hidden"]))
        model = cls(device=device, progress=False, **params)
        runs = [{"state_dict": payload["state_dict"], "columns": range(payload["n_clusters"])},
                *payload.get("extra_runs", [])]
        for run in runs:
            network = build_network(len(payload["var_names"]), payload["n_cells_trained"],
                                    payload["n_clusters"], model.params)
            network.load_state_dict(run["state_dict"])
            model.networks.append(network.to(model.device))
            model.columns.append(np.asarray(run["columns"], dtype=np.int64))
        model.var_names = list(payload["var_names"])
        model.preprocess_params = dict(payload["preprocess_params"])
        model.n_cells_trained = payload["n_cells_trained"]
        if payload.get("reference") is not None:
            model.reference = Reference.from_payload(payload["reference"])
        return model

    def uns_record(self) -> dict[str, Any]:
        """What ``uns['scdefer']`` records about this model and its training."""
        record: dict[str, Any] = {
            "train": _plain(self.params.to_dict()),
            "seed": self.params.seed,
            "device": str(self.device),
            "versions": package_versions(),
        }
        if self.result is not None:
            r = self.result
            record |= {
                "n_clusters": r.n_clusters,
                "final_labels_from": r.final_source,
                "pretrain_epochs_run": r.pretrain_epochs_run,
                "epochs_run": r.epochs_run,
                "train_seconds": round(r.seconds, 2),
                "history": _history_table(r.history),
            }
        network = self._require_fitted()
        record["beta"] = float(network.beta.detach().cpu())
        return record


def _run_directory(checkpoint_dir: str | Path | None, run: int) -> Path | None:
    """Where run ``run`` keeps its checkpoint: the directory itself for the first run."""
    if checkpoint_dir is None:
        return None
    return Path(checkpoint_dir) / f"run{run}" if run else Path(checkpoint_dir)


def _consensus(results: list[TrainResult]) -> tuple[TrainResult, list[np.ndarray]]:
    """One result from the runs': the aligned heads' mean assignment, the first run's embedding."""
    first = results[0]
    if len(results) == 1:
        return first, [np.arange(first.n_clusters)]
    proba, columns = consensus([r.proba for r in results])
    history = [{"run": run, **row} for run, r in enumerate(results) for row in r.history]
    return replace(first, proba=proba, labels=proba.argmax(axis=1), history=history,
                   final_source=f"{first.final_source} (consensus of {len(results)} runs)",
                   seconds=sum(r.seconds for r in results)), columns


def _plain(mapping: dict[str, Any]) -> dict[str, Any]:
    """Replace None (which h5ad cannot store) with empty strings."""
    return {k: ("" if v is None else v) for k, v in mapping.items()}


def _history_table(history: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    frame = pd.DataFrame(history)
    return {c: (frame[c].astype(str).to_numpy() if frame[c].dtype == object
                else frame[c].to_numpy(dtype=float)) for c in frame.columns}
