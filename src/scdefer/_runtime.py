"""Seeds, threads and device selection: everything that decides where and how we compute."""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import random
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import numpy as np
import torch

from ._errors import ScDeferInputError

logger = logging.getLogger("scdefer")

DeviceChoice = Literal["auto", "cpu", "cuda"]


def default_threads() -> int:
    """Threads from the scheduler's hint (Galaxy, Nextflow, Slurm), else 1 per core up to 8."""
    for var in ("GALAXY_SLOTS", "NXF_TASK_CPUS", "SLURM_CPUS_PER_TASK"):
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return max(1, min(os.cpu_count() or 1, 8))


def set_threads(threads: int | None) -> int:
    """Limit torch (and BLAS through threadpoolctl) to ``threads`` threads; return the count."""
    n = default_threads() if threads is None else int(threads)
    if n < 1:
        raise ScDeferInputError(f"--threads must be at least 1, got {n}")
    torch.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except ImportError:  # pragma: no cover
        pass
    return n


def return_freed_memory(threshold: int = 128 * 1024) -> bool:
    """Serve allocations above ``threshold`` bytes with mmap, so freed tensors leave the process.

    glibc raises its mmap threshold whenever a large block is freed; from then on tensors of a few
    MB are carved from the heap, which fragments and never shrinks (about 0.2 GB of peak RSS on a
    4,000-cell run). Fixing the threshold (as ``MALLOC_MMAP_THRESHOLD_`` would) avoids that.
    Does nothing off glibc or when the user set that variable. Returns True when applied.
    """
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(-3, int(threshold)))  # -3 = M_MMAP_THRESHOLD
    except (OSError, AttributeError):  # not glibc (musl, ...)
        return False


@contextmanager
def deterministic_algorithms() -> Iterator[None]:
    """Deterministic kernels inside the block; the caller's setting is restored after it.

    Without this, training with more than one CPU thread is not repeatable: the gradient of
    ``z[index]`` (the graph loss's edge ends) is summed with parallel atomic adds, whose order
    changes from run to run (two runs of one seed differed in Z by 0.02 on 1,500 cells). On a
    GPU it also selects deterministic kernels (cuBLAS needs ``CUBLAS_WORKSPACE_CONFIG``, set by
    :func:`resolve_device`). Kernels without a deterministic version only warn.
    """
    enabled = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA); make cuDNN deterministic."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (the global generator that scanpy and others draw from)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


@functools.cache
def _cuda_status() -> tuple[bool, str]:
    """Whether CUDA can be used, and torch's reason when not (e.g. a driver too old)."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        available = torch.cuda.is_available()
    reasons = [str(w.message).strip() for w in caught if "cuda" in str(w.message).lower()]
    return available, (reasons[0].splitlines()[0] if reasons else "")


def resolve_device(choice: str = "auto") -> torch.device:
    """Turn ``auto|cpu|cuda[:N]`` into a device and log it.

    ``auto`` uses a visible GPU and falls back to the CPU with a warning. An explicit ``cuda``
    that cannot be used is an input error (a cluster job that forgot ``--nv`` or ``--gres``
    would otherwise train for hours on the CPU); a driver too old for this build says so.
    """
    if choice not in ("auto", "cpu", "cuda") and not choice.startswith("cuda:"):
        raise ScDeferInputError(f"--device must be auto, cpu or cuda, got {choice!r}")
    cuda_ok, reason = _cuda_status() if choice != "cpu" else (False, "")
    gpu_env = os.environ.get("GALAXY_GPU_ENABLED", "").lower()
    if choice == "auto" and gpu_env == "false":
        cuda_ok = False
    if choice.startswith("cuda") and not cuda_ok:
        raise ScDeferInputError(_no_cuda_message(reason))
    if choice == "auto" and not cuda_ok and reason:
        logger.warning("no usable GPU (%s); running on the CPU", reason)
    device = torch.device(choice if choice != "auto" else ("cuda" if cuda_ok else "cpu"))
    if device.type == "cuda" and device.index is not None \
            and device.index >= torch.cuda.device_count():
        raise ScDeferInputError(
            f"--device {choice}: only {torch.cuda.device_count()} GPU(s) are visible"
        )
    if device.type == "cuda":
        # read when cuBLAS starts; deterministic GEMMs need it (see deterministic_algorithms)
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        logger.info(
            "device: %s (%s), torch %s, CUDA %s",
            device,
            torch.cuda.get_device_name(device),
            torch.__version__,
            torch.version.cuda,
        )
    else:
        logger.info(
            "device: cpu (%d threads), torch %s, CUDA build %s, GPU visible: %s",
            torch.get_num_threads(),
            torch.__version__,
            torch.version.cuda,
            cuda_ok,
        )
    return device


def _no_cuda_message(reason: str) -> str:
    """One line for ``--device cuda`` without a usable GPU, naming the driver when it is the cause."""
    build = torch.version.cuda or "none"
    if torch.version.cuda is None:
        return ("--device cuda: this torch build has no CUDA support; install the CUDA build "
                "or use --device cpu")
    if "driver" in reason.lower() and ("old" in reason.lower() or "version" in reason.lower()):
        return (f"--device cuda: the NVIDIA driver is too old for this build's CUDA {build} "
                f"(CUDA 13 needs driver 580 or newer): {reason}; update the driver, or use "
                "--device cpu")
    return ("--device cuda: no GPU is visible (no NVIDIA driver, or none passed into the job: "
            "docker --gpus all, apptainer --nv, Slurm --gres=gpu); use --device cpu or auto")
