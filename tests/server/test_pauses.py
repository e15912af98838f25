"""Window pauses: the reason a clerk gives, the window log, and 暂停时长 in the statistics."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from queue_server import stats
from queue_server.db.tables import Outbox, WindowLog
from queue_server.domain.model import WindowState
from queue_server.domain.pauses import StateChange, pauses
from queue_server.service import Actor, CommandError, HallService
from tests.fixtures_hall import small_hall
from yizhan.clock import ManualClock
from yizhan.config.model import HallConfig

MON = datetime.fromisoformat("2026-11-23T09:00:00+08:00")
WANG = Actor("clerk", "王芳", "01")


def at(hh_mm: str, day: datetime = MON) -> datetime:
    h, m = map(int, hh_mm.split(":"))
    return day.replace(hour=h, minute=m)


def closes(d: date) -> datetime:
    return datetime.combine(d, datetime.min.time(), MON.tzinfo).replace(hour=17, minute=30)


def test_a_pause_lasts_until_its_windows_next_change_or_the_close_of_the_day():
    log = [
        StateChange("01", "open", None, "王芳", at("09:00")),
        StateChange("02", "paused", "meal", "李娜", at("11:50")),
        StateChange("01", "paused", "meeting", "王芳", at("10:00")),
        StateChange("01", "paused", "away", "王芳", at("10:40")),  # another reason: a new pause
        StateChange("01", "open", None, "王芳", at("10:45")),
        StateChange("01", "paused", "away", "王芳", at("17:00")),  # left paused at night
    ]
    got = [(p.window, p.reason, p.start.strftime("%H:%M"), p.end.strftime("%H:%M")) for p in pauses(log, closes, now=at("09:00", MON + timedelta(days=1)))]
    assert got == [("01", "meeting", "10:00", "10:40"), ("01", "away", "10:40", "10:45"),
                   ("02", "meal", "11:50", "17:30"), ("01", "away", "17:00", "17:30")]
    # during the day an open pause counts until now
    assert [(p.window, p.end) for p in pauses(log[:3], closes, now=at("12:00"))] == [("01", at("12:00")), ("02", at("12:00"))]


@pytest.fixture
def hall(db):
    clock = ManualClock(MON)
    svc = HallService(HallConfig.model_validate(small_hall(windows=2)), db, clock)
    svc.ensure_windows()
    return svc, clock


def test_a_clerk_pauses_with_a_reason_and_the_statistics_sum_it(hall):
    svc, clock = hall
    svc.set_window_state("01", WindowState.OPEN, WANG)
    clock.advance(minutes=60)
    svc.set_window_state("01", WindowState.PAUSED, WANG, "meeting")            # 10:00
    clock.advance(minutes=5)
    svc.set_window_state("01", WindowState.PAUSED, WANG, "meeting")            # a second tap: the same pause
    clock.advance(minutes=15)
    svc.set_window_state("01", WindowState.OPEN, WANG)                         # 10:20
    clock.advance(minutes=400)
    svc.set_window_state("01", WindowState.PAUSED, Actor("device", "bus-1"))   # 17:00, the keypad: 临时离开
    with svc.db.read() as s:
        log = [(r.state, r.reason, r.clerk) for r in s.scalars(select(WindowLog).order_by(WindowLog.id))]
        retained = [o.payload for o in s.scalars(select(Outbox).where(Outbox.topic.like("%window/01/state")).order_by(Outbox.id))]
    assert log == [("open", None, "王芳"), ("paused", "meeting", "王芳"), ("open", None, "王芳"), ("paused", "away", "王芳")]
    assert '"pause_reason": "away"' in retained[-1]

    clock.set(MON + timedelta(days=1))
    r = stats.compute(svc.db, svc.cfg, stats.period_for("day", MON.date()), now=clock.now())
    reasons = {p["reason"]: (p["name"], p["count"], p["seconds"]) for p in r["pauses"]}
    assert reasons["meeting"] == ("开会", 1, 20 * 60)
    assert reasons["away"] == ("临时离开", 1, 30 * 60)  # until the hall closed at 17:30
    assert reasons["training"] == ("培训", 0, 0)
    windows = {w["key"]: w for w in r["by_window"]}
    assert windows["01"]["paused_s"] == 50 * 60
    assert {c["key"]: c["paused_s"] for c in r["by_clerk"]} == {"王芳": 50 * 60}
    sheet = dict((title, rows) for title, _head, rows in stats.tables(r))["暂停原因"]
    assert ["开会", 1, 20.0] in sheet


def test_an_unknown_reason_is_refused_in_chinese_and_changes_nothing(hall):
    svc, _clock = hall
    svc.set_window_state("01", WindowState.OPEN, WANG)
    with pytest.raises(CommandError) as err:
        svc.set_window_state("01", WindowState.PAUSED, WANG, "coffee")
    assert err.value.status == 422 and "没有“coffee”这个暂停原因" in err.value.message and "开会" in err.value.message
    with svc.db.read() as s:
        assert [r.state for r in s.scalars(select(WindowLog))] == ["open"]
