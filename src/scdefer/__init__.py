"""scdefer: scDEFER deep embedded fusion clustering of single-cell RNA-seq data.

Heavy dependencies (torch, scanpy) load on first use, so ``scdefer --help`` answers at once.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._errors import ScDeferInputError
from ._version import __version__

_LAZY = {
    "ScDefer": ".model",
    "TrainParams": ".params",
    "PreprocessParams": ".params",
    "preprocess": ".preprocessing",
    "annotate": ".api",
    "cluster": ".api",
    "predict": ".api",
    "clustering_metrics": ".evaluation",
    "evaluate": ".evaluation",
    "read_input": ".io",
    "simulate": ".simulation",
}

__all__ = ["ScDeferInputError", "__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'scdefer' has no attribute {name!r}")
