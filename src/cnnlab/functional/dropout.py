"""Inverted dropout.

``p`` is the probability of KEEPING a unit, as in CS231n since 2019 (``dropout_param['p']``).
This is the opposite of PyTorch's ``nn.Dropout(p)`` and Keras's ``Dropout(rate)``, whose
argument is the probability of DROPPING a unit: CS231n ``p = 0.8`` is PyTorch ``p = 0.2``.

In train mode each unit is kept with probability ``p`` and the kept units are divided by ``p``
("inverted" dropout), so the expected output equals the input and test mode is the identity.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ._common import check_float, check_shape, get_param

OP = "dropout"


def _generator(dropout_param: Mapping[str, Any]) -> np.random.Generator:
    """The mask's generator: from 'seed' if given, else the 'rng' Generator, else a fresh one."""
    seed = get_param(dropout_param, "seed", None, OP)
    if seed is not None:
        return np.random.default_rng(seed)
    rng = get_param(dropout_param, "rng", None, OP)
    if rng is None:
        return np.random.default_rng()
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"{OP}: dropout_param['rng'] must be a numpy.random.Generator, got {type(rng).__name__}"
        )
    return rng


def dropout_forward(
    x: np.ndarray, dropout_param: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray | None]:
    """Forward pass of inverted dropout.

    Inputs:
    - x: array of any shape
    - dropout_param: dict with
      - 'p' (required): probability of keeping each unit, in (0, 1]
      - 'mode' (required): 'train' (drop) or 'test' (identity: returns ``x`` itself)
      - 'seed' (optional): the mask comes from ``np.random.default_rng(seed)``, so the same seed
        gives the same mask on every call (for gradient checks)
      - 'rng' (optional, used when no seed is given): a ``numpy.random.Generator`` drawn from;
        without either a fresh unseeded generator is used

    Returns ``(out, cache)``; ``out`` has the shape and dtype of ``x``.
    """
    check_float(x, OP, "x")
    p = get_param(dropout_param, "p", None, OP)
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 < p <= 1:
        raise ValueError(
            f"{OP}: dropout_param['p'] is the probability of keeping a unit and must be in"
            f" (0, 1], got {p!r}"
        )
    mode = get_param(dropout_param, "mode", None, OP)
    if mode == "test":
        return x, None
    if mode != "train":
        raise ValueError(f"{OP}: dropout_param['mode'] must be 'train' or 'test', got {mode!r}")
    keep = _generator(dropout_param).random(x.shape) < p
    mask = keep.astype(x.dtype) / x.dtype.type(p)
    return x * mask, mask


def dropout_backward(dout: np.ndarray, cache: np.ndarray | None) -> np.ndarray:
    """Backward pass of inverted dropout: ``dout * mask`` in train mode, ``dout`` in test mode.

    Inputs: dout, shaped like the forward input; cache from :func:`dropout_forward` (the
    scaled mask, ``keep / p``, or None in test mode).
    """
    mask = cache
    if mask is None:
        return dout
    check_shape(dout, mask.shape, OP, "dout")
    return dout * mask
