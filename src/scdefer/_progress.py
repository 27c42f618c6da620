"""Messages about long steps: what runs now and how long it took (INFO level; --quiet hides them)."""

from __future__ import annotations

import contextlib
import logging
import resource
import sys
import time
from collections.abc import Iterator

logger = logging.getLogger("scdefer")


@contextlib.contextmanager
def timed_step(what: str) -> Iterator[None]:
    """Log the start of a long step and, at its end, how long it took and the peak memory so far."""
    logger.info("%s ...", what)
    start = time.perf_counter()
    yield
    logger.info("%s: %.1f s (peak memory so far %.2f GB)", what, time.perf_counter() - start,
                peak_memory_gb())


def peak_memory_gb() -> float:
    """Peak resident memory of this process so far, in GB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux, bytes on macOS
    return peak / (1024**3 if sys.platform == "darwin" else 1024**2)
