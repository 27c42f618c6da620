"""Training: reproducibility, clusters on easy data, save/load/predict, options."""

from __future__ import annotations

import dataclasses

import anndata as ad
import numpy as np
import pytest
import torch
from conftest import TINY_TRAIN

import scdefer
from scdefer import ScDefer, ScDeferInputError
from scdefer.assignment import neighbour_votes
from scdefer.consensus import matching_columns
from scdefer.evaluation import clustering_metrics
from scdefer.train import TrainParams


@pytest.fixture(scope="module")
def fitted(sim_prepared: ad.AnnData) -> ScDefer:
    return ScDefer(n_clusters=3, seed=0, **TINY_TRAIN).fit(sim_prepared)


def test_same_seed_same_labels_on_cpu(sim_prepared: ad.AnnData, fitted: ScDefer) -> None:
    again = ScDefer(n_clusters=3, seed=0, **TINY_TRAIN).fit(sim_prepared)
    np.testing.assert_array_equal(again.result.labels, fitted.result.labels)
    np.testing.assert_allclose(again.result.latent, fitted.result.latent, rtol=1e-5, atol=1e-6)


def test_finds_the_simulated_groups(sim_prepared: ad.AnnData, fitted: ScDefer) -> None:
    m = clustering_metrics(sim_prepared.obs["group"].to_numpy(), fitted.result.labels)
    assert m["ari"] > 0.8
    assert fitted.result.latent.shape == (sim_prepared.n_obs, 8)
    assert fitted.result.proba.shape == (sim_prepared.n_obs, 3)
    assert np.allclose(fitted.result.proba.sum(axis=1), 1.0, atol=1e-5)


def test_labels_are_never_read(sim_prepared: ad.AnnData, fitted: ScDefer) -> None:
    shuffled = sim_prepared.copy()
    shuffled.obs["group"] = np.random.default_rng(0).permutation(shuffled.obs["group"].to_numpy())
    other = ScDefer(n_clusters=3, seed=0, **TINY_TRAIN).fit(shuffled)
    np.testing.assert_array_equal(other.result.labels, fitted.result.labels)


def test_save_load_predict_roundtrip(tmp_path, sim_prepared, sim_counts, fitted) -> None:
    fitted.save(tmp_path / "model")
    assert {p.name for p in (tmp_path / "model").iterdir()} == {"model.pt", "params.json",
                                                                 "genes.tsv"}
    payload = torch.load(tmp_path / "model" / "model.pt", weights_only=True)
    assert payload["var_names"] == list(sim_prepared.var_names)
    loaded = ScDefer.load(tmp_path / "model", device="cpu")
    z_fit = fitted.latent(sim_prepared)
    z_load = loaded.latent(sim_prepared)
    np.testing.assert_allclose(z_load, z_fit, rtol=1e-5, atol=1e-5)
    # raw counts of new cells are mapped onto the model's genes
    labels, proba = loaded.predict(sim_counts[:120].copy())
    assert proba.shape == (120, 3)
    m = clustering_metrics(sim_counts.obs["group"].to_numpy()[:120], labels)
    assert m["ari"] > 0.6


