"""Deadlines in working days (China's official calendar), the status machine and the 电子监察
alert level — pure functions, dates in, dates out."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from yizhan.clock import ManualClock
from queue_server.domain.cases import (
    Alert,
    CaseStatus,
    case_number,
    may_move,
    normalize_number,
    promised_deadline,
    seq_of,
    watch,
)
from queue_server.domain.hours import official_working_day as is_working_day  # the hall has no exceptions


@pytest.mark.parametrize(
    ("accepted", "days", "deadline"),
    [
        ("2026-11-23", 0, "2026-11-23"),  # 即收即办: the same day
        ("2026-11-23", 5, "2026-11-30"),  # Monday + 5: the weekend does not count
        ("2026-11-27", 1, "2026-11-30"),  # Friday + 1: Monday
        ("2026-11-28", 1, "2026-11-30"),  # accepted on a Saturday (extended opening): Monday
        # National Day 2026: 1–7 October off, Saturday 10 October a make-up working day.
        ("2026-09-30", 1, "2026-10-08"),
        ("2026-09-30", 3, "2026-10-10"),
        ("2026-09-30", 4, "2026-10-12"),
        # Spring Festival 2026: 15–23 February off, Saturday 14 and 28 February make-up days.
        ("2026-02-13", 1, "2026-02-14"),
        ("2026-02-13", 2, "2026-02-24"),
        ("2026-02-13", 20, "2026-03-19"),  # 14th, 24th–28th, then three weeks of March
    ],
)
def test_deadline_in_official_working_days(accepted: str, days: int, deadline: str):
    assert promised_deadline(date.fromisoformat(accepted), days, is_working_day) == date.fromisoformat(deadline)


def test_deadline_from_the_hall_clock():
    # The acceptance day is the hall's date, not UTC's: 07:30 in Shanghai is still the day before in UTC.
    clock = ManualClock(datetime.fromisoformat("2026-09-30T07:30:00+08:00"))
    today = clock.now().astimezone(clock.tz).date()
    assert clock.now().astimezone(__import__("datetime").timezone.utc).date() == date(2026, 9, 29)
    assert promised_deadline(today, 1, is_working_day) == date(2026, 10, 8)


def test_status_machine():
    A, P, D, R = CaseStatus.ACCEPTED, CaseStatus.PROCESSING, CaseStatus.DONE, CaseStatus.RETURNED
    allowed = {(a, b) for a in CaseStatus for b in CaseStatus if may_move(a, b)}
    assert allowed == {(A, P), (A, D), (A, R), (P, D), (P, R)}


@pytest.mark.parametrize(
    ("deadline", "today", "alert", "late", "left"),
    [
        ("2026-11-30", "2026-11-23", Alert.NONE, 0, 5),
        ("2026-11-30", "2026-11-27", Alert.DUE_SOON, 0, 1),  # Friday: due on the next working day
        ("2026-11-30", "2026-11-30", Alert.DUE_SOON, 0, 0),  # due today
        ("2026-11-30", "2026-12-01", Alert.YELLOW, 1, 0),  # one working day late: 黄牌
        ("2026-11-30", "2026-12-02", Alert.RED, 2, 0),  # two: 红牌
        ("2026-11-27", "2026-11-28", Alert.YELLOW, 1, 0),  # past a Friday deadline on Saturday: late, 黄牌
        ("2026-09-30", "2026-10-08", Alert.YELLOW, 1, 0),  # the holiday week does not count against the window
    ],
)
def test_watch(deadline, today, alert, late, left):
    w = watch(date.fromisoformat(deadline), date.fromisoformat(today), CaseStatus.PROCESSING, is_working_day)
    assert (w.alert, w.overdue_days, w.days_left) == (alert, late, left)


def test_closed_cases_raise_no_alert():
    for status in (CaseStatus.DONE, CaseStatus.RETURNED):
        assert watch(date(2026, 1, 5), date(2026, 11, 23), status, is_working_day).alert is Alert.NONE


def test_case_numbers_are_digits_a_kiosk_keypad_can_enter():
    n = case_number(date(2026, 11, 23), 7)
    assert n == "202611230007" and n.isdigit() and seq_of(n) == 7
    assert seq_of(case_number(date(2026, 11, 23), 12345)) == 12345
    assert normalize_number(" 20261123 0007 ") == n and normalize_number("20261123-0007") == n
