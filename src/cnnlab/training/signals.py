"""Graceful stop requests (SIGTERM, Ctrl-C) while the Solver trains."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType, TracebackType
from typing import Any


class StopRequests:
    """Context manager that turns SIGTERM and a first SIGINT into a stop request.

    While it is active, they only record the request (``requested`` becomes the signal's name) so
    that training can end at the next iteration boundary and save a checkpoint; a second SIGINT
    raises KeyboardInterrupt, but never inside a :meth:`step` block: there it is held back and
    raised when the block ends, so a training step is never cut in half (batch-norm statistics,
    dropout counters and the parameters all belong to the same completed step).

    Handlers are installed only from the main thread (Python allows no other), and SIGINT
    only if it still has Python's default handler. The previous handlers come back on exit.
    """

    def __init__(self) -> None:
        self.requested: str | None = None
        self._previous: dict[int, Any] = {}
        self._in_step = False
        self._held = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGINT and self.requested is not None:
            if self._in_step:
                self._held = True
                return
            raise KeyboardInterrupt
        self.requested = signal.Signals(signum).name

    @contextlib.contextmanager
    def step(self) -> Iterator[None]:
        """A block that a second Ctrl-C does not interrupt; it is raised at the block's end."""
        self._in_step = True
        try:
            yield
        finally:
            self._in_step = False
        if self._held:
            self._held = False
            raise KeyboardInterrupt

    def __enter__(self) -> StopRequests:
        if threading.current_thread() is threading.main_thread():
            wanted = [signal.SIGTERM]
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                wanted.append(signal.SIGINT)
            for signum in wanted:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
