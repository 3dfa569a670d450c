"""The process group of a data-parallel run and its collectives over NumPy arrays.

The group is described by torchrun's environment variables: ``RANK``, ``WORLD_SIZE``,
``MASTER_ADDR``, ``MASTER_PORT`` (``cnnlab train --nproc`` sets them for the processes it
starts). The backend is Gloo, which runs on CPUs; collectives work in place on tensors that
share memory with the NumPy arrays (``torch.from_numpy``), so nothing is copied to reduce. The
torch engine on GPUs adds NCCL for CUDA tensors (backend ``"cpu:gloo,cuda:nccl"``).
"""

from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

# How long a collective waits for the other ranks before it fails (a rank that died is
# normally noticed at once, by its closed connections; this bounds a rank that hangs).
TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Group:
    """This process's place in a running process group."""

    rank: int
    world_size: int

    @property
    def is_primary(self) -> bool:
        """Rank 0: the one that writes the run folder and prints progress."""
        return self.rank == 0


def _torch_distributed(backend: str = "gloo") -> ModuleType:
    """``torch.distributed`` with the backends ``backend`` names, or RuntimeError saying so."""
    try:
        import torch.distributed as dist
    except ImportError as err:
        raise RuntimeError(
            "data-parallel training needs PyTorch (pip install 'cnnlab[torch]')"
        ) from err
    if not dist.is_available() or not dist.is_gloo_available():
        raise RuntimeError("data-parallel training needs a PyTorch built with Gloo")
    if "nccl" in backend and not dist.is_nccl_available():
        raise RuntimeError("data-parallel training on CUDA needs a PyTorch built with NCCL")
    return dist


def env_rank() -> tuple[int, int] | None:
    """``(RANK, WORLD_SIZE)`` from the environment, or None when they are not set.

    Raises:
        ValueError: values that are not integers, or a rank outside 0..WORLD_SIZE-1.
    """
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return None
    try:
        rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    except ValueError as err:
        raise ValueError(
            f"distributed: RANK={os.environ['RANK']!r} and WORLD_SIZE="
            f"{os.environ['WORLD_SIZE']!r} must be integers"
        ) from err
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"distributed: RANK={rank} is not in 0..WORLD_SIZE-1={world_size - 1}")
    return rank, world_size


def group_from_env(timeout_s: float = TIMEOUT_S, backend: str = "gloo") -> Group | None:
    """Join the process group that the environment describes.

    The rendezvous is at ``MASTER_ADDR:MASTER_PORT``. Returns None when no ``RANK``/``WORLD_SIZE``
    is set or the world is one process (no group is needed then).

    Args:
        timeout_s: how long a collective waits for the other ranks.
        backend: ``"gloo"`` (CPU tensors), or ``"cpu:gloo,cuda:nccl"`` for a run on GPUs.

    Raises:
        RuntimeError: PyTorch is missing, or the rendezvous failed.
    """
    place = env_rank()
    if place is None or place[1] == 1:
        return None
    rank, world_size = place
    dist = _torch_distributed(backend)
    if not dist.is_initialized():
        dist.init_process_group(
            backend,
            init_method="env://",
            rank=rank,
            world_size=world_size,
            timeout=datetime.timedelta(seconds=timeout_s),
        )
    return Group(rank, world_size)


def leave_group() -> None:
    """Destroy this process's process group, if it has one."""
    dist = _torch_distributed()
    if dist.is_initialized():
        dist.destroy_process_group()


def _tensors(arrays: Sequence[np.ndarray]) -> list:
    import torch

    for a in arrays:
        if not (a.flags.c_contiguous and a.flags.writeable):
            raise ValueError(
                f"distributed: collectives work in place on writable C-contiguous arrays; got "
                f"one of shape {a.shape} that is not"
            )
    return [torch.from_numpy(a) for a in arrays]


@contextlib.contextmanager
def _lost_ranks(dist: ModuleType, what: str) -> Iterator[None]:
    """Turn a failed collective into one RuntimeError that says so.

    A collective fails when a rank died, hung past the timeout, or stopped.
    """
    try:
        yield
    except RuntimeError as err:
        detail = " ".join(str(err).split())[:300]
        raise RuntimeError(
            f"distributed: rank {dist.get_rank()}: {what} failed, another process of the run "
            f"has stopped or hangs ({detail}); the run stops, its last checkpoint is intact"
        ) from err


def collectives(what: str) -> contextlib.AbstractContextManager[None]:
    """A context for code that runs collectives of its own (DDP's backward pass, named ``what``).

    A RuntimeError in it (Gloo and NCCL raise one when a rank died, hung or stopped) becomes the
    one RuntimeError of :func:`all_reduce_sum`, which names the run's stop and keeps the detail.
    """
    return _lost_ranks(_torch_distributed(), what)


def all_reduce_sum(arrays: Sequence[np.ndarray]) -> None:
    """Replace every array (any shape, writable, C-contiguous) by its sum over the ranks, in place.

    All ranks pass arrays of the same shapes and dtypes in the same order; the reductions are issued
    together and then awaited.
    """
    dist = _torch_distributed()
    with _lost_ranks(dist, "all_reduce"):
        works = [dist.all_reduce(t, async_op=True) for t in _tensors(arrays)]
        for work in works:
            work.wait()


def broadcast(arrays: Sequence[np.ndarray], src: int = 0) -> None:
    """Overwrite every array (writable, C-contiguous) with rank ``src``'s, in place."""
    broadcast_tensors(_tensors(arrays), src)


def broadcast_tensors(tensors: Sequence[Any], src: int = 0) -> None:
    """Overwrite every torch tensor (any shape, on the CPU or a GPU) with rank ``src``'s, in place.

    All ranks pass tensors of the same shapes and dtypes in the same order.
    """
    dist = _torch_distributed()
    with _lost_ranks(dist, "broadcast"):
        works = [dist.broadcast(t, src=src, async_op=True) for t in tensors]
        for work in works:
            work.wait()
