#!/usr/bin/env python
"""Score rules that pick the ensemble's partition, offline, on runs saved by ``diagnose.py``.

The ensemble's candidates are mostly read out of the learnt embedding (the head, three readouts of
Z, one joint graph), so the plain medoid (largest summed NMI to all others) tends to side with
the learnt view even on a seed where the network is worse than the PCA it started from. The
*balanced* rules give every view the same say: a candidate's score is the sum, over the views,
of its mean NMI to that view's candidates (itself left out). The view of a candidate is the one it
is read from (the head's is ``z``); a joint graph ``pca+V`` counts as ``V`` (``balanced``) or as a
view of its own (``balanced-joint``). Two rules judge each candidate by its modularity on the
joint 10-NN graph of the PCA and Z, a graph neither family owns: the most modular candidate
(``modularity``) or the medoid of the more modular half (``medoid-modular-half``).

Labels as the package outputs them: the picked partition's nearest-cell vote in Z, or the head's
own labels when the head is picked. Run ``diagnose.py`` with ``"final_assignment": "dec"`` first;
rows have ``pools.py``'s columns (readout ``POOL/RULE``, rep ``cluster_z``) for ``lodo.py``,
and the own labels of every candidate in the pools are scored too (readout ``candidate:NAME``,
a diagnostic).

    python bench/pick_rules.py --tags rules > bench/results/pick_rules.tsv
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from diagnose import DEFAULT_DATA, saved_views
from pools import POOLS, candidates, input_views, pool_members, score_row, score_saved_runs

from scdefer._runtime import set_threads
from scdefer.assignment import VOTE_NEIGHBORS, agreement_matrix, most_central, neighbour_votes
from scdefer.graph import knn_graph


def view_of(name: str, joint_apart: bool) -> str:
    """The view a candidate is read from (``dec`` is the head on ``z``)."""
    if name == "dec":
        return "z"
    view = name.split(":", 1)[1]
    return view if joint_apart or "+" not in view else view.split("+", 1)[1]


def group_balanced(members: dict[str, np.ndarray], groups: list[str]) -> str:
    """The candidate with the largest sum over groups of its mean NMI to that group's others
    (``groups``: each candidate's group, in ``members``' order)."""
    agreement = agreement_matrix(members)
    groups = np.array(groups)
    scores = np.zeros(len(members))
    for group in np.unique(groups):
        inside = groups == group
        counts = inside.sum() - inside  # a candidate is not compared with itself
        sums = agreement[:, inside].sum(axis=1)
        scores += np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
    return list(members)[int(np.argmax(scores))]


def balanced_central(members: dict[str, np.ndarray], joint_apart: bool = False) -> str:
    """The candidate with the largest sum over views of its mean NMI to that view's others."""
    return group_balanced(members, [view_of(name, joint_apart) for name in members])


def without_pretrain(members: dict[str, np.ndarray]) -> str:
    """The medoid of the candidates not read from the pre-trained embedding."""
    return most_central({name: labels for name, labels in members.items()
                         if "pretrain" not in name})


def modularity(graph: sp.spmatrix, labels: np.ndarray) -> float:
    """Newman's modularity of a partition of ``graph``'s nodes."""
    labels = np.unique(labels, return_inverse=True)[1]
    degree = np.asarray(graph.sum(axis=1)).ravel()
    total = degree.sum()
    onehot = sp.csr_matrix((np.ones(labels.size), (np.arange(labels.size), labels)))
    inside = (onehot.T @ graph @ onehot).diagonal().sum()
    return float(inside / total - (((onehot.T @ degree) / total) ** 2).sum())


def most_modular(members: dict[str, np.ndarray], graph: sp.spmatrix) -> str:
    """The candidate with the largest modularity on ``graph``."""
    return max(members, key=lambda name: modularity(graph, members[name]))


def central_of_modular_half(members: dict[str, np.ndarray], graph: sp.spmatrix) -> str:
    """The medoid of the more modular half of the candidates."""
    ranked = sorted(members, key=lambda name: modularity(graph, members[name]))
    return most_central({name: members[name] for name in ranked[len(ranked) // 2:]})


# rule name: (rule, whether it also takes the joint 10-NN graph of the PCA and Z)
RULES: dict[str, tuple[Callable[..., str], bool]] = {
    "medoid": (most_central, False),
    "medoid-no-pretrain": (without_pretrain, False),
    "balanced": (balanced_central, False),
    "balanced-joint": (lambda members: balanced_central(members, joint_apart=True), False),
    "modularity": (most_modular, True),
    "medoid-modular-half": (central_of_modular_half, True),
}


def votes(z: np.ndarray, partition: np.ndarray, n_neighbors: int = VOTE_NEIGHBORS,
          rounds: int = 1) -> np.ndarray:
    """Labels by ``rounds`` rounds of the nearest-cell vote in ``z`` (the package: one of 15)."""
    labels = np.unique(partition, return_inverse=True)[1]
    for _ in range(rounds):
        labels = neighbour_votes(z, labels, labels.max() + 1, n_neighbors=n_neighbors).argmax(axis=1)
        labels = np.unique(labels, return_inverse=True)[1]
    return labels


# how the picked partition becomes the labels; "" is the package's rule
RELABEL: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "": votes,
    "+votes30": lambda z, partition: votes(z, partition, n_neighbors=30),
    "+votes2x": lambda z, partition: votes(z, partition, rounds=2),
}


def package_output(picked: str, members: dict[str, np.ndarray], dec: np.ndarray, z: np.ndarray,
                   relabel: Callable[[np.ndarray, np.ndarray], np.ndarray] = votes) -> np.ndarray:
    """The labels as the package outputs them: the head's own when the head is picked, else the
    picked partition relabelled by the vote in ``z``."""
    return dec if picked == "dec" else relabel(z, members[picked])


def score_file(path: Path, data: Path, pools: list[str]) -> list[dict]:
    saved = np.load(path)
    meta = json.loads(str(saved["meta"]))
    truth, k, seed = saved["truth"], meta["n_clusters"], meta["seed"]
    views = saved_views(saved)
    if any(pool != "cur" for pool in pools):  # the PCA of scaled genes and Pearson residuals
        views.update(input_views(meta["dataset"], data))
    dec = saved["proba"].argmax(axis=1)
    parts = candidates(path, views, k, seed, dec)
    z = saved["cluster_z"]
    joint = knn_graph(views["pca"], 10)[0] + knn_graph(z, 10)[0]
    scored = {name: labels for pool in pools for name, labels in pool_members(parts, pool).items()}
    rows = [score_row(meta, f"candidate:{name}", truth, labels, name)
            for name, labels in scored.items()]
    for pool in pools:
        members = pool_members(parts, pool)
        for rule, (pick, needs_graph) in RULES.items():
            picked = pick(members, joint) if needs_graph else pick(members)
            for how, relabel in RELABEL.items():
                out = package_output(picked, members, dec, z, relabel)
                rows.append(score_row(meta, f"{pool}/{rule}{how}", truth, out, picked))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", nargs="+", default=["default"])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pools", nargs="+", default=["cur"], choices=POOLS,
                        help="candidate pools (pools.py's; 'cur' is the package's)")
    args = parser.parse_args()
    set_threads(args.threads)
    score_saved_runs(args.tags, lambda path: score_file(path, args.data, args.pools))


if __name__ == "__main__":
    main()
