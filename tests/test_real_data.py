"""Integration: brief training on a real labelled dataset of ../shared/data (skipped when absent)."""

from __future__ import annotations

import anndata as ad
import pytest
from conftest import shared_dataset

import scdefer
from scdefer.evaluation import clustering_metrics


@pytest.mark.slow
def test_baron_mouse_brief_training_beats_chance() -> None:
    raw = ad.read_h5ad(shared_dataset("Baron_mouse1.h5ad"))
    truth = raw.obs["cell_type"].astype(str).to_numpy()
    n_types = len(set(truth))
    unlabelled = raw.copy()
    del unlabelled.obs["cell_type"]  # the model gets no labels at all
    out, model = scdefer.cluster(unlabelled, n_types, copy=True, device="cpu", progress=False,
                                 pretrain_epochs=15, epochs=5, seed=0)
    metrics = clustering_metrics(truth[raw.obs_names.get_indexer(out.obs_names)],
                                 out.obs["scdefer"].to_numpy())
    assert metrics["ari"] > 0.3, metrics  # chance is ~0
    assert metrics["nmi"] > 0.5, metrics


def test_yan_rpkm_is_refused_as_counts_and_runs_as_normalized() -> None:
    raw = ad.read_h5ad(shared_dataset("Yan.h5ad"))
    try:
        scdefer.preprocess(raw)
    except scdefer.ScDeferInputError as exc:
        assert "integer counts" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("RPKM accepted as counts")
    prepared = scdefer.preprocess(raw, scdefer.PreprocessParams(input_kind="normalized"))
    assert "counts" not in prepared.layers and prepared.n_vars == 2000
