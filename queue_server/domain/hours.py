"""Opening hours and the hall's working days (chinese-calendar for official holidays)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import chinese_calendar

from yizhan.config.model import Hours, WorkCalendar

logger = logging.getLogger(__name__)
_warned_years: set[int] = set()


@lru_cache(maxsize=8192)  # lists of cases count days one date at a time; the library takes tens of µs
def official_working_day(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        # chinese-calendar only knows years whose holidays the State Council has published.
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            logger.warning("no official holiday calendar for %s; assuming Monday–Friday unless hall.yaml's calendar says otherwise", day.year)
        return day.weekday() < 5


def is_working_day(day: date, cal: WorkCalendar) -> bool:
    """The hall's working day: its own calendar first (闭厅, 调休), then the official one."""
    if day in cal.holidays:
        return False
    if day in cal.workdays:
        return True
    return official_working_day(day)


def is_open_day(hours: Hours, day: date, cal: WorkCalendar) -> bool:
    if hours.days == "every_day":
        return True
    if hours.days == "workdays":
        return is_working_day(day, cal)
    return day.isoweekday() in hours.days


@dataclass(frozen=True)
class IssueWindow:
    open: bool
    closes_at: datetime | None = None


def issuing_open(hours: Hours, now: datetime, cal: WorkCalendar) -> IssueWindow:
    """Whether tickets may be issued now (opening hours minus the stop-issuing margin)."""
    if not is_open_day(hours, now.date(), cal):
        return IssueWindow(False)
    t = now.time()
    margin = timedelta(minutes=hours.stop_issuing_before_close_min)
    for span in hours.spans():
        end = datetime.combine(now.date(), span.end, now.tzinfo) - margin
        if span.start <= t and now < end:
            return IssueWindow(True, datetime.combine(now.date(), span.end, now.tzinfo))
    return IssueWindow(False)


def hours_text(hours: Hours) -> str:
    return "、".join(str(s) for s in hours.spans())


def next_working_day(day: date, n: int, cal: WorkCalendar) -> date:
    """The n-th working day after `day` (deadlines in working days)."""
    d = day
    left = n
    while left > 0:
        d += timedelta(days=1)
        if is_working_day(d, cal):
            left -= 1
    return d
