"""Versions and parameters recorded in every output."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

from ._version import __version__

_PACKAGES = (
    "torch",
    "torch-geometric",
    "scanpy",
    "anndata",
    "numpy",
    "scipy",
    "scikit-learn",
    "pandas",
)


def package_versions() -> dict[str, str]:
    """Return the versions of scdefer, Python and the libraries that shape its results."""
    versions = {"scdefer": __version__, "python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover - every one is a dependency
            versions[name] = "not installed"
    return versions
