"""Stopping a long-running process on SIGTERM/SIGINT without deadlocking.

A handler that calls `threading.Event.set()` can deadlock against the `Event.wait()` it
interrupted (both take the event's lock, and the handler runs inside the waiting thread).
Here the handler only records the signal and the main thread polls for it.
"""

from __future__ import annotations

import signal
import time


class StopSignals:
    def __init__(self, signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT)) -> None:
        self.received: list[int] = []
        for sig in signals:
            signal.signal(sig, self._record)

    def _record(self, signum: int, _frame: object) -> None:
        self.received.append(signum)

    def __bool__(self) -> bool:
        return bool(self.received)

    def wait(self, poll_s: float = 0.2) -> int:
        """Blocks the calling (main) thread until a signal arrives; returns it."""
        while not self.received:
            time.sleep(poll_s)  # a signal interrupts the sleep and the handler runs at once
        return self.received[0]
