"""Shared fixtures.

Tests marked ``realdata`` read the real datasets from ``$CNNLAB_DATA`` or, by default, from
``../shared/data`` next to the repository. Where neither exists they are skipped with a reason
that says how to enable them, so the test command passes on a fresh clone; with
``CNNLAB_REQUIRE_DATA=1`` (set by ``.ci/run``) a missing data folder fails them instead, so CI
can never skip them silently.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
REQUIRE_DATA_VAR = "CNNLAB_REQUIRE_DATA"


@pytest.fixture(scope="session")
def data_root() -> Path:
    """Directory holding the real datasets (cifar10-jpeg.zip, mnist/)."""
    env = os.environ.get("CNNLAB_DATA")
    root = Path(env) if env else REPO.parent / "shared" / "data"
    if not root.is_dir():
        message = (
            f"real data not found at {root}: set CNNLAB_DATA to the folder holding "
            "cifar10-jpeg.zip and mnist/ to run the realdata tests"
        )
        if os.environ.get(REQUIRE_DATA_VAR, "") not in ("", "0"):
            pytest.fail(f"{message} ({REQUIRE_DATA_VAR} is set, so they may not be skipped)")
        pytest.skip(message)
    return root


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh, seeded generator for each test."""
    return np.random.default_rng(0)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "faults: the fault battery (signals at random moments, kills, concurrent runs, a full "
        "disk), each a real `cnnlab train` process; about a minute",
    )
