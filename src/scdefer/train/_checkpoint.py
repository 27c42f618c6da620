"""Training state saved every few minutes, so that an interrupted run resumes where it stopped.

A checkpoint is taken at the end of an epoch and holds everything the rest of the run depends on:
the weights, the optimiser, both random number generators (torch's, which drives dropout and the
input noise, and the batcher's, which draws batches and non-edges), the phase's own state and the
loss history. Resuming from it therefore gives the same labels as a run that was never stopped
(on the same device and thread count). A checkpoint made for other settings or other cells is
refused rather than silently mixed in.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._errors import ScDeferInputError
from .._version import __version__
from ..params import CHECKPOINT_EVERY, TrainParams
from ._data import CellData

logger = logging.getLogger("scdefer")

CHECKPOINT_FILE = "checkpoint.pt"
PROGRESS_FILE = "progress.json"  # phase and epoch of the checkpoint, for people and schedulers


def fingerprint(data: CellData, params: TrainParams) -> str:
    """A digest of the training cells and of every setting that changes the result."""
    digest = hashlib.blake2b(digest_size=16)
    for array in (data.features.data, data.features.indices, data.target.data,
                  data.adjacency.indices, data.size_factors):
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update(json.dumps(params.to_dict(), sort_keys=True).encode())
    digest.update(__version__.encode())
    return digest.hexdigest()


class Checkpointer:
    """Save and load the training state in ``directory`` (nothing happens without one).

    Parameters
    ----------
    directory
        Where the checkpoint lives; created when needed. None disables checkpoints.
    key
        :func:`fingerprint` of the run; a checkpoint with another key is refused.
    every
        Seconds between two checkpoints; 0 saves after every epoch.
    """

    def __init__(self, directory: Path | str | None, key: str,
                 every: float = CHECKPOINT_EVERY) -> None:
        self.directory = Path(directory) if directory is not None else None
        self.key = key
        self.every = every
        self._last = time.monotonic()

    def load(self) -> dict[str, Any] | None:
        """The saved state, or None when there is none."""
        if self.directory is None or not (self.directory / CHECKPOINT_FILE).is_file():
            return None
        path = self.directory / CHECKPOINT_FILE
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception:  # an empty, truncated or foreign file
            raise ScDeferInputError(
                f"{path} is not a complete scdefer checkpoint (empty, truncated or another "
                "program's file); delete it to start over") from None
        if state.get("key") != self.key:
            raise ScDeferInputError(
                f"the checkpoint in {self.directory} was made for other cells or settings; delete "
                "it or choose another --checkpoint-dir")
        logger.info("resuming from %s: %s epoch %d", path, state["phase"], state["epoch"])
        return state

    def due(self) -> bool:
        """True when the last checkpoint is at least ``every`` seconds old."""
        return self.directory is not None and time.monotonic() - self._last >= self.every

    def save(self, state: dict[str, Any]) -> None:
        """Write ``state`` atomically (a killed save leaves the previous checkpoint intact)."""
        if self.directory is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / CHECKPOINT_FILE
        partial = path.with_suffix(".partial")
        torch.save({**state, "key": self.key}, partial)
        os.replace(partial, path)
        progress = {"phase": state["phase"], "epoch": state["epoch"], "saved": time.time()}
        (self.directory / PROGRESS_FILE).write_text(json.dumps(progress) + "\n")
        self._last = time.monotonic()


def random_state(generator: np.random.Generator) -> dict[str, Any]:
    """Every random number generator the training draws from."""
    state: dict[str, Any] = {"numpy": generator.bit_generator.state,
                             "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_random_state(generator: np.random.Generator, state: dict[str, Any]) -> None:
    """Put the generators back as :func:`random_state` found them."""
    generator.bit_generator.state = state["numpy"]
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
