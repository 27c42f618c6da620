"""The AnnData keys scdefer reads and writes: one place for each name.

| where | key | what |
|---|---|---|
| ``obs`` | :data:`KEY` (or ``key_added``) | cluster labels |
| ``obsm`` | ``X_`` + key (:func:`embedding_key`) | the fused embedding Z |
| ``obsm`` | key + ``_proba`` (:func:`proba_key`) | soft assignments |
| ``obs`` | :data:`SIZE_FACTORS` | library size over its median |
| ``layers`` | :data:`COUNTS` | raw counts of the kept genes |
| ``obsm`` | :data:`PCA` | PCA of the log-normalised genes |
| ``obsp`` / ``uns`` | :data:`NEIGHBORS` + ``_connectivities`` / ``_distances`` | the KNN graph |
| ``uns`` | :data:`KEY` (or ``key_added``) | parameters, versions and training record |
"""

from __future__ import annotations

KEY = "scdefer"
NEIGHBORS = "scdefer_knn"
CONNECTIVITIES = f"{NEIGHBORS}_connectivities"
DISTANCES = f"{NEIGHBORS}_distances"
COUNTS = "counts"
SIZE_FACTORS = "size_factors"
PCA = "X_pca"
PREPROCESS_RECORD = "preprocess"  # uns[KEY][PREPROCESS_RECORD]: the preprocessing parameters


def embedding_key(key_added: str = KEY) -> str:
    """``obsm`` key of the embedding written under ``key_added`` (``X_scdefer``)."""
    return f"X_{key_added}"


def proba_key(key_added: str = KEY) -> str:
    """``obsm`` key of the soft assignments written under ``key_added`` (``scdefer_proba``)."""
    return f"{key_added}_proba"
