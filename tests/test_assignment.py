"""Final assignments on an embedding: consensus and the ensemble's most central partition."""

from __future__ import annotations

import numpy as np

from scdefer.assignment import consensus_labels, ensemble_partitions, most_central
from scdefer.evaluation import clustering_metrics


def _blobs(seed: int = 0, n: int = 300, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(k), n // k)
    centres = rng.normal(scale=8.0, size=(k, 10))
    return centres[truth] + rng.normal(size=(truth.size, 10)), truth


def test_most_central_picks_the_partition_the_others_agree_with() -> None:
    truth = np.repeat(np.arange(3), 50)
    rng = np.random.default_rng(0)
    noisy = [np.where(rng.random(truth.size) < 0.1, rng.integers(0, 3, truth.size), truth)
             for _ in range(3)]
    outlier = rng.integers(0, 3, truth.size)
    partitions = {"a": noisy[0], "b": noisy[1], "c": noisy[2], "random": outlier, "truth": truth}
    assert most_central(partitions) == "truth"


def test_ensemble_candidates_cover_every_view_and_readout() -> None:
    z, truth = _blobs()
    views = {"pca": z, "pretrain": z[:, ::-1].copy(), "z": z * 2}
    parts = ensemble_partitions(views, dec_labels=truth, k=3, seed=0)
    assert set(parts) == {"dec"} | {f"{m}:{v}" for m in ("kmeans", "spectral", "leiden")
                                    for v in views} | {"spectral:pca+pretrain", "spectral:pca+z"}
    for labels in parts.values():
        assert clustering_metrics(truth, labels)["ari"] > 0.95


def test_consensus_of_agreeing_partitions_is_that_partition() -> None:
    truth = np.repeat(np.arange(4), 40)
    relabelled = (truth + 1) % 4
    labels = consensus_labels([truth, relabelled, truth], 4, seed=0)
    assert clustering_metrics(truth, labels)["ari"] == 1.0
