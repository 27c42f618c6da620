"""Seeds, threads and device selection: everything that decides where and how we compute."""

from __future__ import annotations

import ctypes
import logging
import os
import random
import sys
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


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA); make cuDNN deterministic."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def resolve_device(choice: str = "auto") -> torch.device:
    """Turn ``auto|cpu|cuda`` into a device; log what was found and fall back to the CPU."""
    if choice not in ("auto", "cpu", "cuda") and not choice.startswith("cuda:"):
        raise ScDeferInputError(f"--device must be auto, cpu or cuda, got {choice!r}")
    cuda_ok = torch.cuda.is_available()
    gpu_env = os.environ.get("GALAXY_GPU_ENABLED", "").lower()
    if choice == "auto" and gpu_env == "false":
        cuda_ok = False
    if choice.startswith("cuda") and not cuda_ok:
        logger.warning("CUDA was requested but no GPU is visible; falling back to the CPU")
        device = torch.device("cpu")
    elif choice == "auto":
        device = torch.device("cuda" if cuda_ok else "cpu")
    else:
        device = torch.device(choice)
    if device.type == "cuda":
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
            torch.cuda.is_available(),
        )
    return device
