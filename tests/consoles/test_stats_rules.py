"""The statistics' definitions on hand-made histories: transfers, call-backs after a skip,
no-shows after the recall limit, periods, and ratings on the five 好差评 levels."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from queue_server import stats
from queue_server.domain.model import WindowState
from queue_server.service import Actor, HallService
from queue_server.web import sessions, users
from tests.fixtures_hall import small_hall
from tests.fixtures_pg import database, postgres  # noqa: F401  (fixtures)
from yizhan.clock import ManualClock
from yizhan.config.model import HallConfig

START = datetime.fromisoformat("2026-11-20T09:00:00+08:00")


@pytest.fixture
def hall(database):
    db = database
    clock = ManualClock(START)
    svc = HallService(HallConfig.model_validate(small_hall(windows=2)), db, clock)
    svc.ensure_windows()
    yield svc, clock


def test_transfer_callback_and_no_show(hall):
    svc, clock = hall
    w1, w2 = Actor("clerk", "王芳", "01"), Actor("clerk", "李娜", "02")
    svc.set_window_state("01", WindowState.OPEN, w1)
    svc.set_window_state("02", WindowState.OPEN, w2)
    for i in range(3):
        svc.issue_ticket("RS01", f"key-{i:04d}", None)  # B001 B002 B003 at 09:00
    clock.advance(minutes=10)
    t1, _ = svc.call_next("01", w1)                    # B001 waited 10 min
    svc.transfer("01", w1, "A", "first")               # → queue A
    again, _ = svc.call_next("01", w1)                 # B001 again (first in queue A), at 01
    t2, _ = svc.call_next("02", w2)                    # B002 waited 10 min
    assert (again.number, t2.number) == ("B001", "B002")
    clock.advance(minutes=4)
    svc.finish("01", w1)                               # served at 01 in 4 min
    svc.skip("02", w2)                                 # B002 skipped at 02 …
    clock.advance(minutes=1)
    svc.call_specific("02", w2, number="B002")         # … called back: not a no-show
    clock.advance(minutes=6)
    svc.finish("02", w2)                               # served at 02 in 6 min
    t3, _ = svc.call_next("01", w1)                    # B003 waited 21 min
    for _ in range(svc.cfg.policy.recall_limit + 1):
        svc.recall("01", w1)                           # past the recall limit: no-show
    svc.rate(t1.id, 5, "keypad")
    svc.rate(t2.id, 2, "keypad")

    r = stats.compute(svc.db, svc.cfg, stats.period_for("day", date(2026, 11, 20)), today=date(2026, 11, 20))
    total = r["total"]
    assert (total["issued"], total["served"], total["no_shows"], total["called"]) == (3, 2, 1, 5)
    seconds = lambda x: pytest.approx(x, abs=0.05)  # noqa: E731 — times come back through julianday()
    assert total["avg_wait_s"] == seconds((10 + 10 + 21) * 60 / 3)
    assert total["p90_wait_s"] == seconds(21 * 60)
    assert total["avg_service_s"] == seconds(5 * 60) and total["p90_service_s"] == seconds(6 * 60)
    windows = {w["key"]: w for w in r["by_window"]}
    assert (windows["01"]["served"], windows["02"]["served"]) == (1, 1)
    assert (windows["01"]["no_shows"], windows["02"]["no_shows"]) == (1, 0)
    assert windows["01"]["called"] == 3 and windows["02"]["called"] == 2  # call-backs count as calls
    queues = {q["key"]: q for q in r["by_queue"]}
    assert queues["B"]["issued"] == 3 and queues["A"]["served"] == 1 and queues["B"]["served"] == 1
    clerks = {c["key"]: c for c in r["by_clerk"]}
    assert clerks["李娜"]["good_rate"] == 0.0 and clerks["王芳"]["good_rate"] == 1.0
    sat = r["satisfaction"]
    assert [c["count"] for c in sat["counts"]] == [1, 0, 0, 1, 0] and sat["good_rate"] == 0.5
    assert [f["ticket"] for f in r["followups"]] == ["B002"] and r["followups"][0]["deadline"] == "2026-11-25"
    assert [w["key"] for w in r["ranking"]] == ["01", "02"]
    assert r["hourly"][9]["issued"] == 3 and r["busiest_hours"] == [9]
    # The week and the month hold the day; the next day holds nothing.
    for kind in ("week", "month"):
        assert stats.compute(svc.db, svc.cfg, stats.period_for(kind, date(2026, 11, 20)))["total"]["issued"] == 3
    assert stats.compute(svc.db, svc.cfg, stats.period_for("day", date(2026, 11, 21)))["total"]["issued"] == 0


def test_numbers_given_up_before_their_call_are_counted_where_they_were_issued(hall):
    svc, clock = hall
    w1 = Actor("clerk", "王芳", "01")
    svc.set_window_state("01", WindowState.OPEN, w1)
    left = svc.issue_ticket("RS01", "key-left", None)[0]     # B001: gives up on the phone
    called = svc.issue_ticket("RS01", "key-called", None)[0]  # B002: called, then removed by the manager
    svc.issue_ticket("RS01", "key-stays", None)
    clock.advance(minutes=5)
    svc.cancel(left.id, Actor("citizen"), only_waiting=True)
    assert svc.call_next("01", w1)[0].number == called.number  # B001 is passed over
    svc.cancel(called.id, Actor("admin", "管理员"))

    r = stats.compute(svc.db, svc.cfg, stats.period_for("day", date(2026, 11, 20)), today=date(2026, 11, 20))
    assert r["total"]["gave_up"] == 1
    assert {q["key"]: q["gave_up"] for q in r["by_queue"]} == {"B": 1}
    assert {s["key"]: s["gave_up"] for s in r["by_service"]} == {"RS01": 1}
    assert r["total"]["issued"] == 3 and r["total"]["no_shows"] == 0
    overview = dict(stats.tables(r)[0][2])
    assert overview["放弃排队"] == 1


def test_periods():
    assert stats.period_for("week", date(2026, 11, 20)) == stats.Period("week", date(2026, 11, 16), date(2026, 11, 23))
    assert stats.period_for("month", date(2026, 12, 31)) == stats.Period("month", date(2026, 12, 1), date(2027, 1, 1))
    assert stats.period_for("month", date(2026, 11, 5)).next().start == date(2026, 12, 1)
    assert stats.p90([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) == 9 and stats.p90([7]) == 7 and stats.p90([]) is None


def test_sessions_on_both_databases(database):
    now = START
    user = users.create_user(database, now, "wangfang", "clerk-pass-2026", "clerk", display_name="王芳", window="01")
    assert users.authenticate(database, now, "WangFang", "clerk-pass-2026").user.id == user.id  # names are case-insensitive
    token = sessions.start(database, now, user)
    sess = sessions.resolve(database, now, token)
    assert (sess.username, sess.window, sess.principal().role) == ("wangfang", "01", "clerk")
    assert [u.username for _t, u in sessions.active_sessions(database, now)] == ["wangfang"]
    assert sessions.resolve(database, now + sessions.MAX_AGE + timedelta(seconds=1), token) is None  # expired
    sessions.end(database, now, sess)
    assert sessions.resolve(database, now, token) is None and sessions.active_sessions(database, now) == []
