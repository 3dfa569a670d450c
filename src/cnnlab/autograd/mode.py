"""Whether ops are recorded on the tape: on by default, off inside ``with no_grad():``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

_enabled = True


def is_grad_enabled() -> bool:
    """True when new ops are recorded (outside every ``no_grad`` block)."""
    return _enabled


@contextmanager
def no_grad() -> Iterator[None]:
    """Record nothing inside the block: results do not require grad and keep no caches.

    Use it for evaluation and for in-place parameter updates. Works as a decorator too
    (``@no_grad()``). Blocks nest; the previous mode is restored on exit, also after an error.
    """
    global _enabled
    previous, _enabled = _enabled, False
    try:
        yield
    finally:
        _enabled = previous
