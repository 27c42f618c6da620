"""``--n-clusters auto``: the resolution falls with the number of cells, and clear groups are counted."""

from __future__ import annotations

import numpy as np
import pytest

from scdefer.nclusters import (
    MIN_FRACTION,
    REFERENCE_CELLS,
    RESOLUTION_AT_REFERENCE,
    auto_resolution,
    count_communities,
    estimate_n_clusters,
)


def test_resolution_falls_as_the_cells_grow() -> None:
    assert auto_resolution(REFERENCE_CELLS) == pytest.approx(RESOLUTION_AT_REFERENCE)
    sizes = [500, 3000, 10_000, 100_000]
    resolutions = [auto_resolution(n) for n in sizes]
    assert resolutions == sorted(resolutions, reverse=True)


def test_small_communities_are_not_counted() -> None:
    labels = np.repeat([0, 1, 2, 3], [500, 400, 95, 5])  # the last holds 0.5% of 1,000 cells
    assert MIN_FRACTION > 0.005
    assert count_communities(labels) == 3
    assert count_communities(np.zeros(50, dtype=int)) == 2  # never fewer than two


@pytest.mark.parametrize("cells_per_group", [60, 800])
def test_clear_groups_are_counted_at_any_size(cells_per_group: int) -> None:
    """Six well-separated groups count as six at 360 and at 4,800 cells."""
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=10.0, size=(6, 20))
    coords = np.vstack([c + rng.normal(size=(cells_per_group, 20)) for c in centres])
    assert estimate_n_clusters(coords.astype(np.float32), seed=0) == 6


def test_a_few_hundred_cells_are_not_over_split(sim_prepared) -> None:
    """300 cells in 3 groups: the resolution is capped at 1 (uncapped, 3.2 gives 15-17)."""
    assert auto_resolution(sim_prepared.n_obs) == 1.0
    assert estimate_n_clusters(sim_prepared.obsm["X_pca"], seed=0) == 3
