"""Graceful stop requests (SIGTERM, a first Ctrl-C) while the Solver trains."""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any


class StopRequests:
    """Context manager: while active, SIGTERM and a first SIGINT only record a stop request
    (``requested`` becomes the signal's name) so that training can end at the next iteration
    boundary and save a checkpoint; a second SIGINT raises KeyboardInterrupt as usual.

    Handlers are installed only from the main thread (Python allows no other), and SIGINT
    only if it still has Python's default handler. The previous handlers come back on exit.
    """

    def __init__(self) -> None:
        self.requested: str | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGINT and self.requested is not None:
            raise KeyboardInterrupt
        self.requested = signal.Signals(signum).name

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
