"""Analytic Pearson residuals: the formula, the clip, and independence of other new cells."""

import numpy as np
import scipy.sparse as sp

from scdefer.residuals import PearsonResiduals


def _counts(seed: int = 0, cells: int = 60, genes: int = 30) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    counts = rng.negative_binomial(2, 0.3, size=(cells, genes)).astype(np.float32)
    counts[:, -1] = 0  # a gene no training cell expresses
    return sp.csr_matrix(counts)


def test_residuals_follow_the_formula_and_clip():
    counts = _counts()
    model = PearsonResiduals.fit(counts)
    dense = counts.toarray().astype(np.float64)
    mu = dense.sum(1, keepdims=True) * (dense.sum(0) / dense.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.nan_to_num((dense - mu) / np.sqrt(mu + mu**2 / 100.0))
    expected = np.clip(expected, -np.sqrt(60), np.sqrt(60))
    got = model.rows(counts)
    assert np.allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert np.all(got[:, -1] == 0)  # zero spread: residual 0, not NaN
    assert np.abs(got).max() <= model.clip
    assert got.dtype == np.float32


def test_a_cells_residuals_do_not_depend_on_the_other_cells():
    train = _counts()
    model = PearsonResiduals.fit(train)
    alone = model.rows(train[5:6])
    among_others = model.rows(sp.vstack([_counts(seed=1, cells=7), train[5:6]]))[-1]
    assert np.array_equal(alone[0], among_others)
    assert np.array_equal(alone[0], model.rows(train)[5])


def test_residual_rows_are_made_block_by_block_and_match_the_whole(monkeypatch):
    import scdefer.residuals as residuals_module

    counts = _counts(cells=50)
    model = PearsonResiduals.fit(counts)
    monkeypatch.setattr(residuals_module, "RESIDUAL_BLOCK", 7)  # several blocks per request
    rows = residuals_module.ResidualRows(counts, model)
    assert rows.shape == counts.shape
    np.testing.assert_array_equal(rows[0:50], model.rows(counts))
    picked = np.array([49, 3, 3, 20])
    np.testing.assert_array_equal(rows[picked], model.rows(counts[picked]))
    assert rows[5:9].dtype == np.float32


def test_encoder_inputs_of_each_kind():
    import pytest

    from scdefer import ScDeferInputError
    from scdefer.inputs import EncoderInputs
    from scdefer.residuals import ResidualRows

    counts = _counts()
    lognorm = sp.csr_matrix(np.log1p(counts.toarray()))
    model = PearsonResiduals.fit(counts)
    plain = EncoderInputs.build("lognorm", lognorm, None, None)
    assert plain.shared and plain.dense is lognorm
    pearson = EncoderInputs.build("pearson", lognorm, counts, model)
    assert pearson.shared and isinstance(pearson.dense, ResidualRows)
    dual = EncoderInputs.build("dual", lognorm, counts, model)
    assert not dual.shared and dual.dense is lognorm and isinstance(dual.graph, ResidualRows)
    with pytest.raises(ScDeferInputError, match="--encoder-input dual needs counts"):
        EncoderInputs.build("dual", lognorm, None, None)
