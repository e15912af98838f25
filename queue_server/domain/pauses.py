"""Paused periods of windows (暂停时长) from their log of state changes — pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable, Iterable


@dataclass(frozen=True)
class StateChange:
    window: str
    state: str  # open | paused | closed
    reason: str | None
    clerk: str | None
    at: datetime


@dataclass(frozen=True)
class Pause:
    window: str
    clerk: str | None
    reason: str
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def pauses(changes: Iterable[StateChange], closes: Callable[[date], datetime], now: datetime) -> list[Pause]:
    """Each pause lasts until its window's next change; one never changed back ends when the
    hall closes that day (a window left paused at night is not paused all night), or now."""
    out: list[Pause] = []
    open_pause: dict[str, StateChange] = {}

    def end(p: StateChange, at: datetime) -> None:
        stop = min(at, closes(p.at.date()), now)
        if stop > p.at:
            out.append(Pause(p.window, p.clerk, p.reason or "away", p.at, stop))

    for c in sorted(changes, key=lambda c: c.at):
        if c.window in open_pause:
            end(open_pause.pop(c.window), c.at)
        if c.state == "paused":
            open_pause[c.window] = c
    for p in open_pause.values():
        end(p, now)
    return sorted(out, key=lambda p: (p.start, p.window))
