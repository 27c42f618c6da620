"""Final assignments on an embedding: consensus and the ensemble's most central partition."""

from __future__ import annotations

import numpy as np
import pytest

from scdefer.assignment import (
    agreeing_kmeans,
    consensus_labels,
    ensemble_partitions,
    most_central,
    neighbour_votes,
)
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


def test_agreeing_kmeans_takes_the_start_the_other_partitions_agree_with() -> None:
    """A long cluster and a small one beside it: K-means' lowest inertia halves the long one; of
    the same starts, the one agreeing with another partition (here the two groups) keeps both,
    and a partition with another number of clusters has no say."""
    from sklearn.cluster import KMeans

    rng = np.random.default_rng(0)
    long = np.c_[rng.uniform(-10, 10, 1000), rng.normal(0, 0.5, 1000)]
    small = np.c_[rng.normal(0, 0.5, 150), rng.normal(10, 0.5, 150)]
    z, groups = np.r_[long, small], np.repeat([0, 1], [1000, 150])
    lowest_inertia = KMeans(n_clusters=2, n_init=20, random_state=0).fit(z).labels_
    assert clustering_metrics(groups, lowest_inertia)["ari"] < 0.1
    other_k = np.arange(z.shape[0]) % 3
    centres = agreeing_kmeans(z, 2, 0, {"groups": groups, "three": other_k})
    nearest = ((z[:, None, :] - centres[None]) ** 2).sum(axis=2).argmin(axis=1)
    assert clustering_metrics(groups, nearest)["ari"] == pytest.approx(1.0)


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


def test_neighbour_votes_smooth_a_stray_cell_and_keep_clusters() -> None:
    z, truth = _blobs()
    partition = truth.copy()
    partition[0] = 2  # a stray label inside cluster 0
    votes = neighbour_votes(z, partition, 3, n_neighbors=15)
    assert votes.shape == (z.shape[0], 3)
    np.testing.assert_allclose(votes.sum(axis=1), 1.0)
    labels = votes.argmax(axis=1)
    assert labels[0] == 0  # its 15 neighbours outvote it
    np.testing.assert_array_equal(labels[1:], truth[1:])
    assert votes[0, 2] == pytest.approx(1 / 16, rel=1e-4)  # its own vote still counts


def test_a_query_equal_to_a_reference_cell_gets_its_votes() -> None:
    z, truth = _blobs(n=150)
    partition = np.where(np.random.default_rng(1).random(truth.size) < 0.2, (truth + 1) % 3,
                         truth)  # noisy, so that the votes are not all unanimous
    own = neighbour_votes(z, partition, 3)
    rows = np.array([5, 77, 149, 5])
    np.testing.assert_allclose(neighbour_votes(z, partition, 3, query=z[rows]), own[rows])


def test_the_nearer_neighbour_breaks_a_tie() -> None:
    reference = np.array([[0.0], [1.0], [-2.0], [3.0], [-4.0]])
    partition = np.array([0, 1, 0, 1, 2])
    votes = neighbour_votes(reference, partition, 3, query=np.array([[0.9]]), n_neighbors=3)
    assert votes.argmax() == 1  # two votes each for 0 and 1; the nearest cell (1.0) is a 1
