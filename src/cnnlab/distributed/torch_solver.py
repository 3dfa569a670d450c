"""The torch engine's Solver in a data-parallel run (``cnnlab train --engine torch --nproc N``).

:class:`DataParallelTorchSolver` is the :class:`~cnnlab.distributed.solver.DataParallelSolver`
(same sample order and augmentation on every rank, the same shards, rank 0 alone writing
checkpoints) whose forward and backward passes are the torch engine's
(:class:`~cnnlab.torch.engine.TorchSolver`), the twin wrapped in
``torch.nn.parallel.DistributedDataParallel``: DDP averages the gradients over the ranks during
the backward pass (Gloo on the CPU, NCCL on GPUs). Each rank scales its shard's loss by its share
of the batch times the number of ranks before the backward pass, so DDP's average is the global
batch's mean gradient even when the shards differ in size, and the weight-decay term is counted
once. The update rule then runs on every rank alike, as in a one-process run.

Batch normalisation normalises with each rank's shard statistics (DDP's default); the buffers
(running statistics) are broadcast from rank 0 after each step, so every rank holds the same
model and measures the same accuracies. Dropout masks come from a torch generator seeded per
rank (``seed`` and rank), so the shards do not share masks.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel

from cnnlab.distributed.group import Group, all_reduce_sum, broadcast_tensors, collectives
from cnnlab.distributed.sharding import shard
from cnnlab.distributed.solver import DataParallelSolver
from cnnlab.models.classifier import Classifier
from cnnlab.torch.engine import TorchSolver, default_device


def rank_device(device: str | None = None) -> torch.device:
    """Where this rank computes: ``device`` (default the GPU when there is one).

    A bare ``cuda`` becomes the GPU numbered by this rank's ``LOCAL_RANK`` (NCCL needs one GPU
    per process).

    Raises:
        ValueError: ``mps``, which torch.distributed does not support, or more processes on
            this machine (``LOCAL_WORLD_SIZE``) than GPUs.
    """
    place = torch.device(device or default_device())
    if place.type not in ("cpu", "cuda"):
        raise ValueError(
            f"distributed: the torch engine trains data-parallel on cpu or cuda, not {place.type}"
        )
    if place.type == "cuda" and place.index is None:
        local = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
        gpus = torch.cuda.device_count()
        if local > gpus:
            raise ValueError(
                f"distributed: {local} processes on this machine but {gpus} GPU(s); NCCL needs "
                "one GPU per process (--nproc at most the GPUs, or --device cpu)"
            )
        place = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return place


def backend_for(device: str | None = None) -> str:
    """The process group's backend for the torch engine on ``device``: Gloo, plus NCCL on CUDA."""
    return "cpu:gloo,cuda:nccl" if rank_device(device).type == "cuda" else "gloo"


class DataParallelTorchSolver(DataParallelSolver, TorchSolver):
    """One rank of a data-parallel run of the torch engine (see the module docstring).

    Args:
        model, data: as for the TorchSolver; every rank passes the same data.
        group: this process's place in the process group, whose backend suits ``device``
            (:func:`backend_for`).
        device: ``cpu`` or ``cuda`` (a bare ``cuda`` is this rank's GPU: :func:`rank_device`).
        **kwargs: the Solver's options, the same on every rank.

    Raises:
        ValueError: a global batch smaller than the number of ranks, or an unusable device.
    """

    def __init__(
        self,
        model: Classifier,
        data: dict[str, np.ndarray],
        *,
        group: Group,
        device: str | None = None,
        **kwargs: Any,
    ) -> None:
        place = rank_device(device)
        ids = None if place.type == "cpu" else [place.index]

        def wrap(twin: torch.nn.Module) -> torch.nn.Module:
            return DistributedDataParallel(twin, device_ids=ids, forward_sync_buffers=False)

        super().__init__(model, data, group=group, device=str(place), wrap=wrap, **kwargs)
        if isinstance(kwargs.get("seed"), int):  # dropout masks differ between the shards
            seeds = np.random.SeedSequence([kwargs["seed"], group.rank])
            torch.manual_seed(int(seeds.generate_state(1)[0]))

    def _forward_backward(
        self, X_batch: np.ndarray, y_batch: np.ndarray
    ) -> tuple[float, dict[str, Any]]:
        """The global batch's mean loss and gradients (tensors), computed from this rank's shard.

        X_batch (B, ...), y_batch (B,): the global batch; the shard's loss is weighted by its share
        and summed over the ranks, the gradients are DDP's average of the scaled shard gradients.
        """
        part = shard(len(X_batch), self.group.rank, self.group.world_size)
        weight = (part.stop - part.start) / len(X_batch)
        with collectives("DistributedDataParallel's backward pass"):
            loss, grads = self.model.loss(
                X_batch[part], y_batch[part], grad_scale=weight * self.group.world_size
            )
        total = np.array([loss * weight])
        all_reduce_sum([total])
        self._broadcast_buffers()
        return float(total[0]), grads

    def _broadcast_buffers(self) -> None:
        """Give every rank rank 0's buffers of the twin (batch-norm running statistics)."""
        buffers = list(self.model.twin.buffers())
        if buffers:
            broadcast_tensors(buffers)
