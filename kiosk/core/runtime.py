"""Threads and timers for the Kivy-free core.

Blocking work (HTTP, card reads, printing) runs on worker threads; its result is handed
back through `post`, which the UI implements with Kivy's `Clock.schedule_once` (so every
state change happens on the UI thread) and the core tests with a plain queue.
Timers run on the injected hall clock, so tests move time with a ManualClock.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from yizhan.clock import Clock

logger = logging.getLogger(__name__)

Post = Callable[[Callable[[], None]], None]


class Worker:
    """Runs `work()` off the UI thread and posts `done(result, error)` back to it."""

    def __init__(self, post: Post, threads: int = 3) -> None:
        self._post = post
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="kiosk-work")
        self._closed = False

    def submit(self, work: Callable[[], Any], done: Callable[[Any, BaseException | None], None]) -> None:
        if self._closed:
            return

        def run() -> None:
            try:
                result, error = work(), None
            except BaseException as exc:  # handed to the UI thread, which decides
                result, error = None, exc
            if not self._closed:
                self._post(lambda: done(result, error))

        self._pool.submit(run)

    def shutdown(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)


@dataclass(order=True)
class _Timer:
    due: datetime
    seq: int
    fn: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)


class Timers:
    """One-shot timers on the hall clock; `fire_due()` is called on the UI thread a few times a second."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._timers: list[_Timer] = []
        self._seq = itertools.count()

    def after(self, seconds: float, fn: Callable[[], None]) -> _Timer:
        t = _Timer(self.clock.now() + timedelta(seconds=seconds), next(self._seq), fn)
        self._timers.append(t)
        return t

    @staticmethod
    def cancel(timer: _Timer | None) -> None:
        if timer is not None:
            timer.cancelled = True

    def fire_due(self) -> None:
        now = self.clock.now()
        due = sorted(t for t in self._timers if not t.cancelled and t.due <= now)
        self._timers = [t for t in self._timers if not t.cancelled and t.due > now]
        for t in due:
            if not t.cancelled:
                t.fn()

    def remaining(self, timer: _Timer | None) -> float:
        if timer is None or timer.cancelled:
            return 0.0
        return max(0.0, (timer.due - self.clock.now()).total_seconds())


class QueuePost:
    """`post` for running the core without Kivy (tests, benchmarks): callbacks wait in a queue
    until `drain()` runs them on the caller's thread."""

    def __init__(self) -> None:
        self._q: queue.Queue[Callable[[], None]] = queue.Queue()

    def __call__(self, fn: Callable[[], None]) -> None:
        self._q.put(fn)

    def drain(self, timeout: float = 0.0) -> int:
        n = 0
        try:
            fn = self._q.get(timeout=timeout) if timeout else self._q.get_nowait()
        except queue.Empty:
            return 0
        while True:
            fn()
            n += 1
            try:
                fn = self._q.get_nowait()
            except queue.Empty:
                return n


def run_on_thread(name: str, target: Callable[[], None]) -> threading.Thread:
    th = threading.Thread(target=target, name=name, daemon=True)
    th.start()
    return th
