"""Schedule factors at hand-computed points."""

from __future__ import annotations

import pytest

from cnnlab.training.schedules import (
    Constant,
    CosineDecay,
    ExponentialDecay,
    OneCycle,
    StepDecay,
    Triangular,
)


def values(schedule, epochs):
    return [schedule(e) for e in epochs]


def test_constant():
    assert values(Constant(), [0, 3.5, 100]) == [1.0, 1.0, 1.0]


def test_exponential_decay_changes_once_per_epoch():
    assert values(ExponentialDecay(0.5), [0, 0.99, 1, 1.5, 2.5]) == [1, 1, 0.5, 0.5, 0.25]


def test_step_decay():
    got = values(StepDecay(step_epochs=2, gamma=0.1), [0, 1.9, 2, 3.99, 4])
    assert got == pytest.approx([1, 1, 0.1, 0.1, 0.01], rel=1e-15)


def test_cosine_decay():
    assert values(CosineDecay(10), [0, 5, 10, 12]) == pytest.approx([1, 0.5, 0, 0], abs=1e-15)
    # cos(pi/4) = sqrt(2)/2: factor (1 + sqrt(2)/2) / 2 at a quarter of the way
    assert CosineDecay(8)(2) == pytest.approx((1 + 2**0.5 / 2) / 2, rel=1e-15)
    assert CosineDecay(10, min_factor=0.1)(5) == pytest.approx(0.55, rel=1e-15)
    warm = CosineDecay(10, warmup_epochs=2)
    assert values(warm, [0, 1, 2, 6, 10]) == pytest.approx([0, 0.5, 1, 0.5, 0], abs=1e-15)


def test_one_cycle():
    """Up from 1/25 to 1 over the first 30 %, down to 1/25/1e4 = 4e-6 at the end."""
    cycle = OneCycle(10)
    got = values(cycle, [0, 1.5, 3, 6.5, 10, 11])
    want = [0.04, (1 + 0.04) / 2, 1, (1 + 4e-6) / 2, 4e-6, 4e-6]
    assert got == pytest.approx(want, rel=1e-12)


def test_triangular():
    got = values(Triangular(half_cycle_epochs=2, min_factor=0.1), [0, 1, 2, 3, 4, 5, 6])
    assert got == pytest.approx([0.1, 0.55, 1, 0.55, 0.1, 0.55, 1], rel=1e-15)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: ExponentialDecay(0), "ExponentialDecay: gamma must be > 0"),
        (lambda: StepDecay(0), "StepDecay: step_epochs must be > 0"),
        (lambda: CosineDecay(5, warmup_epochs=5), "CosineDecay: need 0 <= warmup_epochs"),
        (lambda: CosineDecay(5, min_factor=2), "CosineDecay: min_factor must be in"),
        (lambda: OneCycle(10, pct_start=1), "OneCycle: pct_start must be in"),
        (lambda: OneCycle(0), "OneCycle: total_epochs must be > 0"),
        (lambda: Triangular(2, min_factor=-1), "Triangular: min_factor must be in"),
    ],
)
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()
