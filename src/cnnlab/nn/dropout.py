"""Dropout layer (inverted dropout), seeded through a numpy Generator."""

from __future__ import annotations

import numpy as np

from cnnlab.functional.dropout import dropout_backward, dropout_forward

from .init import as_generator
from .module import Module


class Dropout(Module):
    """Zero each unit with probability ``p`` in training mode, scale the rest by 1 / (1 - p).

    The identity in eval mode. Input and output have any (equal) shape.

    ``p`` is the DROP probability, as in ``torch.nn.Dropout(p)`` and Keras ``Dropout(rate)``
    (the functional op's CS231n ``p`` is the keep probability, ``1 - p`` here).

    Masks are reproducible and resumable: a key is drawn once from ``rng`` (a Generator or an
    int seed), and the mask of the k-th training pass comes from ``default_rng((key, k))``. The
    buffer ``rng_state`` = [key, k] (int64) is part of ``state_dict()``, so a checkpointed run
    draws the same masks after resuming as the uninterrupted run.

    Args:
        p: drop probability, in [0, 1).
        rng: Generator or int seed the mask key is drawn from; None for fresh entropy.

    Raises:
        ValueError: ``p`` outside [0, 1).
    """

    def __init__(self, p: float = 0.5, rng: np.random.Generator | int | None = None) -> None:
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: p is the drop probability and must be in [0, 1), got {p}")
        self.p = float(p)
        key = int(as_generator(rng).integers(0, 2**62))
        self.buffers["rng_state"] = np.array([key, 0], dtype=np.int64)
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Drop and scale units of ``x`` (any shape) in training mode; return ``x`` in eval mode.

        Each training call advances the mask counter in the ``rng_state`` buffer.
        """
        param: dict = {"p": 1.0 - self.p, "mode": "train" if self.training else "test"}
        if self.training:
            state = self.buffers["rng_state"]
            param["seed"] = [int(state[0]), int(state[1])]
            state[1] += 1
        out, self._cache = dropout_forward(x, param)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Gradient dx from dout, both shaped like the last forward input (the same mask)."""
        return dropout_backward(dout, self._cache)

    def extra_repr(self) -> str:
        """The drop probability, for the module's repr."""
        return f"p={self.p}"
