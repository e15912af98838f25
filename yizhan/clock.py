"""The hall's clock. Everything that needs "now" gets a Clock injected.

`YIZHAN_NOW` (ISO 8601 with offset) starts the clock at that instant and lets it
run on, for demos, training and tests outside opening hours.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    tz: tzinfo

    def now(self) -> datetime:
        """An aware datetime in the hall's time zone."""
        ...


class SystemClock:
    def __init__(self, tz: tzinfo | str = "Asia/Shanghai") -> None:
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz

    def now(self) -> datetime:
        return datetime.now(self.tz)


class ShiftedClock:
    """Starts at `start` and runs on at real speed (monotonic, immune to NTP steps)."""

    def __init__(self, start: datetime, tz: tzinfo | str = "Asia/Shanghai") -> None:
        if start.tzinfo is None:
            raise ValueError("YIZHAN_NOW needs a UTC offset, e.g. 2026-11-23T09:00:00+08:00")
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self._start = start
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        return (self._start + timedelta(seconds=time.monotonic() - self._t0)).astimezone(self.tz)


class ManualClock:
    """A clock that only moves when told to; for tests."""

    def __init__(self, start: datetime, tz: tzinfo | str = "Asia/Shanghai") -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self._now = start.astimezone(self.tz)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float = 0, **kw: float) -> datetime:
        with self._lock:
            self._now = self._now + timedelta(seconds=seconds, **kw)
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when.astimezone(self.tz)


def clock_from_env(tz: tzinfo | str = "Asia/Shanghai", environ: dict[str, str] | None = None) -> Clock:
    env = os.environ if environ is None else environ
    start = env.get("YIZHAN_NOW", "").strip()
    if start:
        try:
            when = datetime.fromisoformat(start)
        except ValueError as exc:
            raise ValueError(f"YIZHAN_NOW={start!r} is not ISO 8601: {exc}") from None
        return ShiftedClock(when, tz)
    return SystemClock(tz)
