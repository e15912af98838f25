"""办件 rules, pure: case numbers, promised deadlines in working days, the status machine and
the 电子监察 alert level. Working days come in as a function (chinese-calendar in the server,
anything in tests), "today" as a value — no clock or I/O here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum
from typing import Callable

WorkdayFn = Callable[[date], bool]


class CaseStatus(str, Enum):
    ACCEPTED = "accepted"  # 已受理
    PROCESSING = "processing"  # 办理中
    DONE = "done"  # 已办结，可领取
    RETURNED = "returned"  # 已退回（补正材料）


OPEN_STATUSES = (CaseStatus.ACCEPTED, CaseStatus.PROCESSING)

# Which status may follow which: a case moves forward only; done and returned are final
# (a returned application comes back as a new case when the citizen brings the materials).
_NEXT: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.ACCEPTED: frozenset({CaseStatus.PROCESSING, CaseStatus.DONE, CaseStatus.RETURNED}),
    CaseStatus.PROCESSING: frozenset({CaseStatus.DONE, CaseStatus.RETURNED}),
    CaseStatus.DONE: frozenset(),
    CaseStatus.RETURNED: frozenset(),
}


def may_move(current: CaseStatus, target: CaseStatus) -> bool:
    return target in _NEXT[current]


def add_working_days(day: date, n: int, is_workday: WorkdayFn) -> date:
    """The n-th working day after `day`; n = 0 gives `day` itself."""
    d = day
    while n > 0:
        d += timedelta(days=1)
        if is_workday(d):
            n -= 1
    return d


def promised_deadline(accepted_on: date, promised_days: int, is_workday: WorkdayFn) -> date:
    """The last day of the promise. The day of acceptance does not count (期间开始之日不计算在内),
    so N working days end on the N-th working day after it; 0 days (即收即办) is the same day."""
    return add_working_days(accepted_on, promised_days, is_workday)


def working_days_between(start: date, end: date, is_workday: WorkdayFn) -> int:
    """Working days in (start, end]; 0 when end <= start."""
    count, d = 0, start
    while d < end:
        d += timedelta(days=1)
        if is_workday(d):
            count += 1
    return count


class Alert(str, Enum):
    NONE = "none"  # closed, or plenty of time
    DUE_SOON = "due_soon"  # due today or on the next working day: amber (超期预警)
    YELLOW = "yellow"  # past the deadline by up to 1 working day: 黄牌
    RED = "red"  # past the deadline by 2 or more working days: 红牌


@dataclass(frozen=True)
class Watch:
    alert: Alert
    overdue_days: int = 0  # working days past the deadline
    days_left: int = 0  # working days left after today (0 = due today)


def watch(deadline: date, today: date, status: CaseStatus, is_workday: WorkdayFn) -> Watch:
    """电子监察 for one case on `today`."""
    if status not in OPEN_STATUSES:
        return Watch(Alert.NONE)
    if today > deadline:
        late = working_days_between(deadline, today, is_workday)
        return Watch(Alert.RED if late >= 2 else Alert.YELLOW, overdue_days=max(late, 1))
    left = working_days_between(today, deadline, is_workday)
    return Watch(Alert.DUE_SOON if left <= 1 else Alert.NONE, days_left=left)


_NUMBER_RE = re.compile(r"^\d{8}\d{4,}$")


def case_number(accepted_on: date, seq: int) -> str:
    """'202611230007': the date of acceptance and the hall's running number of that day.
    Digits only, so a citizen can key it in on the kiosk's numeric keypad from the receipt."""
    return f"{accepted_on:%Y%m%d}{seq:04d}"


def number_prefix(accepted_on: date) -> str:
    return f"{accepted_on:%Y%m%d}"


def seq_of(number: str) -> int:
    return int(number[8:]) if _NUMBER_RE.match(number) else 0


def normalize_number(text: str) -> str:
    """What a clerk or a citizen typed ('2026 1123 0007', '20261123-0007') → the stored form."""
    return re.sub(r"[\s-]", "", text or "")
