"""Learning-rate schedules.

Protocol: a schedule is a callable ``factor = schedule(epoch)`` where ``epoch`` is the training
progress measured in epochs, a float (``iteration / iterations_per_epoch``; 2.5 is the middle
of the third epoch), and ``factor`` multiplies the base learning rate given in the optimiser
config. The Solver calls it before every update::

    config["learning_rate"] = base_learning_rate * schedule(t / iterations_per_epoch)

so any plain function of one float works as a schedule too. The classes below are small frozen
dataclasses that check their arguments.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

Schedule = Callable[[float], float]


def _check(name: str, condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(f"{name}: {message}")


def _check_min_factor(name: str, min_factor: float) -> None:
    _check(name, 0 <= min_factor <= 1, f"min_factor must be in [0, 1], got {min_factor}")


def _between(low: float, high: float, weight: float) -> float:
    """``low`` at weight 0, ``high`` at weight 1, linear in between."""
    return low + (high - low) * weight


def _cosine(progress: float) -> float:
    """Half a cosine from 1 (progress 0) down to 0 (progress 1); progress is clipped."""
    return 0.5 * (1.0 + math.cos(math.pi * min(max(progress, 0.0), 1.0)))


@dataclass(frozen=True)
class Constant:
    """Factor 1 forever."""

    def __call__(self, epoch: float) -> float:
        """The learning-rate factor at the (fractional) ``epoch``."""
        return 1.0


@dataclass(frozen=True)
class ExponentialDecay:
    """``gamma ** floor(epoch)``: the learning rate is multiplied by gamma after every epoch.

    This is CS231n's ``lr_decay`` (``Solver(lr_decay=0.95)`` uses ``ExponentialDecay(0.95)``).
    """

    gamma: float

    def __post_init__(self) -> None:
        _check("ExponentialDecay", self.gamma > 0, f"gamma must be > 0, got {self.gamma}")

    def __call__(self, epoch: float) -> float:
        """The learning-rate factor at the (fractional) ``epoch``."""
        return self.gamma ** math.floor(epoch)


@dataclass(frozen=True)
class StepDecay:
    """``gamma ** floor(epoch / step_epochs)`` (PyTorch's StepLR counted in epochs)."""

    step_epochs: float
    gamma: float = 0.1

    def __post_init__(self) -> None:
        _check(
            "StepDecay", self.step_epochs > 0, f"step_epochs must be > 0, got {self.step_epochs}"
        )
        _check("StepDecay", self.gamma > 0, f"gamma must be > 0, got {self.gamma}")

    def __call__(self, epoch: float) -> float:
        """The learning-rate factor at the (fractional) ``epoch``."""
        return self.gamma ** math.floor(epoch / self.step_epochs)


@dataclass(frozen=True)
class CosineDecay:
    """Linear warm-up from 0 over ``warmup_epochs``, then half a cosine down to ``min_factor``.

    The cosine goes from 1 down to ``min_factor`` at ``total_epochs`` (and stays at ``min_factor``
    after it).
    """

    total_epochs: float
    min_factor: float = 0.0
    warmup_epochs: float = 0.0

    def __post_init__(self) -> None:
        _check(
            "CosineDecay",
            0 <= self.warmup_epochs < self.total_epochs,
            f"need 0 <= warmup_epochs < total_epochs, got {self.warmup_epochs} and "
            f"{self.total_epochs}",
        )
        _check_min_factor("CosineDecay", self.min_factor)

    def __call__(self, epoch: float) -> float:
        """The learning-rate factor at the (fractional) ``epoch``."""
        if epoch < self.warmup_epochs:
            return epoch / self.warmup_epochs
        progress = (epoch - self.warmup_epochs) / (self.total_epochs - self.warmup_epochs)
        return _between(self.min_factor, 1.0, _cosine(progress))


@dataclass(frozen=True)
class OneCycle:
    """The one-cycle policy (Smith & Topin; PyTorch's OneCycleLR, cosine annealing).

    The factor rises from ``1 / div_factor`` to 1 during the first ``pct_start`` of
    ``total_epochs`` (half a cosine), then falls to ``1 / (div_factor * final_div_factor)``
    at ``total_epochs``. Use it with the peak learning rate as the base learning rate.
    """

    total_epochs: float
    pct_start: float = 0.3
    div_factor: float = 25.0
    final_div_factor: float = 1e4

    def __post_init__(self) -> None:
        _check(
            "OneCycle", self.total_epochs > 0, f"total_epochs must be > 0, got {self.total_epochs}"
        )
        _check(
            "OneCycle", 0 < self.pct_start < 1, f"pct_start must be in (0, 1), got {self.pct_start}"
        )
        _check(
            "OneCycle",
            self.div_factor >= 1 and self.final_div_factor >= 1,
            f"div_factor and final_div_factor must be >= 1, got {self.div_factor} and "
            f"{self.final_div_factor}",
        )

    def __call__(self, epoch: float) -> float:
        """The learning-rate factor at the (fractional) ``epoch``."""
        start = 1.0 / self.div_factor
        end = start / self.final_div_factor
        peak_epoch = self.pct_start * self.total_epochs
        if epoch < peak_epoch:
            return _between(1.0, start, _cosine(epoch / peak_epoch))
        progress = (epoch - peak_epoch) / (self.total_epochs - peak_epoch)
        return _between(end, 1.0, _cosine(progress))


@dataclass(frozen=True)
class Triangular:
    """Cyclical learning rate (Smith 2017, "triangular" policy).

    The factor goes linearly from ``min_factor`` up to 1 over ``half_cycle_epochs`` and back
    down over the next ``half_cycle_epochs``, forever.
    """

    half_cycle_epochs: float
    min_factor: float = 0.1

    def __post_init__(self) -> None:
        _check(
            "Triangular",
            self.half_cycle_epochs > 0,
            f"half_cycle_epochs must be > 0, got {self.half_cycle_epochs}",
        )
        _check_min_factor("Triangular", self.min_factor)

    def __call__(self, epoch: float) -> float:
        """The learning-rate factor at the (fractional) ``epoch``."""
        phase = (epoch / self.half_cycle_epochs) % 2.0  # 0..1 rising, 1..2 falling
        height = 1.0 - abs(phase - 1.0)
        return _between(self.min_factor, 1.0, height)
