"""The Solver of a data-parallel run.

Every rank computes its shard of each global batch with the hand-written layers, then the gradients
are averaged over the ranks before the update.

Every rank holds the whole model, the optimiser state and a generator seeded alike, so all of
them draw the same sample order and the same augmentation for the global batch (what a
one-process run draws); each then runs the forward and backward passes on its own shard
(:func:`~cnnlab.distributed.sharding.shard`) only. The shard's mean loss and gradients,
weighted by the shard's share of the batch, are summed over the ranks (Gloo, in place on the
gradient arrays): the mean over the global batch, so every rank applies the same update and
the parameters stay equal, and the run equals the one-process run up to rounding. The weight
decay term of each shard's gradient is weighted the same way and so counted once.

Batch normalisation uses each rank's own shard statistics in the forward pass, as PyTorch's
``BatchNorm`` under ``DistributedDataParallel`` does (not synchronised). Its running
statistics (and every other buffer) are then broadcast from rank 0 after each step, as DDP
broadcasts buffers, so the models stay identical: every rank measures the same accuracies and
makes the same early-stopping decisions. With batch norm a run therefore differs from the
one-process run; without it, it does not.

Only rank 0 writes checkpoints; since the checkpoint holds the global state (parameters,
optimiser, generator, sample order), it resumes with any number of processes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab.distributed.group import Group, all_reduce_sum, broadcast
from cnnlab.distributed.sharding import shard
from cnnlab.training.solver import Solver


class DataParallelSolver(Solver):
    """A :class:`~cnnlab.training.solver.Solver` that is one rank of a data-parallel run.

    Args:
        model, data: as for the Solver; every rank passes the same data.
        group: this process's place in the process group
            (:func:`~cnnlab.distributed.group.group_from_env`).
        **kwargs: the Solver's options, the same on every rank (``seed`` above all). Ranks
            other than 0 print nothing and write no checkpoint.

    Raises:
        ValueError: a global batch smaller than the number of ranks.
    """

    def __init__(self, model: Any, data: dict[str, np.ndarray], *, group: Group, **kwargs: Any):
        batch = min(kwargs.get("batch_size", 100), len(data["X_train"]))
        if batch < group.world_size:
            raise ValueError(
                f"DataParallelSolver: a global batch of {batch} samples cannot be split over "
                f"{group.world_size} processes"
            )
        if not group.is_primary:
            kwargs["verbose"] = False
        self.group = group
        super().__init__(model, data, **kwargs)
        state = model.state_dict() if self._has_state_dict() else {}
        self._buffer_names = [name for name in state if name not in model.params]

    def _forward_backward(
        self, X_batch: np.ndarray, y_batch: np.ndarray
    ) -> tuple[float, dict[str, np.ndarray]]:
        """The global batch's mean loss and gradients, computed from this rank's shard.

        The shard of X_batch (B, ...), y_batch (B,) gives a weighted loss and gradients, summed over
        the ranks; then every rank takes rank 0's buffers.
        """
        part = shard(len(X_batch), self.group.rank, self.group.world_size)
        loss, grads = self.model.loss(X_batch[part], y_batch[part])
        weight = (part.stop - part.start) / len(X_batch)
        reduced = {}
        for name in self.model.params:
            if name in grads:
                g = grads[name]
                if not (g.flags.c_contiguous and g.flags.writeable):
                    g = np.array(g, order="C")
                g *= g.dtype.type(weight)
                reduced[name] = g
        total = np.array([float(loss) * weight])
        all_reduce_sum([*reduced.values(), total])
        self._broadcast_buffers()
        return float(total[0]), {**grads, **reduced}

    def _broadcast_buffers(self) -> None:
        """Give every rank rank 0's buffers (batch-norm running statistics, dropout counters)."""
        if not self._buffer_names:
            return
        state = self.model.state_dict()
        broadcast([state[name] for name in self._buffer_names])
        self.model.load_state_dict(state)

    def save_checkpoint(self, path: str | os.PathLike[str]) -> Path:
        """Rank 0 writes the checkpoint; the others only note where it is."""
        if self.group.is_primary:
            return super().save_checkpoint(path)
        self.last_checkpoint = Path(path)
        return self.last_checkpoint
