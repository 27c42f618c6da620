"""Preprocessing output keys and every bad-input error."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pytest
import scipy.sparse as sp

import scdefer
from scdefer import PreprocessParams, ScDeferInputError, preprocess


def test_preprocess_writes_the_expected_keys(sim_prepared: ad.AnnData, sim_counts) -> None:
    p = sim_prepared
    assert p.n_vars == 200 and p.n_obs == sim_counts.n_obs
    assert "counts" in p.layers
    counts = p.layers["counts"]
    assert np.allclose(counts.data, np.round(counts.data))
    # counts are the raw values of the kept genes
    raw = sim_counts[:, p.var_names].X
    assert (sp.csr_matrix(raw) != counts).nnz == 0
    sf = p.obs["size_factors"].to_numpy()
    assert np.median(sf) == pytest.approx(1.0, rel=0.05)
    assert p.obsm["X_pca"].shape == (p.n_obs, 20)
    conn = p.obsp["scdefer_knn_connectivities"]
    assert (conn != conn.T).nnz == 0
    assert p.uns["scdefer_knn"]["connectivities_key"] == "scdefer_knn_connectivities"
    rec = p.uns["scdefer"]
    assert rec["preprocess"]["n_top_genes"] == 200 and "torch" in rec["versions"]
    assert "group" in p.obs  # labels are carried along for evaluate (never used in training)


def _counts(n=40, g=60, seed=0) -> ad.AnnData:
    rng = np.random.default_rng(seed)
    return ad.AnnData(sp.csr_matrix(rng.poisson(2.0, size=(n, g)).astype(np.float32)))


def test_non_counts_are_refused_with_a_pointer() -> None:
    adata = _counts()
    adata.X = adata.X * 0.37
    with pytest.raises(ScDeferInputError, match="--input-kind"):
        preprocess(adata)
    out = preprocess(adata, PreprocessParams(input_kind="normalized", n_pcs=5))
    assert "counts" not in out.layers


@pytest.mark.parametrize("bad,match", [(np.nan, "NaN"), (np.inf, "NaN or infinite"), (-1.0, "negative")])
def test_nan_inf_negative(bad: float, match: str) -> None:
    dense = _counts().X.toarray()
    dense[3, 4] = bad
    with pytest.raises(ScDeferInputError, match=match):
        preprocess(ad.AnnData(dense))


def test_too_few_cells_or_genes() -> None:
    with pytest.raises(ScDeferInputError, match="only 10 cells left after filtering"):
        preprocess(_counts(n=10))
    with pytest.raises(ScDeferInputError, match="only 30 genes left after filtering"):
        preprocess(_counts(g=30))


@pytest.mark.parametrize("options,match", [
    ({"n_top_genes": 10}, "--n-top-genes must be at least 50, got 10"),
    ({"n_pcs": 1}, "--n-pcs must be at least 2"),
    ({"n_neighbors": 0}, "--n-neighbors must be at least 1"),
    ({"input_kind": "tpm"}, "--input-kind must be counts, normalized or lognorm"),
    ({"n_pcs": 5.5}, "--n-pcs must be an integer"),
])
def test_bad_preprocessing_options(options: dict, match: str) -> None:
    with pytest.raises(ScDeferInputError, match=match):
        preprocess(_counts(), PreprocessParams(**options))


def test_layer_option_and_missing_layer() -> None:
    adata = _counts()
    adata.layers["raw"] = adata.X.copy()
    adata.X = np.log1p(adata.X.toarray())
    out = preprocess(adata, PreprocessParams(layer="raw", n_pcs=5))
    assert "counts" in out.layers
    with pytest.raises(ScDeferInputError, match="layer 'nope' not found"):
        preprocess(adata, PreprocessParams(layer="nope"))


def test_model_genes_mapping_and_unknown_genes() -> None:
    adata = _counts()
    genes = list(adata.var_names[:10]) + ["ghost1", "ghost2"]
    out = preprocess(adata, PreprocessParams(n_pcs=5), genes=genes)
    assert list(out.var_names) == genes
    assert out.layers["counts"][:, -2:].nnz == 0
    with pytest.raises(ScDeferInputError, match="not in the input"):
        preprocess(adata, PreprocessParams(n_pcs=5), genes=[f"ENSG{i}" for i in range(20)])


def test_simulate_has_groups() -> None:
    sim = scdefer.simulate(50, 40, 4, seed=3)
    assert sim.obs["group"].nunique() == 4
    assert np.allclose(sim.X.data, np.round(sim.X.data))
    with pytest.raises(ScDeferInputError, match="cannot simulate 3 cells x 40 genes in 4 groups"):
        scdefer.simulate(3, 40, 4)


def test_duplicate_names_are_made_unique_with_a_warning(caplog) -> None:
    adata = _counts()
    adata.obs_names = ["c"] * 3 + [f"cell{i}" for i in range(adata.n_obs - 3)]
    adata.var_names = ["g"] * 2 + [f"gene{i}" for i in range(adata.n_vars - 2)]
    with caplog.at_level("WARNING", logger="scdefer"):
        out = preprocess(adata, PreprocessParams(n_pcs=5))
    assert out.obs_names.is_unique and out.var_names.is_unique
    assert "2 duplicate cell names made unique" in caplog.text
    assert "1 duplicate gene names made unique" in caplog.text
    assert not adata.obs_names.is_unique  # the input is left untouched


@pytest.mark.parametrize("min_genes,min_cells", [(1, 1), (120, 1), (1, 40), (150, 30)])
def test_filters_match_scanpy(sim_counts: ad.AnnData, min_genes: int, min_cells: int) -> None:
    """The block-wise cell and gene filters keep what scanpy's filter_cells/filter_genes keep."""
    import scanpy as sc

    from scdefer.preprocessing import _filter

    expected = sim_counts.copy()
    sc.pp.filter_cells(expected, min_genes=min_genes)
    sc.pp.filter_genes(expected, min_cells=min_cells)
    found, library = _filter(sim_counts.copy(), min_genes, min_cells)
    assert list(found.obs_names) == list(expected.obs_names)
    assert list(found.var_names) == list(expected.var_names)
    assert np.array_equal(found.obs["n_genes"], expected.obs["n_genes"])
    assert np.array_equal(found.var["n_cells"], expected.var["n_cells"])
    kept = sim_counts[expected.obs_names]
    np.testing.assert_allclose(library, np.asarray(kept.X.sum(axis=1)).ravel(), rtol=1e-6)


def test_filters_work_block_by_block(monkeypatch, sim_counts: ad.AnnData) -> None:
    """Blocks smaller than the data give the same filters as one block."""
    from scdefer import preprocessing

    whole, library = preprocessing._filter(sim_counts.copy(), 150, 30)
    monkeypatch.setattr(preprocessing, "FILTER_BLOCK", 7)
    blocks, library_blocks = preprocessing._filter(sim_counts.copy(), 150, 30)
    assert list(blocks.obs_names) == list(whole.obs_names)
    assert list(blocks.var_names) == list(whole.var_names)
    assert np.array_equal(library, library_blocks)
