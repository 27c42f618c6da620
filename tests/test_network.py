"""Shapes through both encoders, the fusion and the decoder; fusion weight modes; attention."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scdefer.graph import knn_graph, normalized_adjacency, to_torch_sparse
from scdefer.module import ScDeferNetwork


@pytest.fixture()
def graph() -> torch.Tensor:
    coords = np.random.default_rng(0).normal(size=(30, 4))
    return to_torch_sparse(normalized_adjacency(knn_graph(coords, 5)[0]))


@pytest.mark.parametrize("fusion", ["dimension", "cell"])
def test_shapes_through_the_network(graph: torch.Tensor, fusion: str) -> None:
    torch.manual_seed(0)
    net = ScDeferNetwork(50, hidden=(32, 16, 6), decoder_hidden=(16, 32), fusion_weights=fusion,
                         n_cells=30, n_clusters=4)
    x = torch.rand(30, 50)
    out = net(x, graph, torch.arange(30))
    for name in ("z_dense", "z_graph", "z"):
        assert getattr(out, name).shape == (30, 6)
    for name in ("mean", "dispersion", "pi_logits"):
        assert getattr(out, name).shape == (30, 50)
    assert (out.mean > 0).all() and (out.dispersion > 0).all()
    assert net.centers.shape == (4, 6)
    # the three ZINB heads are separate layers
    assert net.mean_head.weight.data_ptr() != net.pi_head.weight.data_ptr()
    assert net.dispersion_head.weight.data_ptr() != net.mean_head.weight.data_ptr()


def test_layerwise_fusion_feeds_both_encoders(graph: torch.Tensor) -> None:
    torch.manual_seed(0)
    net = ScDeferNetwork(20, hidden=(8, 6, 4), decoder_hidden=(6, 8), alpha=0.0).eval()
    x = torch.rand(30, 20)
    base = net.encode(x, graph).z_dense
    # with alpha = 0 the dense encoder's deeper layers see only the graph branch
    with torch.no_grad():
        net.dense_layers[0].linear.weight.mul_(3.0)
    assert torch.allclose(net.encode(x, graph).z_dense, base)
    net.alpha = 0.5
    assert not torch.allclose(net.encode(x, graph).z_dense, base)


def test_global_attention_matches_dense_softmax(graph: torch.Tensor) -> None:
    torch.manual_seed(0)
    net = ScDeferNetwork(10, hidden=(8, 6, 4), decoder_hidden=(6, 8)).eval()
    with torch.no_grad():
        net.beta.fill_(0.7)
    x = torch.rand(30, 10)
    out = net.encode(x, graph)
    a, b = net.weight_a, net.weight_b
    z_local = torch.sparse.mm(graph, a * out.z_dense + b * out.z_graph)
    s = torch.softmax(z_local @ z_local.T, dim=1)
    torch.testing.assert_close(out.z, 0.7 * s @ z_local + z_local, rtol=1e-4, atol=1e-5)


def test_cell_fusion_weights_need_cells() -> None:
    with pytest.raises(ValueError, match="fusion_weights='cell' needs n_cells"):
        ScDeferNetwork(10, fusion_weights="cell")


def test_chunked_inference_equals_one_pass(graph: torch.Tensor) -> None:
    """Inference in row chunks from a sparse input gives the one-pass latents (to rounding)."""
    import scipy.sparse as sp

    n = graph.shape[0]
    x = sp.random(n, 40, density=0.3, format="csr", dtype=np.float32, random_state=0)
    network = ScDeferNetwork(40, hidden=(32, 16, 8), decoder_hidden=(16, 32), n_clusters=2).eval()
    with torch.no_grad():
        whole = network.encode(torch.from_numpy(x.toarray()), graph).z
        chunked = network.encode(x, graph, chunk=n // 3 + 1).z
    torch.testing.assert_close(chunked, whole, atol=1e-6, rtol=1e-5)


def test_global_attention_thins_many_keys() -> None:
    """Above max_keys the keys are evenly spaced ones; below, all of them."""
    from scdefer.module._network import global_attention

    keys = torch.randn(1000, 8) * 0.3
    queries = torch.randn(50, 8) * 0.3
    exact = global_attention(queries, keys, max_keys=1000)
    thinned = global_attention(queries, keys, max_keys=250)
    assert torch.equal(exact, global_attention(queries, keys))
    spaced = keys[torch.linspace(0, 999, 250).long()]
    assert torch.equal(thinned, global_attention(queries, spaced, max_keys=250))
    assert not torch.equal(thinned, exact)
    assert (thinned - exact).abs().max() < 0.1  # an estimate of the same softmax average


def test_attention_keys_follow_the_training_batch(graph: torch.Tensor) -> None:
    """Inference over more cells than a batch attends to as many keys as training saw."""
    from scdefer.module._network import global_attention
    from scdefer.train import TrainParams, build_network

    params = TrainParams(batch_size=8, attention="global").resolved()
    net = build_network(10, graph.shape[0], 2, params).eval()
    assert net.attention_keys == 8
    assert build_network(10, 30, 2, TrainParams(batch_size=0).resolved()).attention_keys > 30
    with torch.no_grad():
        net.beta.fill_(0.7)
        out = net.encode(torch.rand(graph.shape[0], 10), graph)
        a, b = net.weight_a, net.weight_b
        z_local = torch.sparse.mm(graph, a * out.z_dense + b * out.z_graph)
        spaced = z_local[torch.linspace(0, graph.shape[0] - 1, 8).long()]
        expected = 0.7 * global_attention(z_local, spaced) + z_local
    torch.testing.assert_close(out.z, expected)


def test_attention_none_leaves_the_local_latent(graph: torch.Tensor) -> None:
    """``attention="none"`` (the ablation) outputs the fused local latent, whatever beta is."""
    from scdefer.train import TrainParams, build_network

    net = build_network(10, graph.shape[0], 2, TrainParams(attention="none").resolved()).eval()
    assert net.attention == "none"
    with torch.no_grad():
        net.beta.fill_(0.7)
        out = net.encode(torch.rand(graph.shape[0], 10), graph)
        z_local = torch.sparse.mm(graph, net.weight_a * out.z_dense + net.weight_b * out.z_graph)
    torch.testing.assert_close(out.z, z_local)
    with pytest.raises(ValueError, match="attention must be"):
        ScDeferNetwork(10, attention="local")


def test_without_fused_propagation_the_latent_is_the_weighted_sum(graph: torch.Tensor) -> None:
    """``fused_propagation=False`` (a probe) drops the last Â from Eq. 5: Z = a Z_D + b Z_G."""
    from scdefer.train import TrainParams, build_network

    params = TrainParams(attention="none", fused_propagation=False).resolved()
    net = build_network(10, graph.shape[0], 2, params).eval()
    with torch.no_grad():
        out = net.encode(torch.rand(graph.shape[0], 10), graph)
    torch.testing.assert_close(out.z, net.weight_a * out.z_dense + net.weight_b * out.z_graph)


def test_the_graph_encoder_reads_its_own_input(graph: torch.Tensor) -> None:
    """``x_graph`` feeds the graph encoder's first layer only; by default it reads ``x``."""
    import scipy.sparse as sp

    from scdefer.residuals import PearsonResiduals, ResidualRows

    n = graph.shape[0]
    torch.manual_seed(0)
    network = ScDeferNetwork(40, hidden=(32, 16, 8), decoder_hidden=(16, 32), n_clusters=2).eval()
    x, other = torch.rand(n, 40), torch.rand(n, 40)
    with torch.no_grad():
        same = network.encode(x, graph)
        torch.testing.assert_close(network.encode(x, graph, x_graph=x).z, same.z)
        both = network.encode(x, graph, x_graph=other)
        assert not torch.allclose(both.z_graph, same.z_graph)
        counts = sp.csr_matrix(np.random.default_rng(0).poisson(2.0, (n, 40)).astype(np.float32))
        rows = ResidualRows(counts, PearsonResiduals.fit(counts))
        whole = network.encode(x, graph, x_graph=torch.from_numpy(rows[0:n])).z
        chunked = network.encode(x, graph, chunk=n // 3 + 1, x_graph=rows).z
    torch.testing.assert_close(chunked, whole, atol=1e-6, rtol=1e-5)


def test_without_layer_fusion_each_encoder_reads_its_own_layers(graph: torch.Tensor) -> None:
    torch.manual_seed(0)
    fused = ScDeferNetwork(20, hidden=(8, 6, 4), decoder_hidden=(6, 8), alpha=0.5).eval()
    separate = ScDeferNetwork(20, hidden=(8, 6, 4), decoder_hidden=(6, 8), alpha=0.5,
                              layer_fusion=False).eval()
    separate.load_state_dict(fused.state_dict())
    x = torch.rand(30, 20)
    before = {name: net.encode(x, graph).z_graph for name, net in
              (("fused", fused), ("separate", separate))}
    for net in (fused, separate):
        with torch.no_grad():
            net.dense_layers[0].linear.weight.mul_(3.0)
    # the dense encoder's first layer reaches the graph latent only through layer-wise fusion
    assert not torch.allclose(fused.encode(x, graph).z_graph, before["fused"])
    assert torch.allclose(separate.encode(x, graph).z_graph, before["separate"])


@pytest.mark.parametrize("kept", ["dense", "graph"])
def test_one_encoder_ablation(graph: torch.Tensor, kept: str) -> None:
    from scdefer.module import GraphPairs, LossWeights, encoder_latents, objective

    torch.manual_seed(0)
    net = ScDeferNetwork(20, hidden=(8, 6, 4), decoder_hidden=(6, 8), encoders=kept,
                         n_clusters=3).eval()
    dropped = "graph" if kept == "dense" else "dense"
    assert getattr(net, f"{dropped}_layers") is None and getattr(net, f"{dropped}_out") is None
    out = net(torch.rand(30, 20), graph)
    assert set(encoder_latents(out)) == {kept}
    # Z_L is the graph propagation of the one encoder's latent, no fusion weights
    torch.testing.assert_close(out.z, torch.sparse.mm(graph, encoder_latents(out)[kept]))
    edges = graph.to_sparse_coo().coalesce().indices()
    terms = objective(out, net.centers, torch.ones(30, 20), torch.ones(30, 1),
                      GraphPairs(edges, edges.flip(0), torch.ones(edges.shape[1])),
                      LossWeights(graph=0.1, zinb=0.1, kl=0.5, bce=0.1), clustering=True)
    assert torch.isfinite(terms["loss"]) and terms["bce"] > 0
    with pytest.raises(ValueError, match="encoders"):
        ScDeferNetwork(20, encoders="neither")


def test_without_the_zinb_decoder_only_the_decoder_is_missing(graph: torch.Tensor) -> None:
    """No decoder at ZINB weight 0: no ZINB outputs, parameters or loss term, and everything
    else (the encoders' initial weights, the random stream after them) as with the decoder."""
    from scdefer.module import GraphPairs, LossWeights, objective

    nets, next_draws = {}, {}
    for kept in (True, False):
        torch.manual_seed(0)
        nets[kept] = ScDeferNetwork(20, hidden=(8, 6, 4), decoder_hidden=(6, 8), n_clusters=3,
                                    zinb_decoder=kept)
        next_draws[kept] = torch.rand(3)  # the random stream after building the network
    with_decoder, without = nets[True].state_dict(), nets[False].state_dict()
    decoder_keys = {k for k in with_decoder
                    if k.split(".")[0] in ("decoder", "mean_head", "dispersion_head", "pi_head")}
    assert decoder_keys and set(without) == set(with_decoder) - decoder_keys
    for key, value in without.items():
        torch.testing.assert_close(value, with_decoder[key], rtol=0, atol=0)
    torch.testing.assert_close(next_draws[False], next_draws[True], rtol=0, atol=0)
    out = nets[False].eval()(torch.rand(30, 20), graph)
    assert out.mean is None and out.dispersion is None and out.pi_logits is None
    edges = graph.to_sparse_coo().coalesce().indices()
    terms = objective(out, nets[False].centers, None, None,
                      GraphPairs(edges, edges.flip(0), torch.ones(edges.shape[1])),
                      LossWeights(graph=0.1, zinb=0.0, kl=0.5, bce=0.1), clustering=True)
    assert "zinb" not in terms and torch.isfinite(terms["loss"])
    torch.testing.assert_close(
        terms["loss"], 0.1 * terms["graph"] + 0.5 * terms["kl"] + 0.1 * terms["bce"])
