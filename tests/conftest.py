"""Shared fixtures.

Tests marked ``realdata`` read the real datasets from ``$CNNLAB_DATA`` or, by default, from
``../shared/data`` next to the repository. They fail (not skip) when the data is missing, so a
missing dataset can never hide behind a skip; deselect them with ``-m "not realdata"``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def data_root() -> Path:
    """Directory holding the real datasets (cifar10-jpeg.zip, mnist/)."""
    env = os.environ.get("CNNLAB_DATA")
    root = Path(env) if env else REPO.parent / "shared" / "data"
    if not root.is_dir():
        pytest.fail(
            f"real data not found at {root}; set CNNLAB_DATA or deselect with -m 'not realdata'"
        )
    return root


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh, seeded generator for each test."""
    return np.random.default_rng(0)
