"""The training cells as a fixed reference: how a saved model places new cells among them.

A new cell is normalised to the training library-size target, projected on the training PCA, and
attached to its nearest training cells in that PCA. The encoder then runs on the training graph
with the new cells hanging off it (they receive messages from training cells, never send any), and
its global attention looks only at training cells. Nothing about a new cell therefore depends on
the other new cells submitted with it: not its features, not its neighbours, not its embedding.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import anndata as ad
import numpy as np
import scipy.sparse as sp
import torch
from sklearn.neighbors import NearestNeighbors

from ._errors import ScDeferInputError
from .graph import normalized_adjacency
from .inputs import EncoderInputs, needs_counts
from .keys import CONNECTIVITIES, COUNTS, KEY, PCA_LOADINGS, PREPROCESS_RECORD, TARGET_SUM
from .params import EncoderInput
from .preprocessing import check_matrix, is_preprocessed, log_normalise, take_genes, take_matrix
from .residuals import PearsonResiduals, ResidualRows

logger = logging.getLogger("scdefer")

#: A query must share at least this fraction of the model's genes (the rest are filled with 0).
MIN_GENE_OVERLAP = 0.5
#: PCA distance under which a new cell is the training cell itself (float error of the projection).
SAME_CELL_DISTANCE = 1e-3
#: New cells embedded per pass (with every training cell): bounds the memory of ``predict``.
QUERY_CHUNK = 4096


@dataclass
class QueryCells:
    """New cells in the model's feature space."""

    features: sp.csr_matrix  # log-normalised expression of the model's genes, in its order
    coords: np.ndarray  # projection on the training PCA
    no_counts: np.ndarray  # True where a cell has no counts among the model's genes
    n_missing_genes: int
    counts: sp.csr_matrix | None = None  # counts of the model's genes (when its inputs need them)

    @property
    def n_cells(self) -> int:
        """Number of new cells."""
        return self.features.shape[0]


