"""Comparison helpers for the op and layer tests."""

from __future__ import annotations

import numpy as np


def max_rel_error(ours: np.ndarray, ref: np.ndarray) -> float:
    """``max |ours - ref| / max |ref|``: relative error scaled by the reference's magnitude.

    Shapes must match exactly (no broadcasting hides a wrong shape).
    """
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.shape == ref.shape, f"shape {ours.shape} != reference {ref.shape}"
    scale = np.max(np.abs(ref)) if ref.size else 0.0
    diff = np.max(np.abs(ours - ref)) if ref.size else 0.0
    return float(diff / scale) if scale > 0 else float(diff)


def assert_close(ours, ref, rtol: float, atol: float, what: str) -> None:
    """Equal shapes (no broadcasting), then equal values within ``rtol * |ref| + atol``
    element-wise; ``what`` names the compared quantity in the failure message."""
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.shape == ref.shape, f"{what}: shape {ours.shape} != reference {ref.shape}"
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=atol, err_msg=what)
