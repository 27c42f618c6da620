"""Process settings: threads, seeds, devices and the allocator."""

from __future__ import annotations

import functools
import os
import subprocess
import sys

import pytest
import torch

from scdefer import ScDeferInputError
from scdefer._runtime import default_threads, deterministic_algorithms, resolve_device, set_threads
from scdefer.module._losses import graph_pair_loss

PROBE = "from scdefer._runtime import return_freed_memory as f; print(f())"


def _applied(env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env,
                         check=True)
    return out.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_mmap_threshold_applied_unless_user_set_it() -> None:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_MMAP_THRESHOLD_"}
    assert _applied(env) == "True"
    assert _applied({**env, "MALLOC_MMAP_THRESHOLD_": "65536"}) == "False"


def test_threads_from_scheduler_hint(monkeypatch) -> None:
    monkeypatch.setenv("NXF_TASK_CPUS", "3")
    monkeypatch.delenv("GALAXY_SLOTS", raising=False)
    assert default_threads() == 3
    with pytest.raises(ScDeferInputError, match="--threads"):
        set_threads(0)


def test_device_choice_is_checked() -> None:
    assert resolve_device("cpu").type == "cpu"
    with pytest.raises(ScDeferInputError, match="--device"):
        resolve_device("tpu")


def _fake_cuda(monkeypatch, available: bool, warning: str | None) -> None:
    """Make torch report CUDA as (un)available, with the warning torch gives for old drivers."""
    import warnings

    import torch

    from scdefer import _runtime

    def is_available() -> bool:
        if warning:
            warnings.warn(warning, UserWarning, stacklevel=1)
        return available

    monkeypatch.setattr(torch.cuda, "is_available", is_available)
    _runtime._cuda_status.cache_clear()
    monkeypatch.setattr(_runtime, "_cuda_status", functools.cache(_runtime._cuda_status.__wrapped__))


def test_cuda_requested_without_gpu_is_an_error(monkeypatch) -> None:
    _fake_cuda(monkeypatch, False, None)
    with pytest.raises(ScDeferInputError, match="no GPU is visible.*--nv"):
        resolve_device("cuda")
    assert resolve_device("auto").type == "cpu"  # auto keeps the fallback


def test_cuda_with_old_driver_names_the_driver(monkeypatch) -> None:
    old = ("CUDA initialization: The NVIDIA driver on your system is too old "
           "(found version 12040). Please update your GPU driver.")
    _fake_cuda(monkeypatch, False, old)
    with pytest.raises(ScDeferInputError, match=r"driver is too old.*580 or newer.*found version 12040"):
        resolve_device("cuda")


def _graph_loss_gradient(z0: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    z = z0.clone().requires_grad_(True)
    graph_pair_loss(z, pairs[:, :100_000], pairs[:, 100_000:]).backward()
    return z.grad


def test_training_kernels_are_repeatable_with_several_threads() -> None:
    """The graph loss's gradient (summed over edge ends) is bit-identical run to run with 2
    threads inside ``deterministic_algorithms`` (by default torch adds it with parallel atomics),
    and the caller's setting comes back afterwards."""
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        generator = torch.Generator().manual_seed(0)
        z0 = torch.randn(512, 24, generator=generator)
        pairs = torch.randint(0, 512, (2, 200_000), generator=generator)
        assert not torch.are_deterministic_algorithms_enabled()
        with deterministic_algorithms():
            grads = [_graph_loss_gradient(z0, pairs) for _ in range(4)]
        assert not torch.are_deterministic_algorithms_enabled()
    finally:
        torch.set_num_threads(previous_threads)
    for grad in grads[1:]:
        assert torch.equal(grad, grads[0])
