"""Final cluster labels from a learnt embedding: the DEC head, or a clustering of the embedding.

Every method takes the number of clusters K and never reads labels. The graph methods work on a
sparse KNN graph of the embedding, so none of them builds a cells x cells matrix.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable, Iterator, Sequence

import igraph as ig
import numpy as np
import scipy.sparse as sp
from sklearn.cluster import KMeans, SpectralClustering
from sklearn.metrics import normalized_mutual_info_score

from .graph import knn_graph


def kmeans_labels(z: np.ndarray, k: int, seed: int) -> np.ndarray:
    """K-means with 10 initialisations."""
    return KMeans(k, n_init=10, random_state=seed).fit_predict(z)


def spectral_labels(z: np.ndarray, k: int, seed: int, n_neighbors: int = 10) -> np.ndarray:
    """Spectral clustering of the symmetric ``n_neighbors``-NN graph of ``z``."""
    return _spectral(knn_graph(z, n_neighbors)[0], k, seed)


# Up to this many cells the spectral embedding uses scikit-learn's default, shift-invert ARPACK,
# whose sparse factorisation grows much faster than the cells (30,000 cells: 21 s and 2.6 GB; at
# 100,000 it held the run for over 20 minutes and 9 GB). Above it, LOBPCG: 1.2 s at 100,000 cells,
# and on the PCA graphs of all eight shared datasets its clusters agree with ARPACK's to ARI >=
# 0.997 (bench/results/scale.md).
ARPACK_MAX_CELLS = 10_000


def _spectral(graph: sp.spmatrix, k: int, seed: int) -> np.ndarray:
    """Spectral clustering of a sparse affinity graph into ``k`` clusters."""
    solver = "arpack" if graph.shape[0] <= ARPACK_MAX_CELLS else "lobpcg"
    model = SpectralClustering(k, affinity="precomputed", random_state=seed, assign_labels="kmeans",
                               eigen_solver=solver)
    with warnings.catch_warnings():  # well separated types make a disconnected KNN graph: fine
        warnings.filterwarnings("ignore", message="Graph is not fully connected")
        return model.fit_predict(graph)


def knn_igraph(z: np.ndarray, n_neighbors: int) -> ig.Graph:
    """The symmetric ``n_neighbors``-NN graph of ``z`` as an igraph graph."""
    upper = sp.triu(knn_graph(z, n_neighbors)[0], k=1).tocoo()
    return ig.Graph(n=z.shape[0], edges=np.column_stack([upper.row, upper.col]).tolist())


def leiden_partition(graph: ig.Graph, resolution: float, seed: int) -> np.ndarray:
    """Leiden (modularity) communities of ``graph`` at ``resolution``, seeded."""
    random.seed(seed)  # igraph draws from Python's random module
    ig.set_random_number_generator(random)
    partition = graph.community_leiden(objective_function="modularity", resolution=resolution,
                                       n_iterations=-1)
    return np.asarray(partition.membership)


def leiden_labels(z: np.ndarray, k: int, seed: int, n_neighbors: int = 15,
                  max_steps: int = 30) -> np.ndarray:
    """Leiden on the ``n_neighbors``-NN graph of ``z`` at the resolution (bisected) giving ``k``."""
    graph = knn_igraph(z, n_neighbors)
    low, high, best = 0.01, 5.0, None
    for _ in range(max_steps):
        middle = (low + high) / 2
        labels = leiden_partition(graph, middle, seed)
        found = labels.max() + 1
        if best is None or abs(found - k) < abs(best.max() + 1 - k):
            best = labels
        if found == k:
            break
        low, high = (middle, high) if found < k else (low, middle)
    return best


def consensus_labels(partitions: Sequence[np.ndarray], k: int, seed: int) -> np.ndarray:
    """One partition agreeing with several: spectral cut of their cells x clusters bipartite graph.

    The co-association of two cells (how many partitions put them together) is ``H Hᵀ`` for the
    one-hot matrix ``H`` of all partitions; its leading eigenvectors are the left singular vectors
    of the degree-normalised ``H``, so no cells x cells matrix is formed (Fern & Brodley 2004).
    """
    from scipy.sparse.linalg import svds

    blocks = []
    for labels in partitions:
        _, codes = np.unique(labels, return_inverse=True)
        n = len(codes)
        blocks.append(sp.csr_matrix((np.ones(n), (np.arange(n), codes))))
    h = sp.hstack(blocks).tocsr()
    column_degree = np.asarray(h.sum(axis=0)).ravel()
    h = h @ sp.diags(1.0 / np.sqrt(column_degree))
    rank = min(k, min(h.shape) - 1)
    rng = np.random.default_rng(seed)
    u, _, _ = svds(h, k=rank, v0=rng.standard_normal(min(h.shape)))
    u /= np.maximum(np.linalg.norm(u, axis=1, keepdims=True), 1e-12)
    return KMeans(k, n_init=10, random_state=seed).fit_predict(u)


def joint_spectral_labels(views: Sequence[np.ndarray], k: int, seed: int,
                          n_neighbors: int = 10) -> np.ndarray:
    """Spectral clustering of the sum of the ``n_neighbors``-NN graphs of several views."""
    return _spectral(sum(knn_graph(view, n_neighbors)[0] for view in views), k, seed)


READOUTS = {"kmeans": kmeans_labels, "spectral": spectral_labels, "leiden": leiden_labels}


def ensemble_partitions(views: dict[str, np.ndarray], dec_labels: np.ndarray | None, k: int,
                        seed: int, known: dict[str, np.ndarray] | None = None
                        ) -> dict[str, np.ndarray]:
    """The candidate partitions of ``ensemble``: the head (if given), every readout of every view.

    ``views`` maps a name to a cells x d representation; the first one (the PCA) is also
    combined with each of the others in a joint KNN graph. Candidates in ``known`` (made
    earlier with the same ``k`` and ``seed``) are taken from it, not computed again.
    """
    known = known or {}
    partitions = {} if dec_labels is None else {"dec": np.asarray(dec_labels)}
    for view, z in views.items():
        for name, readout in READOUTS.items():
            key = f"{name}:{view}"
            partitions[key] = known[key] if key in known else readout(z, k, seed)
    first, *others = views
    for view in others:
        key = f"spectral:{first}+{view}"
        partitions[key] = known[key] if key in known else joint_spectral_labels(
            [views[first], views[view]], k, seed)
    return partitions


def agreement_matrix(partitions: dict[str, np.ndarray],
                     score: Callable[[np.ndarray, np.ndarray], float] | None = None) -> np.ndarray:
    """Pairwise agreement (``score``, default NMI) of the partitions, in their order; diagonal 0."""
    score = score or normalized_mutual_info_score
    labels = list(partitions.values())
    out = np.zeros((len(labels), len(labels)))
    for i, j in zip(*np.triu_indices(len(labels), k=1), strict=True):
        out[i, j] = out[j, i] = score(labels[i], labels[j])
    return out


def most_central(partitions: dict[str, np.ndarray]) -> str:
    """The partition with the largest summed NMI to all the others (the ensemble's medoid)."""
    return list(partitions)[int(np.argmax(agreement_matrix(partitions).sum(axis=1)))]


def with_k_clusters(partitions: dict[str, np.ndarray], k: int) -> dict[str, np.ndarray]:
    """The ``partitions`` that have exactly ``k`` clusters (a readout may find fewer)."""
    return {name: labels for name, labels in partitions.items() if len(np.unique(labels)) == k}


def pretrain_medoid(partitions: dict[str, np.ndarray], k: int) -> np.ndarray:
    """The medoid of the ``partitions`` that have exactly ``k`` clusters, as 0..k-1.

    Used to start the head's centres (``center_init`` ``ensemble``) from the partition the
    readouts of the PCA and the pre-trained embedding agree on most, before DEC refines it.
    """
    candidates = with_k_clusters(partitions, k)
    return np.unique(candidates[most_central(candidates)], return_inverse=True)[1]


KMEANS_STARTS = 20  # K-means starts for the head's centres (both center_init 'kmeans' and 'agreement')


def kmeans_starts(z: np.ndarray, k: int, seed: int, n_starts: int = KMEANS_STARTS
                  ) -> Iterator[KMeans]:
    """``n_starts`` single-start K-means fits (k-means++) of ``z``, their seeds drawn from ``seed``."""
    for start_seed in np.random.default_rng(seed).integers(0, 2**31 - 1, n_starts):
        yield KMeans(n_clusters=k, n_init=1, random_state=int(start_seed)).fit(z)


def mean_agreement(labels: np.ndarray, partitions: Sequence[np.ndarray]) -> float:
    """Mean NMI of ``labels`` to each of ``partitions``."""
    return float(np.mean([normalized_mutual_info_score(labels, other) for other in partitions]))


def agreeing_kmeans(z: np.ndarray, k: int, seed: int, partitions: dict[str, np.ndarray],
                    n_starts: int = KMEANS_STARTS) -> np.ndarray:
    """K-means centres of ``z``: of ``n_starts`` single K-means starts, the one whose labels agree
    most (mean NMI) with the ``partitions`` that have ``k`` clusters, not the lowest inertia.

    Used to start the head's centres (``center_init`` ``agreement``): a K-means solution, which
    DEC sharpens, chosen by what the other readouts of the same data say rather than by the
    K-means objective, which on data with a few large types prefers splitting one of them.
    """
    others = list(with_k_clusters(partitions, k).values())
    best, best_agreement = None, -np.inf
    for fit in kmeans_starts(z, k, seed, n_starts):
        agreement = mean_agreement(fit.labels_, others)
        if agreement > best_agreement:
            best, best_agreement = fit, agreement
    return best.cluster_centers_


def final_labels(method: str, z: np.ndarray, dec_labels: np.ndarray, k: int, seed: int,
                 views: dict[str, np.ndarray] | None = None,
                 known: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, str]:
    """Labels of every cell by ``method`` (see ``TrainParams.final_assignment``), as 0..K'-1.

    ``views`` (named representations besides ``z``, e.g. the PCA) are used by ``ensemble``,
    which takes the candidates in ``known`` as they are (see :func:`ensemble_partitions`).
    Also returns the name of the partition the labels come from.
    """
    source = method
    if method == "dec":
        labels = dec_labels
    elif method in READOUTS:
        labels = READOUTS[method](z, k, seed)
    elif method == "consensus":
        members = [readout(z, k, seed) for readout in READOUTS.values()] + [dec_labels]
        labels = consensus_labels(members, k, seed)
    elif method == "ensemble":
        partitions = ensemble_partitions({**(views or {}), "z": z}, dec_labels, k, seed, known)
        source = most_central(partitions)
        labels = partitions[source]
    else:
        raise ValueError(f"unknown final assignment {method!r}")
    return np.unique(np.asarray(labels), return_inverse=True)[1], source


#: Cells that vote on a cell's label: its own entry (a training cell is its own nearest) and this
#: many nearest others. 15, scanpy's default neighbourhood, smooths single stray cells without
#: blurring small clusters.
VOTE_NEIGHBORS = 15
#: Query cells per nearest-neighbour search in :func:`neighbour_votes` (bounds its memory).
VOTE_CHUNK = 65_536


def neighbour_votes(reference: np.ndarray, partition: np.ndarray, n_clusters: int,
                    query: np.ndarray | None = None,
                    n_neighbors: int = VOTE_NEIGHBORS) -> np.ndarray:
    """Soft labels from the ``n_neighbors + 1`` nearest reference cells (cells x ``n_clusters``).

    Each row is the fraction of the cell's nearest reference cells (Euclidean, in ``reference``'s
    space) in each cluster of ``partition``; nearer cells break ties. Without ``query`` the
    reference cells themselves are labelled, each counting as its own nearest; a query cell equal
    to a reference cell finds it at distance 0, so it gets the same votes. Linear in the cells
    (a tree search in the low-dimensional embedding), never cells x cells.
    """
    from sklearn.neighbors import NearestNeighbors

    k = min(n_neighbors, reference.shape[0] - 1)
    search = NearestNeighbors(n_neighbors=k + 1).fit(reference)
    if query is None:
        others = search.kneighbors(None, n_neighbors=k, return_distance=False)
        nearest = np.column_stack([np.arange(reference.shape[0]), others])
    else:
        nearest = np.vstack([search.kneighbors(part, n_neighbors=k + 1, return_distance=False)
                             for part in np.array_split(query, max(1, -(-len(query) // VOTE_CHUNK)))])
    weight = 1.0 - 1e-6 * np.arange(k + 1)  # plain counts; the nearer neighbour breaks a tie
    votes = np.zeros((nearest.shape[0], n_clusters))
    rows = np.repeat(np.arange(nearest.shape[0]), k + 1)
    np.add.at(votes, (rows, partition[nearest].ravel()), np.tile(weight, nearest.shape[0]))
    return votes / votes.sum(axis=1, keepdims=True)


def cluster_means(z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The mean of ``z`` over each label 0..K'-1 (the centres that reproduce the labels)."""
    counts = np.bincount(labels)
    sums = np.zeros((counts.size, z.shape[1]))
    np.add.at(sums, labels, z)
    return (sums / counts[:, None]).astype(np.float32)