@dataclass
class Reference:
    """What fixes a trained model's feature space and graph (saved with the model).

    ``target_sum`` is the library size every cell is scaled to before ``log1p`` (None for
    log-normalised input); ``pca_mean`` and ``pca_loadings`` (genes x PCs) reproduce the
    training PCA; ``features``, ``coords`` and ``adjacency`` are the training cells' log-normalised
    genes, PCA coordinates and 0/1 KNN graph. ``latent`` and ``partition`` (set after training
    when the labels are not the clustering head's) are the training cells' learnt embedding and
    the partition whose clusters new cells get by a vote of their nearest training cells.
    ``encoder_input`` is the model's ``--encoder-input``; when it reads Pearson residuals,
    ``residual_rows`` holds the training cells' counts of the model's genes and the residual model
    (gene shares, clip) fitted on them, which fixes every new cell's residuals.
    """

    genes: list[str]
    input_kind: str
    target_sum: float | None
    n_neighbors: int
    pca_mean: np.ndarray
    pca_loadings: np.ndarray
    features: sp.csr_matrix
    coords: np.ndarray
    adjacency: sp.csr_matrix
    latent: np.ndarray | None = None
    partition: np.ndarray | None = None
    encoder_input: EncoderInput = "lognorm"
    residual_rows: ResidualRows | None = None

    @property
    def n_cells(self) -> int:
        """Number of training cells."""
        return self.features.shape[0]

    @classmethod
    def from_prepared(cls, adata: ad.AnnData, encoder_input: EncoderInput = "lognorm",
                      residual_rows: ResidualRows | None = None) -> Reference:
        """The reference of a dataset written by :func:`scdefer.preprocess`.

        ``residual_rows`` are the residuals the model was trained on: the training cells' counts
        of its genes and the residual model fitted on them (needed unless ``encoder_input`` is
        ``lognorm``).
        """
        if needs_counts(encoder_input) and residual_rows is None:
            raise ValueError(f"encoder_input {encoder_input!r} needs the training residuals")
        record = dict(adata.uns.get(KEY, {}).get(PREPROCESS_RECORD, {}))
        if PCA_LOADINGS not in adata.varm:
            raise ScDeferInputError(
                f"input has no varm['{PCA_LOADINGS}'] (PCA loadings): preprocess it again"
            )
        features = sp.csr_matrix(adata.X, dtype=np.float32)
        target = record.get(TARGET_SUM)
        if target is None and record.get("input_kind", "counts") != "lognorm":
            raise ScDeferInputError(
                "input lacks the library-size target of its normalisation (preprocessed by an "
                "older scdefer): preprocess it again"
            )
        mean = np.asarray(features.mean(axis=0), dtype=np.float32).ravel()
        loadings = np.asarray(adata.varm[PCA_LOADINGS], dtype=np.float32)
        return cls(
            genes=list(map(str, adata.var_names)),
            input_kind=str(record.get("input_kind", "counts")),
            target_sum=float(target) if target not in (None, "") else None,
            n_neighbors=int(record.get("n_neighbors", 10)),
            pca_mean=mean,
            pca_loadings=loadings,
            features=features,
            # The training cells projected by the code that projects new cells (equal to X_pca
            # up to float error), so that a training cell submitted again is at distance 0.
            coords=_project(features, mean, loadings),
            adjacency=sp.csr_matrix(adata.obsp[CONNECTIVITIES], dtype=np.float32),
            encoder_input=encoder_input,
            residual_rows=residual_rows,
        )

    def attached_inputs(self, cells: QueryCells, rows: slice) -> EncoderInputs:
        """The encoders' inputs of every training cell followed by the new cells ``rows``."""
        lognorm = sp.vstack([self.features, cells.features[rows]], format="csr")
        if self.residual_rows is None or cells.counts is None:
            return EncoderInputs.build(self.encoder_input, lognorm, None, None)
        counts = sp.vstack([self.residual_rows.counts, cells.counts[rows]], format="csr")
        return EncoderInputs.build(self.encoder_input, lognorm, counts, self.residual_rows.model)

    def project(self, features: sp.csr_matrix) -> np.ndarray:
        """Coordinates of log-normalised cells on the training PCA (row by row)."""
        return _project(features, self.pca_mean, self.pca_loadings)

    # -- persistence (plain tensors, so that torch.load(weights_only=True) can read it) ----------
    def to_payload(self) -> dict:
        """Tensors and plain values for ``torch.save``."""
        return {
            "genes": self.genes,
            "input_kind": self.input_kind,
            "target_sum": self.target_sum,
            "n_neighbors": self.n_neighbors,
            "pca_mean": torch.from_numpy(np.ascontiguousarray(self.pca_mean)),
            "pca_loadings": torch.from_numpy(np.ascontiguousarray(self.pca_loadings)),
            "coords": torch.from_numpy(np.ascontiguousarray(self.coords)),
            "features": _csr_payload(self.features),
            "adjacency": _csr_payload(self.adjacency),
            "latent": None if self.latent is None else torch.from_numpy(self.latent),
            "partition": None if self.partition is None else torch.from_numpy(
                self.partition.astype(np.int64)),
            "encoder_input": self.encoder_input,
            "counts": None if self.residual_rows is None
            else _csr_payload(self.residual_rows.counts),
            "residuals": None if self.residual_rows is None
            else self.residual_rows.model.to_payload(),
        }

    @classmethod
    def from_payload(cls, payload: dict) -> Reference:
        """Inverse of :meth:`to_payload`."""
        return cls(
            genes=list(payload["genes"]),
            input_kind=payload["input_kind"],
            target_sum=payload["target_sum"],
            n_neighbors=int(payload["n_neighbors"]),
            pca_mean=payload["pca_mean"].numpy(),
            pca_loadings=payload["pca_loadings"].numpy(),
            coords=payload["coords"].numpy(),
            features=_csr_from_payload(payload["features"]),
            adjacency=_csr_from_payload(payload["adjacency"]),
            latent=_optional_array(payload.get("latent")),
            partition=_optional_array(payload.get("partition")),
            encoder_input=payload.get("encoder_input", "lognorm"),  # older models: the only one
            residual_rows=None if payload.get("residuals") is None
            else ResidualRows(_csr_from_payload(payload["counts"]),
                              PearsonResiduals.from_payload(payload["residuals"])),
        )

    # -- new cells --------------------------------------------------------------------------------
    def query_cells(self, adata: ad.AnnData, layer: str | None = None) -> QueryCells:
        """Put raw (or scdefer-preprocessed) cells into the model's feature space, cell by cell.

        The model's genes are taken before normalising (one copy of the matrix, not two); each
        cell's library size still counts every gene of the input, as in preprocessing.
        """
        matrix = take_matrix(adata, layer)
        prepared = is_preprocessed(adata) and layer is None
        if not prepared:
            source = f"layer {layer!r}" if layer else "X"
            check_matrix(matrix, self.input_kind, source)  # type: ignore[arg-type]
        present = self._check_genes(adata.var_names.astype(str))
        library = np.asarray(matrix.sum(axis=1)).ravel()
        features = take_genes(matrix, present)
        del matrix
        counts = None
        if needs_counts(self.encoder_input):
            counts = self._prepared_counts(adata, present) if prepared else features
        if prepared:
            features = self._rescale_prepared(features, adata)
        elif self.input_kind != "lognorm" and self.target_sum is not None:
            features = log_normalise(features, self.target_sum, library)
        no_counts = np.asarray(features.getnnz(axis=1) == 0)
        if no_counts.any():
            logger.warning("%d cell(s) have no counts among the model's genes: kept and flagged",
                           int(no_counts.sum()))
        n_missing = int(np.sum(present < 0))
        return QueryCells(features, self.project(features), no_counts, n_missing, counts)

    def _prepared_counts(self, adata: ad.AnnData, present: np.ndarray) -> sp.csr_matrix:
        """The model genes' counts of an scdefer-preprocessed input (its counts layer)."""
        if COUNTS not in adata.layers:
            raise ScDeferInputError(
                f"this model reads Pearson residuals of counts (--encoder-input "
                f"{self.encoder_input}) and the preprocessed input has no layers['{COUNTS}']: "
                "give the raw counts instead")
        return take_genes(take_matrix(adata, COUNTS), present)

    def _check_genes(self, var_names: np.ndarray) -> np.ndarray:
        """Each model gene's column in the input (-1 if absent); refuse too few, warn on some."""
        present = _gene_positions(var_names, self.genes)
        n_missing = int(np.sum(present < 0))
        if n_missing > (1.0 - MIN_GENE_OVERLAP) * len(self.genes):
            example = ", ".join(g for g, i in zip(self.genes, present, strict=True) if i < 0)[:80]
            raise ScDeferInputError(
                f"{n_missing} of the model's {len(self.genes)} genes are absent from the input "
                f"(e.g. {example}); at least {MIN_GENE_OVERLAP:.0%} must be present: use the same "
                "gene ids (symbols vs Ensembl) as the training data"
            )
        if n_missing:
            logger.warning("%d of %d model genes are absent from the input; filled with 0",
                           n_missing, len(self.genes))
        return present

    def _rescale_prepared(self, matrix: sp.csr_matrix, adata: ad.AnnData) -> sp.csr_matrix:
        """An scdefer-preprocessed X brought from its own library-size target to the model's."""
        record = adata.uns[KEY][PREPROCESS_RECORD]
        target = record.get(TARGET_SUM)
        if self.target_sum is None or target in (None, "") or float(target) == self.target_sum:
            return matrix
        out = matrix.copy()
        out.data = np.log1p(np.expm1(out.data) * (self.target_sum / float(target)))
        return out

    def links(self, coords: np.ndarray) -> Iterator[tuple[slice, sp.csr_matrix]]:
        """The training cells each new cell is linked to, chunk by chunk (0/1, new x training).

        The rule that built the training graph, applied to a new cell without changing the
        training cells: its ``n_neighbors`` nearest training cells, and every training cell that
        would count it among its own ``n_neighbors`` nearest (closer than that cell's
        ``n_neighbors``-th neighbour; checked against every training cell, in blocks of 128 MB).
        A training cell submitted again (distance 0) gets exactly its training-graph links.
        """
        k = min(self.n_neighbors, self.n_cells - 1)
        search = NearestNeighbors(n_neighbors=k + 1).fit(self.coords)
        radius = self.kth_distance() * (1 + 1e-5) + 1e-6  # float error of the two computations
        for start in range(0, coords.shape[0], QUERY_CHUNK):
            rows = slice(start, min(start + QUERY_CHUNK, coords.shape[0]))
            distance, found = search.kneighbors(coords[rows])
            itself = distance[:, 0] <= SAME_CELL_DISTANCE
            nearest = np.where(itself[:, None], found[:, 1:], found[:, :k])
            m = nearest.shape[0]
            linked = sp.csr_matrix((np.ones(nearest.size, dtype=np.float32),
                                    (np.repeat(np.arange(m), k), nearest.ravel())),
                                   shape=(m, self.n_cells))
            linked = linked.maximum(self._reverse_links(coords[rows], radius))
            linked = linked - linked.multiply(self._self_links(found[:, 0], itself))
            linked.eliminate_zeros()
            yield rows, linked.tocsr()

    def _reverse_links(self, coords: np.ndarray, radius: np.ndarray) -> sp.csr_matrix:
        """1 where a new cell is closer to a training cell than that cell's k-th neighbour."""
        from sklearn.metrics import pairwise_distances_chunked

        blocks = [sp.csr_matrix(block <= radius[None, :], dtype=np.float32)
                  for block in pairwise_distances_chunked(coords, self.coords,
                                                          working_memory=128)]
        return sp.vstack(blocks).tocsr()

    def _self_links(self, first: np.ndarray, itself: np.ndarray) -> sp.csr_matrix:
        """1 at (new cell, training cell) where the new cell is that training cell."""
        rows = np.flatnonzero(itself)
        return sp.csr_matrix((np.ones(rows.size, dtype=np.float32), (rows, first[rows])),
                             shape=(itself.size, self.n_cells))

    def kth_distance(self) -> np.ndarray:
        """Each training cell's distance to its ``n_neighbors``-th nearest other training cell."""
        k = min(self.n_neighbors, self.n_cells - 1)
        distance, _ = NearestNeighbors(n_neighbors=k + 1).fit(self.coords).kneighbors(self.coords)
        return distance[:, -1]

    def attached_adjacency(self, links: sp.csr_matrix) -> sp.csr_matrix:
        """Normalised adjacency of the training graph with new cells attached as receivers.

        The training block is exactly the training ``D^-1/2 (A + I) D^-1/2``; a new cell's row
        holds its self loop and its links, normalised with its own degree and each linked cell's
        training degree; no training row sees a new cell.
        """
        own = np.asarray(links.sum(axis=1)).ravel() + 1.0
        query = sp.diags(1.0 / np.sqrt(own)) @ links @ sp.diags(1.0 / np.sqrt(self._degree))
        self_loops = sp.diags(1.0 / own)
        return sp.bmat([[self._normalized, None], [query, self_loops]], format="csr",
                       dtype=np.float32)

    @cached_property
    def _normalized(self) -> sp.csr_matrix:
        """The training graph's ``D^-1/2 (A + I) D^-1/2`` (made once, used by every chunk)."""
        return normalized_adjacency(self.adjacency)

    @cached_property
    def _degree(self) -> np.ndarray:
        """Each training cell's degree with its self loop."""
        return np.asarray(self.adjacency.sum(axis=1)).ravel() + 1.0


