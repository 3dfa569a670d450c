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

from cnnlab.validation import check_cache, check_dout, check_float, check_params

OP = "dropout"

#: The keys a ``dropout_param`` may hold.
DROPOUT_PARAM_KEYS = ("p", "mode", "seed", "rng")


def _generator(dropout_param: Mapping[str, Any]) -> np.random.Generator:
    """The mask's generator: from 'seed' if given, else the 'rng' Generator, else a fresh one."""
    seed = dropout_param.get("seed")
    if seed is not None:
        return np.random.default_rng(seed)
    rng = dropout_param.get("rng")
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

    Args:
        x: float array of any shape.
        dropout_param: dict with

            - 'p' (required): probability of keeping each unit, in (0, 1];
            - 'mode' (required): 'train' (drop) or 'test' (identity: returns ``x`` itself);
            - 'seed' (optional): the mask comes from ``np.random.default_rng(seed)``, so the same
              seed gives the same mask on every call (for gradient checks);
            - 'rng' (optional, used when no seed is given): a ``numpy.random.Generator`` drawn
              from; without either a fresh unseeded generator is used.

    Returns:
        ``(out, cache)``: out with the shape and dtype of ``x``; cache the scaled mask
        ``keep / p`` (shape of ``x``), or None in test mode.

    Raises:
        ValueError: non-float ``x``, an unknown key, ``p`` outside (0, 1], a bad ``mode`` or
            an ``rng`` that is not a Generator.
    """
    check_float(OP, x, "x")
    dropout_param = check_params(OP, dropout_param, "dropout_param", DROPOUT_PARAM_KEYS)
    p = dropout_param.get("p")
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 < p <= 1:
        raise ValueError(
            f"{OP}: dropout_param['p'] is the probability of keeping a unit and must be in"
            f" (0, 1], got {p!r}"
        )
    mode = dropout_param.get("mode")
    if mode == "test":
        return x, None
    if mode != "train":
        raise ValueError(f"{OP}: dropout_param['mode'] must be 'train' or 'test', got {mode!r}")
    keep = _generator(dropout_param).random(x.shape) < p
    mask = keep.astype(x.dtype) / x.dtype.type(p)
    return x * mask, mask


def dropout_backward(dout: np.ndarray, cache: np.ndarray | None) -> np.ndarray:
    """Backward pass of inverted dropout: ``dout * mask`` in train mode, ``dout`` in test mode.

    Args:
        dout: upstream gradient, shaped like the forward input.
        cache: from :func:`dropout_forward` (the scaled mask ``keep / p``, or None in test mode).

    Returns:
        dx, shaped like ``dout``.

    Raises:
        ValueError: a cache not from :func:`dropout_forward`, or dout of another shape.
    """
    mask = check_cache(OP, cache, (np.ndarray, type(None)))
    if mask is None:
        return check_float(OP, dout, "dout")
    return check_dout(OP, dout, mask.shape) * mask
