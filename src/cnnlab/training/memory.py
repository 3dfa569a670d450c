"""How much memory a training run needs, against how much the machine has.

The estimate measures instead of modelling every layer: one training step on a single input,
traced with :mod:`tracemalloc` (NumPy reports its allocations to it), gives the peak memory of
a step; less the gradients (one copy of the parameters), that is the memory per sample
(activations, caches, convolution workspaces and their reusable buffers). The run then needs
about

    per_sample * max(batch_size, 100) + parameters * (optimiser slots + 4)

(evaluation runs batches of 100; the parameters, their gradients, the optimiser's
per-parameter arrays, the best model kept aside and the new values of an update). This errs on
the high side: it is meant to refuse runs that cannot fit, not to predict usage to the byte.
The probe step does not change the model: its state is put back afterwards.
"""

from __future__ import annotations

import math
import os
import re
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab.training.state import get_model_state, set_model_state

ENV_VAR = "CNNLAB_MAX_MEMORY"
OPTIMISER_SLOTS = {"sgd": 0, "sgd_momentum": 1, "rmsprop": 1, "adam": 2, "adamw": 2}
EVAL_BATCH = 100  # the Solver's accuracy batches
USABLE = 0.8  # share of the available memory a run may plan to take (the rest: OS, page cache)
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def format_bytes(n: float) -> str:
    """``n`` bytes as a short human-readable figure (``1.5 GiB``)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def parse_size(text: str) -> float:
    """``'512M'``, ``'8G'``, ``'8GiB'``, ``'1e9'`` -> bytes; ``'inf'`` -> infinity.

    Raises ValueError naming the environment variable for anything else.
    """
    match = re.fullmatch(r"\s*([0-9.eE+]+|inf)\s*([KMGT]?)(i?B)?\s*", text, flags=re.IGNORECASE)
    try:
        value = float(match.group(1)) if match else float("nan")
    except ValueError:
        value = float("nan")
    if not match or math.isnan(value) or value < 0:
        raise ValueError(
            f"{ENV_VAR}={text!r} is not a size; give bytes or a number with K, M, G or T "
            "(for example 16G), or inf to turn the memory check off"
        )
    return value * _UNITS[match.group(2).upper()]


def available_memory() -> float:
    """Bytes this process can still use.

    ``MemAvailable`` of /proc/meminfo, capped by the cgroup's limit when there is one; the free
    physical pages when neither is known.
    """
    found = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    except OSError:
        pass
    cgroup = Path("/sys/fs/cgroup")
    try:
        limit = (cgroup / "memory.max").read_text().strip()
        if limit != "max":
            found.append(int(limit) - int((cgroup / "memory.current").read_text()))
    except (OSError, ValueError):
        pass
    if not found:
        found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    return float(min(found))


def _traced_step(model: Any, X: np.ndarray, y: np.ndarray) -> int:
    """Peak bytes NumPy allocates during ``model.loss(X, y)`` beyond what was allocated before.

    The model's state is put back afterwards.
    """
    state = get_model_state(model)
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        model.loss(X, y)
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        if not tracing:
            tracemalloc.stop()
        set_model_state(model, state)


def estimate_training_memory(
    model: Any, x: np.ndarray, y: np.ndarray, batch_size: int, update_rule: str
) -> dict[str, float]:
    """Bytes a training run of ``model`` needs, measured with one step on one sample.

    Args:
        model: a Solver model (``params``, ``loss(X, y)``, optionally ``state_dict``).
        x: (1, ...) one training input.
        y: (1,) its label.
        batch_size: the run's minibatch size.
        update_rule: a name in :data:`OPTIMISER_SLOTS` (others count as two slots).

    Returns:
        ``{"total", "parameters", "per_sample"}`` in bytes.
    """
    parameters = float(sum(np.asarray(w).nbytes for w in model.params.values()))
    per_sample = max(_traced_step(model, x, y) - parameters, 0.0)
    slots = OPTIMISER_SLOTS.get(update_rule, 2) + 4
    total = per_sample * max(batch_size, EVAL_BATCH) + parameters * slots
    return {"total": total, "parameters": parameters, "per_sample": per_sample}


def check_training_memory(
    model: Any, x: np.ndarray, y: np.ndarray, batch_size: int, update_rule: str
) -> dict[str, float]:
    """Refuse a run that needs more memory than the machine has (or ``$CNNLAB_MAX_MEMORY``).

    Arguments as :func:`estimate_training_memory`; returns its estimate.

    Raises:
        MemoryError: with the estimate, the limit and how to override it.
    """
    setting = os.environ.get(ENV_VAR)
    limit = parse_size(setting) if setting else USABLE * available_memory()
    if math.isinf(limit):
        return {}
    need = estimate_training_memory(model, x, y, batch_size, update_rule)
    if need["total"] > limit:
        source = f"the limit {ENV_VAR}={setting}" if setting else f"{USABLE:.0%} of the free memory"
        raise MemoryError(
            f"training needs about {format_bytes(need['total'])} (parameters "
            f"{format_bytes(need['parameters'])}, {format_bytes(need['per_sample'])} per sample x "
            f"{max(batch_size, EVAL_BATCH)} samples, optimiser state), more than "
            f"{format_bytes(limit)} ({source}); use a smaller batch or model, or set {ENV_VAR} "
            "to a larger size (inf turns the check off)"
        )
    return need
