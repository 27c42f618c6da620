"""A saved model labels new cells one by one: the result must not depend on the other cells."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pytest
import scipy.sparse as sp
from conftest import TINY_TRAIN, scdefer_cli, shared_dataset

import scdefer
from scdefer import ScDefer, ScDeferInputError
from scdefer.keys import COUNTS, confidence_key, no_counts_key, proba_key
from scdefer.reference import Reference


@pytest.fixture(scope="module")
def query_counts() -> ad.AnnData:
    """1,000 cells x 600 genes in 5 groups: the training cells (and their queries)."""
    return scdefer.simulate(1000, 600, 5, seed=7)


@pytest.fixture(scope="module")
def trained(query_counts: ad.AnnData, tmp_path_factory: pytest.TempPathFactory) -> ScDefer:
    """A model trained on ``query_counts``, saved and loaded back (what `predict` uses)."""
    prepared = scdefer.preprocess(query_counts, scdefer.PreprocessParams(n_top_genes=300))
    model = ScDefer(n_clusters=5, **dict(TINY_TRAIN, pretrain_epochs=15, epochs=5)).fit(prepared)
    directory = model.save(tmp_path_factory.mktemp("model") / "model")
    loaded = ScDefer.load(directory, device="cpu")
    loaded.result = model.result  # the training labels, to compare with
    loaded.training_cells = list(prepared.obs_names)
    return loaded


def _labels(adata: ad.AnnData, model: ScDefer) -> np.ndarray:
    return scdefer.predict(adata, model).obs["scdefer"].to_numpy().astype(str)


@pytest.fixture(scope="module")
def full_labels(query_counts: ad.AnnData, trained: ScDefer) -> np.ndarray:
    return _labels(query_counts, trained)


def test_features_and_pca_of_training_cells_are_reproduced(query_counts, trained) -> None:
    prepared = scdefer.preprocess(query_counts, scdefer.PreprocessParams(n_top_genes=300))
    cells = trained.reference.query_cells(query_counts)
    assert abs(cells.features - sp.csr_matrix(prepared.X)).max() < 1e-5
    np.testing.assert_allclose(cells.coords, prepared.obsm["X_pca"], atol=1e-3)


def test_predict_on_training_cells_gives_the_training_labels(full_labels, trained) -> None:
    assert np.mean(full_labels == trained.result.labels.astype(str)) >= 0.99


def test_a_cells_label_does_not_depend_on_the_other_cells(query_counts, trained,
                                                          full_labels) -> None:
    rng = np.random.default_rng(0)
    fixed = rng.choice(query_counts.n_obs, 200, replace=False)
    alone = _labels(query_counts[fixed].copy(), trained)
    assert np.mean(alone == full_labels[fixed]) >= 0.98
    one_by_one = [_labels(query_counts[[i]].copy(), trained)[0] for i in fixed[:20]]
    assert np.mean(np.array(one_by_one) == full_labels[fixed[:20]]) >= 0.95
    tenth = np.union1d(fixed, rng.choice(query_counts.n_obs, 100, replace=False))
    within = _labels(query_counts[tenth].copy(), trained)
    assert np.mean(within[np.searchsorted(tenth, fixed)] == full_labels[fixed]) >= 0.98


def test_doubling_every_count_keeps_the_labels(query_counts, trained, full_labels) -> None:
    doubled = query_counts.copy()
    doubled.X = doubled.X * 2
    assert np.mean(_labels(doubled, trained) == full_labels) >= 0.99


def test_missing_genes_are_zero_filled_with_a_warning(query_counts, trained, full_labels,
                                                     caplog) -> None:
    genes = np.array(trained.reference.genes)
    dropped = set(np.random.default_rng(1).choice(genes, int(0.3 * len(genes)), replace=False))
    partial = query_counts[:, [g not in dropped for g in query_counts.var_names]].copy()
    with caplog.at_level("WARNING", logger="scdefer"):
        labels = _labels(partial, trained)
    assert f"{len(dropped)} of {len(genes)} model genes are absent" in caplog.text
    assert np.mean(labels == full_labels) >= 0.9
    worse = set(genes[: int(0.6 * len(genes))])
    too_few = query_counts[:, [g not in worse for g in query_counts.var_names]].copy()
    with pytest.raises(ScDeferInputError, match="at least 50% must be present"):
        scdefer.predict(too_few, trained)


def test_one_cell_and_cells_without_counts_are_kept(query_counts, trained) -> None:
    cells = query_counts[:3].copy()
    cells.X = sp.csr_matrix(cells.X)
    cells.X[1] = 0
    cells.X.eliminate_zeros()
    out = scdefer.predict(cells, trained)
    assert list(out.obs_names) == list(cells.obs_names)
    assert out.obs[no_counts_key()].tolist() == [False, True, False]
    assert out.obs["scdefer"].notna().all()
    assert list(out.obs["scdefer"].cat.categories) == [str(i) for i in range(5)]
    assert out.obsm[proba_key()].shape == (3, 5)
    np.testing.assert_allclose(out.obs[confidence_key()], out.obsm[proba_key()].max(axis=1))
    assert scdefer.predict(query_counts[[0]].copy(), trained).n_obs == 1


def test_reference_round_trips(trained) -> None:
    again = Reference.from_payload(trained.reference.to_payload())
    assert again.genes == trained.reference.genes
    assert (again.adjacency != trained.reference.adjacency).nnz == 0
    np.testing.assert_array_equal(again.coords, trained.reference.coords)
    assert again.encoder_input == trained.reference.encoder_input == "dual"  # the default
    saved, loaded = trained.reference.residual_rows, again.residual_rows
    assert (loaded.counts != saved.counts).nnz == 0
    assert loaded.model.clip == saved.model.clip
    np.testing.assert_array_equal(loaded.model.gene_fractions, saved.model.gene_fractions)


def test_models_with_and_without_the_zinb_decoder_round_trip(query_counts, trained,
                                                             tmp_path) -> None:
    """The default model has no ZINB decoder; one trained with it (as every model saved before
    the fast schedule dropped the term) keeps it through save and load and labels as trained."""
    assert trained.params.weight_zinb == 0 and trained.network.decoder is None
    cells = query_counts[:300].copy()
    prepared = scdefer.preprocess(cells, scdefer.PreprocessParams(n_top_genes=300))
    model = ScDefer(n_clusters=5, weight_zinb=0.1, **TINY_TRAIN).fit(prepared)
    loaded = ScDefer.load(model.save(tmp_path / "zinb"), device="cpu")
    assert loaded.network.decoder is not None and loaded.params.weight_zinb == 0.1
    saved, again = model.network.state_dict(), loaded.network.state_dict()
    assert set(again) == set(saved)
    labels = scdefer.predict(cells, loaded).obs["scdefer"].to_numpy().astype(str)
    assert np.mean(labels == model.result.labels.astype(str)) >= 0.99


def test_cli_predict_stops_on_too_few_genes(tmp_path, query_counts, trained) -> None:
    directory = trained.save(tmp_path / "model")
    genes = trained.reference.genes
    removed = set(genes[: int(0.6 * len(genes))])  # 60% of the model's genes
    query = query_counts[:, [g not in removed for g in query_counts.var_names]].copy()
    query.write_h5ad(tmp_path / "query.h5ad")
    result = scdefer_cli("predict", str(tmp_path / "query.h5ad"), "--model-dir", str(directory),
                         "--output", str(tmp_path / "out.h5ad"))
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("scdefer: error:")]
    assert len(errors) == 1 and "genes are absent" in errors[0]
    assert not (tmp_path / "out.h5ad").exists()


def test_cli_predict_needs_the_counts_layer_of_a_preprocessed_query(tmp_path, query_counts,
                                                                    trained) -> None:
    """The default model reads Pearson residuals of counts: a preprocessed query must keep them."""
    directory = trained.save(tmp_path / "model")
    prepared = scdefer.preprocess(query_counts, scdefer.PreprocessParams(n_top_genes=300))
    query = prepared[:50].copy()
    del query.layers[COUNTS]
    query.write_h5ad(tmp_path / "query.h5ad")
    result = scdefer_cli("predict", str(tmp_path / "query.h5ad"), "--model-dir", str(directory),
                         "--output", str(tmp_path / "out.h5ad"))
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("scdefer: error:")]
    assert len(errors) == 1 and f"layers['{COUNTS}']" in errors[0] and "raw counts" in errors[0]
    assert not (tmp_path / "out.h5ad").exists()


def test_real_data_predict_is_independent_of_the_batch(tmp_path) -> None:
    """Baron mouse 1 (822 cells, 13 types), default training: the issue's measurements."""
    adata = ad.read_h5ad(shared_dataset("Baron_mouse1.h5ad"))
    prepared = scdefer.preprocess(adata)
    model = ScDefer(n_clusters=13, progress=False, device="cpu", seed=0).fit(prepared)
    full = _labels(adata, model)
    training = dict(zip(prepared.obs_names, model.result.labels.astype(str), strict=True))
    assert np.mean(full == np.array([training[c] for c in adata.obs_names])) >= 0.99
    subset = np.random.default_rng(0).choice(adata.n_obs, 100, replace=False)
    assert np.mean(_labels(adata[subset].copy(), model) == full[subset]) >= 0.98