def test_n_runs_is_the_aligned_mean_of_single_runs(tmp_path, sim_prepared, sim_counts,
                                                   fitted) -> None:
    """Two runs = the seed-0 run (its embedding too) and the seed-1 run, heads averaged after
    matching the second run's clusters to the first's; a saved model predicts the same way."""
    both = ScDefer(n_clusters=3, seed=0, n_runs=2, **TINY_TRAIN).fit(sim_prepared)
    second = ScDefer(n_clusters=3, seed=1, **TINY_TRAIN).fit(sim_prepared)
    np.testing.assert_array_equal(both.result.latent, fitted.result.latent)
    columns = matching_columns(fitted.result.labels, second.result.labels, 3)
    np.testing.assert_array_equal(both.columns[1], columns)
    mean = (fitted.result.proba + second.result.proba[:, columns]) / 2
    np.testing.assert_allclose(both.result.proba, mean, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(both.result.labels, mean.argmax(axis=1))
    assert "consensus of 2 runs" in both.uns_record()["final_labels_from"]
    assert set(both.uns_record()["history"]["run"]) == {0, 1}

    new_cells = sim_counts[:40].copy()
    expected = (fitted.predict(new_cells)[1] + second.predict(new_cells)[1][:, columns]) / 2
    loaded = ScDefer.load(both.save(tmp_path / "model"), device="cpu")
    labels, proba = loaded.predict(new_cells)
    np.testing.assert_allclose(proba, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(loaded.latent(new_cells), fitted.latent(new_cells))
    # a later run keeps the first run's number of clusters, even when it was estimated
    auto = ScDefer(n_clusters="auto", n_runs=3, seed=4, **TINY_TRAIN)
    later = auto._run_params(2, [dataclasses.replace(fitted.result, n_clusters=5)])
    assert (later.n_clusters, later.seed) == (5, 6)


def test_matching_columns_undoes_a_relabelling() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 200)
    permutation = np.array([2, 0, 3, 1])
    columns = matching_columns(labels, permutation[labels], 4)
    np.testing.assert_array_equal(columns, permutation)
    proba = np.eye(4)[permutation[labels]]
    np.testing.assert_array_equal(proba[:, columns].argmax(axis=1), labels)


def test_model_saved_before_the_attention_option_keeps_its_attention(
        tmp_path, sim_prepared) -> None:
    """A model file without ``attention`` was trained with the global attention, one without
    ``target_balance`` with DEC's target: both kept on load."""
    model = ScDefer(n_clusters=3, seed=0, attention="global", **TINY_TRAIN).fit(sim_prepared)
    model.save(tmp_path / "model")
    path = tmp_path / "model" / "model.pt"
    payload = torch.load(path, weights_only=True)
    del payload["train_params"]["attention"], payload["train_params"]["target_balance"]
    torch.save(payload, path)
    loaded = ScDefer.load(tmp_path / "model", device="cpu")
    assert (loaded.params.attention, loaded.params.target_balance) == ("global", 1.0)
    np.testing.assert_allclose(loaded.latent(sim_prepared), model.latent(sim_prepared),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("method", ["kmeans", "spectral", "leiden", "consensus", "ensemble"])
def test_final_assignment_on_the_embedding(tmp_path, sim_prepared, method: str) -> None:
    """Final labels from a clustering of Z: each cell takes the vote of its nearest cells in Z on
    that partition, and a saved model gives the training cells their labels back."""
    model = ScDefer(n_clusters=3, final_assignment=method, **TINY_TRAIN).fit(sim_prepared)
    labels, z = model.result.labels, model.result.latent
    np.testing.assert_array_equal(labels, model.result.proba.argmax(axis=1))
    assert 2 <= len(np.unique(labels)) <= 3
    partition = model.result.partition
    if partition is None:  # the ensemble chose the head's own labels
        assert method == "ensemble" and model.result.final_source == "dec"
    else:
        np.testing.assert_allclose(model.result.proba,
                                   neighbour_votes(z, partition, partition.max() + 1))
        assert np.mean(labels == partition) >= 0.95  # the vote only moves stray cells
    assert clustering_metrics(sim_prepared.obs["group"].to_numpy(), labels)["ari"] > 0.6
    model.save(tmp_path / method)
    again, _ = ScDefer.load(tmp_path / method, device="cpu").predict(sim_prepared)
    assert np.mean(again == labels) >= 0.99


def test_load_rejects_missing_and_garbage(tmp_path) -> None:
    with pytest.raises(ScDeferInputError, match="no model.pt"):
        ScDefer.load(tmp_path)
    (tmp_path / "model.pt").write_bytes(b"not a torch file")
    with pytest.raises(ScDeferInputError, match="cannot load"):
        ScDefer.load(tmp_path)
    (tmp_path / "model.pt").write_bytes(b"")  # an empty file's error has no message
    with pytest.raises(ScDeferInputError, match="cannot load .*not a torch file"):
        ScDefer.load(tmp_path)


def _ari(prepared: ad.AnnData, labels: np.ndarray) -> float:
    return clustering_metrics(prepared.obs["group"].to_numpy(), labels)["ari"]


def test_auto_k_and_the_authors_options(tmp_path, sim_prepared: ad.AnnData) -> None:
    """The authors' variants together still find the 3 easy groups; per-cell fusion weights
    survive save/load, and new cells get the mean weights.

    Labels from the ensemble: the authors' edges-only graph loss pulls the head's clusters
    together during the clustering phase (on these data the head falls from ARI 1.0 at its
    start to 0.52 with that loss alone, 0.23 with all four variants), and the ensemble can
    fall back on the PCA's readouts."""
    model = ScDefer(n_clusters="auto", graph_loss="edges", zinb_target="lognorm",
                    fusion_weights="cell", target_update=0, final_assignment="ensemble",
                    **dict(TINY_TRAIN, pretrain_epochs=20, epochs=5)).fit(sim_prepared)
    assert model.result.n_clusters == 3
    assert model.network.weight_a.shape == (sim_prepared.n_obs, 8)
    assert _ari(sim_prepared, model.result.labels) > 0.3  # chance is ~0
    model.save(tmp_path / "cell")
    loaded = ScDefer.load(tmp_path / "cell", device="cpu")
    torch.testing.assert_close(loaded.network.weight_a, model.network.weight_a)
    labels, _ = loaded.predict(sim_prepared)  # inductive: the mean of the per-cell weights
    fitted_again, _ = model.predict(sim_prepared)
    np.testing.assert_array_equal(labels, fitted_again)
    assert clustering_metrics(model.result.labels, labels)["ari"] > 0.3


def test_minibatch_training(sim_prepared: ad.AnnData) -> None:
    options = dict(TINY_TRAIN, batch_size=100, pretrain_epochs=10, epochs=3)
    model = ScDefer(n_clusters=3, **options).fit(sim_prepared)
    assert np.isfinite(model.result.latent).all()
    assert _ari(sim_prepared, model.result.labels) > 0.8
    # three batches of ~100 cells per epoch: the loss history has one row per epoch
    assert [h["phase"] for h in model.result.history].count("pretrain") == 10


def test_epoch_cells_limits_each_epoch_and_varies_the_sample(sim_prepared: ad.AnnData) -> None:
    """With epoch_cells an epoch trains on that many cells, a new random set each time."""
    from scdefer.train import CellData, ClusterBatcher

    data = CellData.from_anndata(sim_prepared)
    whole = ClusterBatcher(data.adjacency, data.coords, 50, 0, torch.device("cpu"))
    limited = ClusterBatcher(data.adjacency, data.coords, 50, 0, torch.device("cpu"),
                             max_cells=100)
    assert (len(whole), whole.epochs_per_pass) == (6, 1)
    assert (len(limited), limited.epochs_per_pass) == (2, 3)
    epochs = [np.concatenate([b.index for b in limited]) for _ in range(3)]
    assert all(0 < e.size < data.n_cells for e in epochs)
    assert len(set(map(tuple, epochs))) == 3
    covered = np.concatenate([b.index for b in whole])
    assert np.array_equal(np.sort(covered), np.arange(data.n_cells))
    # at most epoch_cells: training runs and the history counts one row per (short) epoch
    options = dict(TINY_TRAIN, batch_size=50, epoch_cells=100, pretrain_epochs=4, epochs=2)
    model = ScDefer(n_clusters=3, **options).fit(sim_prepared)
    assert [h["phase"] for h in model.result.history].count("pretrain") == 4
    assert np.isfinite(model.result.latent).all()


def test_contrastive_pretraining_term(tmp_path, sim_prepared: ad.AnnData) -> None:
    """weight_contrast adds an NT-Xent term (on a projection head) to pre-training only; at 0
    (default) there is neither term nor head; a model with the head saves and loads."""
    options = dict(TINY_TRAIN, pretrain_epochs=3, epochs=2, tol=0.0)
    plain = ScDefer(n_clusters=3, **options).fit(sim_prepared)
    assert not any("contrast" in h for h in plain.result.history)
    assert plain.network.projection is None
    model = ScDefer(n_clusters=3, weight_contrast=0.5, **options).fit(sim_prepared)
    assert model.network.projection is not None
    loaded = ScDefer.load(model.save(tmp_path / "model"))
    np.testing.assert_array_equal(loaded.predict(sim_prepared)[0], model.predict(sim_prepared)[0])
    result = model.result
    pre = [h for h in result.history if h["phase"] == "pretrain"]
    assert len(pre) == 3 and all(h["contrast"] > 0 for h in pre)
    graph_weight = TrainParams().resolved().weight_graph  # no ZINB term in the fast schedule
    assert all(h["loss"] == pytest.approx(0.5 * h["contrast"] + graph_weight * h["graph"], rel=1e-4)
               for h in pre)
    assert not any("contrast" in h for h in result.history if h["phase"] == "cluster")
    assert np.isfinite(result.latent).all()
    assert _ari(sim_prepared, result.labels) > 0.8


def test_pca_reconstruction_term(tmp_path, sim_prepared: ad.AnnData) -> None:
    """weight_pca adds the PCA decoder's squared error to both phases; at 0 (default) there is
    neither term nor decoder; a saved model leaves the training-only decoder out and labels the
    cells as the trained one does; pca_phases="pretrain" keeps the term to pre-training."""
    from scdefer.train import CellData

    options = dict(TINY_TRAIN, pretrain_epochs=3, epochs=2, tol=0.0)
    plain = ScDefer(n_clusters=3, **options).fit(sim_prepared)
    assert plain.network.pca_decoder is None
    assert not any("pca" in h for h in plain.result.history)
    model = ScDefer(n_clusters=3, weight_pca=0.5, **options).fit(sim_prepared)
    n_pcs = sim_prepared.obsm["X_pca"].shape[1]
    assert model.network.pca_decoder[-1].out_features == n_pcs
    history = model.result.history
    assert {h["phase"] for h in history if h.get("pca", 0) > 0} == {"pretrain", "cluster"}
    graph_weight = TrainParams().resolved().weight_graph
    pre = [h for h in history if h["phase"] == "pretrain"]
    assert all(h["loss"] == pytest.approx(0.5 * h["pca"] + graph_weight * h["graph"], rel=1e-4)
               for h in pre)
    assert pre[-1]["pca"] < pre[0]["pca"]  # the decoder learns
    target = CellData.from_anndata(sim_prepared).scaled_coords()
    assert np.mean(np.var(target, axis=0)) == pytest.approx(1.0, rel=1e-4)
    loaded = ScDefer.load(model.save(tmp_path / "model"))
    assert loaded.network.pca_decoder is None
    assert set(loaded.network.state_dict()) == {
        k for k in model.network.state_dict() if not k.startswith("pca_decoder.")}
    np.testing.assert_array_equal(loaded.predict(sim_prepared)[0], model.predict(sim_prepared)[0])
    assert _ari(sim_prepared, model.result.labels) > 0.8
    early = ScDefer(n_clusters=3, weight_pca=0.5, pca_phases="pretrain", **options).fit(sim_prepared)
    assert {h["phase"] for h in early.result.history if "pca" in h} == {"pretrain"}


def test_input_mask_zeroes_the_same_genes_in_both_encoders(sim_prepared: ad.AnnData) -> None:
    """input_mask zeroes a random fraction of each training input (the same entries for both
    encoders); a contrastive view uses contrast_mask instead; at 0 the input is untouched."""
    from scdefer.train import CellData, Trainer

    def view(contrastive: bool, **options) -> tuple[torch.Tensor, torch.Tensor]:
        params = TrainParams(n_clusters=3, input_noise=0.0, **options).resolved()
        trainer = Trainer(CellData.from_anndata(sim_prepared, params), params,
                          torch.device("cpu"), progress=False)
        torch.manual_seed(0)
        return trainer._view(torch.ones(400, 500), torch.full((400, 500), 2.0), contrastive)

    x, x_graph = view(False, input_mask=0.3)
    assert (x == 0).float().mean().item() == pytest.approx(0.3, abs=0.01)
    assert torch.equal(x == 0, x_graph == 0) and set(x_graph.unique().tolist()) == {0.0, 2.0}
    x, _ = view(True, input_mask=0.3, contrast_mask=0.6)
    assert (x == 0).float().mean().item() == pytest.approx(0.6, abs=0.01)
    x, x_graph = view(False)
    assert bool((x == 1).all()) and bool((x_graph == 2).all())
    model = ScDefer(n_clusters=3, input_mask=0.3, **TINY_TRAIN).fit(sim_prepared)
    assert _ari(sim_prepared, model.result.labels) > 0.8


def test_early_stopping(sim_prepared: ad.AnnData) -> None:
    """tol stops the clustering phase once the labels settle; pretrain_tol stops pre-training
    when the loss stalls; target_update > 1 refreshes the targets every N epochs only."""
    base = dict(TINY_TRAIN, pretrain_epochs=60, epochs=60, min_epochs=2)
    settled = ScDefer(n_clusters=3, tol=0.5, **base).fit(sim_prepared).result
    assert settled.epochs_run < 60
    changes = [h["label_change"] for h in settled.history if "label_change" in h]
    assert changes and changes[-1] < 0.5
    stalled = ScDefer(n_clusters=3, pretrain_tol=0.5, epochs=1,
                      **{k: v for k, v in base.items() if k != "epochs"}).fit(sim_prepared).result
    assert stalled.pretrain_epochs_run < 60
    sparse = ScDefer(n_clusters=3, target_update=3, tol=0.0,
                     **dict(base, pretrain_epochs=3, epochs=7)).fit(sim_prepared).result
    refreshed = [h["epoch"] for h in sparse.history
                 if h["phase"] == "cluster" and "label_change" in h]
    assert refreshed == [2, 5]  # recorded on the epoch before each refresh at 3 and 6


def test_paper_schedule_is_the_paper() -> None:
    """Eq. 9 squared error, gamma 0.3/0.1/0.5/0.1, 250 + 250 full-batch epochs, lr 5e-5 / 1e-7."""
    p = TrainParams(schedule="paper").resolved()
    assert (p.graph_loss, p.weight_graph, p.weight_zinb, p.weight_kl, p.weight_bce) == \
        ("squared", 0.3, 0.1, 0.5, 0.1)
    assert (p.pretrain_epochs, p.epochs, p.batch_size, p.pretrain_lr, p.lr) == (250, 250, 0, 5e-5, 1e-7)
    assert (p.input_noise, p.tol, p.pretrain_tol) == (0.0, 0.0, 0.0)
    assert (p.attention, p.final_assignment, p.center_init) == ("global", "dec", "kmeans")
    assert p.target_balance == 1.0  # Eq. 17's P
    fast = TrainParams().resolved()
    assert (fast.attention, fast.final_assignment, fast.center_init) == ("none", "dec", "agreement")
    assert fast.target_balance == 0.5
    assert TrainParams(schedule="paper", graph_loss="pairs").resolved().graph_loss == "pairs"


def _joint_spectral_start(views: dict[str, np.ndarray], k: int, seed: int) -> np.ndarray:
    from scdefer.assignment import cluster_means, joint_spectral_labels

    labels = joint_spectral_labels(list(views.values()), k, seed)
    return cluster_means(views["pretrain"], np.unique(labels, return_inverse=True)[1])


def _pretrain_partitions(views: dict[str, np.ndarray], k: int, seed: int
                         ) -> dict[str, np.ndarray]:
    from scdefer.assignment import ensemble_partitions

    partitions = ensemble_partitions(views, None, k, seed)
    assert set(partitions) == {"kmeans:pca", "spectral:pca", "leiden:pca", "kmeans:pretrain",
                               "spectral:pretrain", "leiden:pretrain", "spectral:pca+pretrain"}
    return partitions


def _medoid_start(views: dict[str, np.ndarray], k: int, seed: int) -> np.ndarray:
    from scdefer.assignment import cluster_means, pretrain_medoid

    return cluster_means(views["pretrain"], pretrain_medoid(_pretrain_partitions(views, k, seed), k))


def _agreeing_start(views: dict[str, np.ndarray], k: int, seed: int) -> np.ndarray:
    from scdefer.assignment import agreeing_kmeans

    return agreeing_kmeans(views["pretrain"], k, seed, _pretrain_partitions(views, k, seed))


@pytest.mark.parametrize("center_init,start", [("spectral", _joint_spectral_start),
                                               ("ensemble", _medoid_start),
                                               ("agreement", _agreeing_start)])
def test_center_init_starts_where_it_says(sim_prepared, center_init, start) -> None:
    """center_init 'spectral' / 'ensemble': the head starts at the means, in the pre-trained
    embedding, of the spectral clusters of the PCA's and that embedding's KNN graphs together /
    of the medoid of the readouts of the PCA and that embedding; 'agreement': at the K-means
    start that agrees most with those readouts."""
    from scdefer.train import CellData, Trainer

    network_options = {k: v for k, v in TINY_TRAIN.items() if k not in ("progress", "device")}
    params = TrainParams(n_clusters=3, center_init=center_init, final_assignment="dec",
                         **dict(network_options, epochs=0)).resolved()
    data = CellData.from_anndata(sim_prepared, params)
    pretrained = {}
    network, result = Trainer(
        data, params, torch.device("cpu"), progress=False,
        on_phase_end=lambda phase, emb: pretrained.setdefault(phase, emb.z.numpy())).fit()
    z = pretrained["pretrain"]
    expected = start({"pca": data.coords, "pretrain": z}, 3, params.seed)
    np.testing.assert_allclose(network.centers.detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    assert result.epochs_run == 0 and _ari(sim_prepared, result.labels) > 0.8


@pytest.mark.parametrize("kwargs,match", [
    ({"n_clusters": 1}, "n-clusters"),
    ({"alpha": 2.0}, "alpha"),
    ({"schedule": "slow"}, "schedule"),
    ({"graph_loss": "x"}, "graph-loss"),
    ({"weight_graph": -0.1}, "weight-graph"),
    ({"bogus": 1}, "unknown training option"),
    ({"n_clusters": "many"}, "--n-clusters must be auto"),
    ({"dropout": 2.0}, r"--dropout must be within \[0, 1\), got 2.0"),
    ({"dropout": 1.0}, "--dropout must be within"),
    ({"lr": -1.0}, "--lr must be positive"),
    ({"pretrain_lr": 0.0}, "--pretrain-lr must be positive"),
    ({"hops": 0}, "--hops must be at least 1"),
    ({"epochs": 2.5}, "--epochs must be an integer"),
    ({"final_assignment": "vote"}, "--final-assignment must be dec, kmeans"),
    ({"encoders": "neither"}, "--encoders must be both, dense or graph"),
    ({"layer_fusion": "no"}, "layer_fusion must be True or False"),
    ({"center_init": "random"}, "--center-init must be kmeans, spectral, ensemble or agreement"),
    ({"weight_contrast": -1.0}, "--weight-contrast must be"),
    ({"weight_pca": -0.5}, "--weight-pca must be"),
    ({"pca_phases": "cluster"}, "--pca-phases must be both or pretrain"),
    ({"contrast_mask": 1.0}, "--contrast-mask must be within"),
    ({"input_mask": -0.1}, "--input-mask must be within"),
    ({"dropout": "a"}, "--dropout must be a number, got 'a'"),
    ({"input_mask": None}, "--input-mask needs a value, got None"),
    ({"contrast_temperature": 0.0}, "--contrast-temperature must be positive"),
    ({"n_runs": 0}, "--n-runs must be at least 1"),
    ({"n_runs": 2, "final_assignment": "kmeans"}, "--n-runs 2 needs the clustering head's"),
])
def test_bad_training_options(kwargs, match) -> None:
    with pytest.raises(ScDeferInputError, match=match):
        ScDefer(**kwargs)


def test_cluster_one_call(sim_counts: ad.AnnData) -> None:
    out, model = scdefer.cluster(sim_counts, 3, copy=True, **TINY_TRAIN)
    assert "X_scdefer" in out.obsm and "scdefer" in out.obs and "scdefer_proba" in out.obsm
    assert out.obs["scdefer"].dtype == "category"
    assert out.uns["scdefer"]["seed"] == 0 and "preprocess" in out.uns["scdefer"]
    assert "X_scdefer" not in sim_counts.obsm  # copy=True: the input is untouched
    # copy=False (scanpy's default): the results go into the given object, under key_added
    raw = sim_counts.copy()
    raw.X[0] = 0  # a cell without counts is dropped by preprocessing
    none, in_place = scdefer.cluster(raw, 3, key_added="sd", **TINY_TRAIN)
    assert none is None and raw.obsm["X_sd"].shape == (raw.n_obs, 8)
    assert raw.obs["sd"].isna().sum() == 1 and np.isnan(raw.obsm["sd_proba"][0]).all()
    np.testing.assert_array_equal(raw.obs["sd"].to_numpy()[1:].astype(str),
                                  in_place.result.labels.astype(str))
    np.testing.assert_allclose(raw.obsm["X_sd"][1:], in_place.result.latent)
    assert raw.uns["sd"]["key_added"] == "sd" and "scdefer" not in raw.uns


def test_more_clusters_than_half_the_cells_is_an_error(sim_prepared: ad.AnnData) -> None:
    with pytest.raises(ScDeferInputError, match="more than half of the 300 cells"):
        ScDefer(n_clusters=151, **TINY_TRAIN).fit(sim_prepared)


def test_training_needs_preprocessed_input(sim_counts: ad.AnnData) -> None:
    with pytest.raises(ScDeferInputError, match="scdefer preprocess"):
        ScDefer(n_clusters=3, **TINY_TRAIN).fit(sim_counts)