def _project(features: sp.csr_matrix, mean: np.ndarray, loadings: np.ndarray) -> np.ndarray:
    """``(features - mean) @ loadings`` without densifying ``features``."""
    return (np.asarray(features @ loadings) - mean @ loadings).astype(np.float32)


def _gene_positions(var_names: np.ndarray, genes: list[str]) -> np.ndarray:
    """Column of each model gene in the input (-1 where absent); duplicates take the first."""
    first = {}
    for i, name in enumerate(var_names):
        first.setdefault(name, i)
    return np.array([first.get(g, -1) for g in genes], dtype=np.int64)


def _optional_array(tensor: torch.Tensor | None) -> np.ndarray | None:
    return None if tensor is None else tensor.numpy()


def _csr_payload(matrix: sp.csr_matrix) -> dict[str, torch.Tensor]:
    m = sp.csr_matrix(matrix, dtype=np.float32)
    return {"indptr": torch.from_numpy(m.indptr.astype(np.int64)),
            "indices": torch.from_numpy(m.indices.astype(np.int32)),
            "data": torch.from_numpy(m.data), "shape": torch.tensor(m.shape)}


def _csr_from_payload(payload: dict[str, torch.Tensor]) -> sp.csr_matrix:
    shape = tuple(int(s) for s in payload["shape"])
    return sp.csr_matrix((payload["data"].numpy(), payload["indices"].numpy(),
                          payload["indptr"].numpy()), shape=shape)
