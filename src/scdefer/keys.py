"""The AnnData keys scdefer reads and writes: one place for each name.

| where | key | what |
|---|---|---|
| ``obs`` | :data:`KEY` (or ``key_added``) | cluster labels |
| ``obsm`` | ``X_`` + key (:func:`embedding_key`) | the fused embedding Z |
| ``obsm`` | key + ``_proba`` (:func:`proba_key`) | soft assignments |
| ``obs`` | key + ``_confidence`` (:func:`confidence_key`) | largest soft assignment (predict) |
| ``obs`` | key + ``_no_counts`` (:func:`no_counts_key`) | no counts among the model's genes (predict) |
| ``varm`` | :data:`PCA_LOADINGS` | PCA loadings (genes x PCs) |
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
PCA_LOADINGS = "PCs"  # varm: genes x PCs loadings of the PCA (scanpy's name)
PREPROCESS_RECORD = "preprocess"  # uns[KEY][PREPROCESS_RECORD]: the preprocessing parameters
TARGET_SUM = "target_sum"  # in the preprocessing record: the library size cells are scaled to
NO_COUNTS = "no_counts"  # obs[key_added + "_" + NO_COUNTS]: a predicted cell had no model-gene counts


def embedding_key(key_added: str = KEY) -> str:
    """``obsm`` key of the embedding written under ``key_added`` (``X_scdefer``)."""
    return f"X_{key_added}"


def confidence_key(key_added: str = KEY) -> str:
    """``obs`` key of the largest soft assignment of each predicted cell (``scdefer_confidence``)."""
    return f"{key_added}_confidence"


def no_counts_key(key_added: str = KEY) -> str:
    """``obs`` key flagging predicted cells without counts among the model's genes."""
    return f"{key_added}_{NO_COUNTS}"


def proba_key(key_added: str = KEY) -> str:
    """``obsm`` key of the soft assignments written under ``key_added`` (``scdefer_proba``)."""
    return f"{key_added}_proba"
