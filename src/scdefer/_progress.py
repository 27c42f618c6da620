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
        logger.info("%s: %.1f s (peak memory so far %.2f GB)", what, seconds, peak_memory_gb())


def peak_memory_gb() -> float:
    """Peak resident memory of this process so far, in GB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux, bytes on macOS
    return peak / (1024**3 if sys.platform == "darwin" else 1024**2)
