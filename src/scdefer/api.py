"""One-call, scanpy-style entry points."""

from __future__ import annotations

from typing import Any

import anndata as ad
import numpy as np
import pandas as pd
from natsort import natsorted

from .keys import (
    KEY,
    PCA,
    PREPROCESS_RECORD,
    confidence_key,
    embedding_key,
    no_counts_key,
    proba_key,
)
from .model import ScDefer
from .params import PreprocessParams
from .preprocessing import is_preprocessed, preprocess


def annotate(adata: ad.AnnData, model: ScDefer, key_added: str = KEY,
             latent: np.ndarray | None = None, proba: np.ndarray | None = None) -> None:
    """Write embedding, labels, soft assignments and the training record into ``adata``."""
    if latent is None or proba is None:
        latent, proba = model.embed_and_assign(None)
    labels = proba.argmax(axis=1).astype(str)
    adata.obsm[embedding_key(key_added)] = latent.astype(np.float32)
    adata.obsm[proba_key(key_added)] = proba.astype(np.float32)
    # Every cluster of the model, in its order, even one without cells here: training output
    # and every prediction of the same model share one category list.
    categories = natsorted(map(str, range(proba.shape[1])))
    adata.obs[key_added] = pd.Categorical(labels, categories=categories)
    # Under key_added, so that a second clustering keeps the first one's record; the
    # preprocessing record is copied in to keep each record whole.
    record = dict(adata.uns.get(key_added, {}))
    if PREPROCESS_RECORD in adata.uns.get(KEY, {}):
        record[PREPROCESS_RECORD] = adata.uns[KEY][PREPROCESS_RECORD]
    record.update(model.uns_record())
    record["key_added"] = key_added
    adata.uns[key_added] = record


def cluster(adata: ad.AnnData, n_clusters: int | str = "auto", *, key_added: str = KEY,
            copy: bool = False, preprocess_params: PreprocessParams | None = None,
            device: str = "auto", progress: bool = True,
            **train_kwargs: Any) -> tuple[ad.AnnData | None, ScDefer]:
    """Preprocess (unless already done), train scDEFER and write the results, scanpy-style.

    Parameters
    ----------
    adata
        Raw counts (cells x genes), or the output of :func:`scdefer.preprocess`.
    n_clusters
        Number of clusters, or ``"auto"``.
    key_added
        Where the results go: ``obs[key_added]``, ``obsm['X_' + key_added]``,
        ``obsm[key_added + '_proba']`` and ``uns[key_added]``.
    copy
        Return a new AnnData instead of writing into ``adata``.
    preprocess_params, device, progress, **train_kwargs
        Preprocessing parameters (raw input only), compute device, progress bars, and any field of
        :class:`scdefer.TrainParams`.

    Returns
    -------
    ``(None, model)`` with ``copy=False``: the results are written into ``adata``; for raw input,
    cells that preprocessing dropped (no counts) get a missing label and NaN rows.
    ``(new, model)`` with ``copy=True``: ``new`` is the preprocessed AnnData (log-normalised
    genes, PCA, KNN graph) with the results; ``adata`` is left untouched.
    """
    if is_preprocessed(adata):
        prepared = adata.copy() if copy else adata
    else:
        prepared = preprocess(adata, preprocess_params)
    model = ScDefer(n_clusters=n_clusters, device=device, progress=progress, **train_kwargs)
    model.fit(prepared)
    annotate(prepared, model, key_added)
    if copy:
        return prepared, model
    if prepared is not adata:
        _transfer(prepared, adata, key_added)
    return None, model


def _transfer(source: ad.AnnData, target: ad.AnnData, key_added: str) -> None:
    """Copy the results under ``key_added`` to ``target``, whose cells may be a superset."""
    rows = source.obs_names.get_indexer(target.obs_names)
    kept = rows >= 0
    labels = source.obs[key_added]
    target.obs[key_added] = pd.Categorical(
        np.where(kept, labels.to_numpy().astype(object)[rows], None),
        categories=labels.cat.categories)
    for key in (embedding_key(key_added), proba_key(key_added)):
        values = np.full((target.n_obs, source.obsm[key].shape[1]), np.nan, dtype=np.float32)
        values[kept] = source.obsm[key][rows[kept]]
        target.obsm[key] = values
    target.uns[key_added] = source.uns[key_added]


def predict(adata: ad.AnnData, model: ScDefer, *, key_added: str = KEY, layer: str | None = None,
            model_source: str | None = None) -> ad.AnnData:
    """Label new cells with a trained model; returns a new AnnData in the model's feature space.

    Each cell is placed into the model's training graph on its own (see :meth:`ScDefer.map`), so
    its label does not depend on the other cells in ``adata``. Every cell is kept: cells without
    counts among the model's genes are flagged in ``obs[key_added + '_no_counts']``.

    Returns
    -------
    An AnnData with the input's cells and ``obs``, the model's genes (X: log-normalised), the
    training-PCA projection in ``obsm['X_pca']``, and what ``train`` writes: ``obs[key_added]``
    (the model's clusters as categories), ``obsm['X_' + key_added]``, ``obsm[key_added +
    '_proba']``, plus ``obs[key_added + '_confidence']`` (largest soft assignment) and
    ``uns[key_added]['model']`` (where the model came from).
    """
    mapped = model.map(adata, layer)
    out = ad.AnnData(mapped.cells.features, obs=adata.obs.copy(),
                     var=pd.DataFrame(index=pd.Index(model.reference.genes)))
    out.obsm[PCA] = mapped.cells.coords
    annotate(out, model, key_added, latent=mapped.latent, proba=mapped.proba)
    out.obs[confidence_key(key_added)] = mapped.proba.max(axis=1).astype(np.float32)
    out.obs[no_counts_key(key_added)] = mapped.cells.no_counts
    out.uns[key_added]["model"] = {
        "source": model_source or "",
        "n_cells_trained": model.n_cells_trained,
        "n_clusters": int(mapped.proba.shape[1]),
        "n_missing_genes": mapped.cells.n_missing_genes,
    }
    return out
