"""One-call, scanpy-style entry points."""

from __future__ import annotations

from typing import Any

import anndata as ad
import numpy as np
import pandas as pd
from natsort import natsorted

from .keys import KEY, PREPROCESS_RECORD, embedding_key, proba_key
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
    categories = natsorted(np.unique(labels))
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
            preprocess_params: PreprocessParams | None = None, device: str = "auto",
            progress: bool = True, **train_kwargs: Any) -> tuple[ad.AnnData, ScDefer]:
    """Preprocess (unless already done), train scDEFER and annotate; return (AnnData, model).

    A raw-count ``adata`` is left untouched and a new, preprocessed AnnData is returned with
    ``obsm['X_scdefer']``, ``obs['scdefer']``, ``obsm['scdefer_proba']`` and ``uns['scdefer']``.
    An already preprocessed ``adata`` is annotated in place and returned.
    """
    prepared = adata if is_preprocessed(adata) else preprocess(adata, preprocess_params)
    model = ScDefer(n_clusters=n_clusters, device=device, progress=progress, **train_kwargs)
    model.fit(prepared)
    annotate(prepared, model, key_added)
    return prepared, model
