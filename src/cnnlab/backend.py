"""Array-module selection.

Every op takes and returns arrays of the module returned by :func:`get_array_module`. Today that
is always NumPy; a CuPy backend can be added here without touching the ops, which only call
``xp = get_array_module(x)``.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np


def get_array_module(*arrays: object) -> ModuleType:
    """Return the array module (``numpy``) that owns ``arrays``."""
    return np
