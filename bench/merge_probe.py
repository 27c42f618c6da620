#!/usr/bin/env python
"""Probe: over-cluster into 2K, then merge the most connected clusters back down to K.

K-means, spectral clustering and the DEC head tend to split a large type in two and leave a
small one inside a neighbour (``pick_rules.tsv``: the ensemble's candidates miss the 36- and
39-cell types of PBMC 10k that spectral clustering of the PCA keeps). Over-clustering gives the
small types room; merging by the KNN graph joins the halves of a large type first, since they
share many edges. Merging rule: the pair with the largest share of the smaller cluster's edges
going to the other, until K remain. Scored offline on runs saved by ``diagnose.py``, as
candidates alone and inside the ensemble (medoid, then the package's vote).

    python bench/merge_probe.py --tags rules > bench/work/merge_probe.tsv
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from diagnose import saved_views
from pick_rules import package_output
from pools import candidates, pool_members, score_row, score_saved_runs

from scdefer._runtime import set_threads
from scdefer.assignment import kmeans_labels, most_central, spectral_labels
from scdefer.graph import knn_graph


def merge_to(labels: np.ndarray, graph: sp.spmatrix, k: int) -> np.ndarray:
    """Merge clusters of ``labels`` along ``graph`` until ``k`` remain (see the module doc)."""
    labels = np.unique(labels, return_inverse=True)[1]
    n = labels.max() + 1
    onehot = sp.csr_matrix((np.ones(labels.size), (np.arange(labels.size), labels)),
                           shape=(labels.size, n))
    links = (onehot.T @ graph @ onehot).toarray()
    volume = links.sum(axis=1)  # edge ends of each cluster (inside ones counted twice)
    alive = list(range(n))
    parent = np.arange(n)
    while len(alive) > k:
        sub = links[np.ix_(alive, alive)].copy()
        np.fill_diagonal(sub, 0.0)
        vol = volume[alive]
        share = sub / np.maximum(np.minimum.outer(vol, vol), 1e-12)
        i, j = np.unravel_index(np.argmax(share), share.shape)
        a, b = alive[i], alive[j]
        links[a] += links[b]
        links[:, a] += links[:, b]
        volume[a] += volume[b]
        parent[parent == b] = a
        alive.remove(b)
    return np.unique(parent[labels], return_inverse=True)[1]


def score_file(path: Path) -> list[dict]:
    saved = np.load(path)
    meta = json.loads(str(saved["meta"]))
    truth, k, seed = saved["truth"], meta["n_clusters"], meta["seed"]
    views = saved_views(saved)
    dec = saved["proba"].argmax(axis=1)
    parts = pool_members(candidates(path, views, k, seed, dec), "cur")
    graphs = {view: knn_graph(z, 10)[0] for view, z in views.items() if view != "pretrain"}
    merged = {}
    for view, graph in graphs.items():
        over = {"spectral": spectral_labels(views[view], 2 * k, seed),
                "kmeans": kmeans_labels(views[view], 2 * k, seed)}
        for name, labels in over.items():
            merged[f"merge-{name}:{view}"] = merge_to(labels, graph, k)
    rows = [score_row(meta, f"candidate:{name}", truth, labels, name)
            for name, labels in merged.items()]
    z = saved["cluster_z"]
    pools = {"cur": parts, "cur+merge": {**parts, **merged},
             "cur+merge-z": {**parts, **{n: m for n, m in merged.items() if n.endswith(":z")}}}
    for pool, members in pools.items():
        picked = most_central(members)
        out = package_output(picked, members, dec, z)
        rows.append(score_row(meta, f"{pool}/medoid", truth, out, picked))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", nargs="+", default=["default"])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    set_threads(args.threads)
    score_saved_runs(args.tags, score_file)


if __name__ == "__main__":
    main()
