#!/usr/bin/env python
"""Score ways of combining the ``ensemble``'s candidate partitions into the final labels.

Offline, on the runs saved by ``bench/diagnose.py``: for each run the 12 candidate partitions of
``--final-assignment ensemble`` (``scdefer.assignment.ensemble_partitions``) are made once, then
combined by each rule below. Labels are read only to score.

- ``medoid``: the candidate with the largest summed NMI to the others (what ``ensemble`` does);
- ``bipartite``: spectral cut of the cells x clusters graph of all candidates (``consensus_labels``);
- ``coassoc_pca``: spectral clustering of the PCA 10-NN graph, each edge weighted by the fraction
  of candidates that put its two cells together (a sparse co-association matrix);
- ``coassoc_union``: the same on the union of the 10-NN graphs of the PCA, the pre-trained and
  the final embedding.

    python bench/consensus_rules.py --tags default > bench/results/consensus_rules.tsv
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from diagnose import saved_views
from pools import score_saved_runs

from scdefer._runtime import set_threads
from scdefer.assignment import _spectral, consensus_labels, ensemble_partitions, most_central
from scdefer.graph import knn_graph


def coassociation(graph: sp.spmatrix, partitions: dict[str, np.ndarray]) -> sp.csr_matrix:
    """``graph``'s edges weighted by the fraction of ``partitions`` joining their two cells."""
    upper = sp.triu(graph, k=1).tocoo()
    together = sum((labels[upper.row] == labels[upper.col]).astype(float)
                   for labels in partitions.values()) / len(partitions)
    weights = sp.coo_matrix((together, (upper.row, upper.col)), shape=graph.shape).tocsr()
    weights.eliminate_zeros()
    return (weights + weights.T).tocsr()


def rules(saved: np.lib.npyio.NpzFile, k: int, seed: int) -> dict[str, np.ndarray]:
    """The final labels of every rule for one saved run."""
    views = saved_views(saved)
    parts = ensemble_partitions(views, saved["proba"].argmax(axis=1), k, seed)
    graphs = {name: knn_graph(view, 10)[0] for name, view in views.items()}
    union = (sum(graphs.values()) > 0).astype(float)
    return {
        "medoid": parts[most_central(parts)],
        "bipartite": consensus_labels(list(parts.values()), k, seed),
        "coassoc_pca": _spectral(coassociation(graphs["pca"], parts), k, seed),
        "coassoc_union": _spectral(coassociation(union, parts), k, seed),
    }


def score_file(path: Path) -> list[dict]:
    """One row per rule for one saved run: the rule's ARI and NMI."""
    saved = np.load(path)
    meta = json.loads(str(saved["meta"]))
    return [{"dataset": meta["dataset"], "tag": meta["tag"], "seed": meta["seed"], "rule": rule,
             "ari": round(adjusted_rand_score(saved["truth"], labels), 4),
             "nmi": round(normalized_mutual_info_score(saved["truth"], labels), 4)}
            for rule, labels in rules(saved, meta["n_clusters"], meta["seed"]).items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", nargs="+", default=["default"])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    set_threads(args.threads)
    score_saved_runs(args.tags, score_file)


if __name__ == "__main__":
    main()
