"""Messages about long steps: what runs now and how long it took (INFO level; --quiet hides them)."""

from __future__ import annotations

import contextlib
import logging
import resource
import sys
import time
from collections.abc import Iterator

logger = logging.getLogger("scdefer")


REPORTED_SECONDS = 2.0  # steps shorter than this stay quiet (small data shows no extra lines)


@contextlib.contextmanager
def timed_step(what: str) -> Iterator[None]:
    """Log how long a step took and the peak memory so far, when it took a while (INFO).

    Its start is logged at DEBUG level only, so an input refused by a check right after a quick
    step still gives a single error line.
    """
    logger.debug("%s ...", what)
    start = time.perf_counter()
    yield
    seconds = time.perf_counter() - start
    if seconds >= REPORTED_SECONDS:
        logger.info("%s: %.1f s (%s)", what, seconds, peak_memory())


def peak_memory_gib() -> float:
    """Peak resident memory of this process so far, in GiB (2^30 bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux, bytes on macOS
    return peak / (1024**3 if sys.platform == "darwin" else 1024**2)


def peak_memory() -> str:
    """``peak memory so far X GiB``, with the GPU's peak allocation when CUDA is in use."""
    text = f"peak memory so far {peak_memory_gib():.2f} GiB"
    torch = sys.modules.get("torch")  # never imported here just to ask
    if torch is not None and torch.cuda.is_initialized():
        text += f", GPU {torch.cuda.max_memory_allocated() / 1024**3:.2f} GiB"
    return text
