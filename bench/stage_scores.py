"""Diagnostic: how well each training stage clusters (labels are read only to score).

Prints, for one dataset and one set of training options: K-means (true K) on the PCA, K-means on
the three latents (Z, Z_D, Z_G) after pre-training, the DEC labels every 10 clustering epochs, and
the final labels. This is how the fast schedule's pre-training length and graph-loss weight were
chosen (its table was never committed; see the README, "where we differ").

    python bench/stage_scores.py Young_top2000 '{"pretrain_epochs": 40, "weight_graph": 0.1}'

Environment: T = torch threads (default 2), DATA = folder of the datasets (default ../shared/data).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import anndata as ad
import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from scdefer._runtime import deterministic_algorithms, seed_everything
from scdefer.params import PreprocessParams
from scdefer.preprocessing import preprocess
from scdefer.train import CellData, Trainer, TrainParams, assign, build_network, embed
from scdefer.train._batching import ClusterBatcher


def main() -> None:
    name = sys.argv[1]
    options = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    torch.set_num_threads(int(os.environ.get("T", "2")))
    data_dir = Path(os.environ.get("DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    raw = ad.read_h5ad(data_dir / f"{name}.h5ad")
    prepared = preprocess(raw, PreprocessParams())
    truth = raw[prepared.obs_names].obs["cell_type"].astype(str).to_numpy()
    k = len(set(truth))

    def score(labels: np.ndarray) -> str:
        return (f"ARI {adjusted_rand_score(truth, labels):.3f} "
                f"NMI {normalized_mutual_info_score(truth, labels):.3f}")

    def kmeans(z: np.ndarray) -> np.ndarray:
        return KMeans(k, n_init=20, random_state=0).fit_predict(z)

    params = TrainParams(n_clusters=k, **options).resolved()
    seed_everything(params.seed)
    data = CellData.from_anndata(prepared, params)
    device = torch.device("cpu")
    trainer = Trainer(data, params, device, progress=False)
    print(name, options, "pca-kmeans", score(kmeans(data.coords)), flush=True)

    start = time.time()
    network = build_network(data.n_genes, data.n_cells, 1, params).to(device)
    batcher = ClusterBatcher(data.adjacency, data.coords, params.batch_size or data.n_cells,
                             params.seed, device)
    pre_epochs = trainer._pretrain(network, batcher)
    emb = embed(network, data, device)
    for label, z in (("z", emb.z), ("zd", emb.z_dense), ("zg", emb.z_graph)):
        print(f"pretrain {pre_epochs} ep {time.time() - start:.0f}s km-{label}",
              score(kmeans(z.numpy())), flush=True)
    centers = KMeans(k, n_init=20, random_state=params.seed).fit(emb.z.numpy()).cluster_centers_
    network.init_centers(torch.from_numpy(centers))

    run_epoch, count = trainer._run_epoch, {"epochs": 0}

    def scored_epoch(*args, **kwargs):
        out = run_epoch(*args, **kwargs)
        if kwargs.get("clustering"):
            count["epochs"] += 1
            if count["epochs"] % 10 == 0:
                q = assign(network, embed(network, data, device).z).numpy()
                print(f"  cluster ep {count['epochs']} dec", score(q.argmax(1)),
                      "used", len(set(q.argmax(1))), flush=True)
        return out

    trainer._run_epoch = scored_epoch
    epochs = trainer._cluster(network, batcher)
    emb = embed(network, data, device)
    q = assign(network, emb.z).numpy()
    print(f"final {epochs} ep {time.time() - start:.0f}s dec", score(q.argmax(1)),
          "km-z", score(kmeans(emb.z.numpy())), flush=True)


if __name__ == "__main__":
    with deterministic_algorithms():  # as ScDefer.fit trains: the same run twice, the same scores
        main()
