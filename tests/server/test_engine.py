"""The queue engine with an injected clock: numbering, day rollover, hours, caps, limits, every action."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from queue_server.db.tables import Outbox, Rating, Followup, Ticket, TicketEvent
from queue_server.domain.model import WindowState
from queue_server.service import Actor, CommandError, HallService, IdentityIn
from yizhan.config.model import HallConfig
from yizhan.privacy import id_hash

from tests.fixtures_hall import small_hall

CLERK1 = Actor(role="clerk", name="王芳", window="01")
CLERK2 = Actor(role="clerk", name="李强", window="02")
KEY = b"k" * 32


def person(n: int, age: int | None = 40, categories: list[str] | None = None) -> IdentityIn:
    number = f"62010219{50 + n % 40:02d}0101{n:04d}"[:18]
    return IdentityIn(id_hash=id_hash(number, KEY), masked_id=number[:4] + "*" * 10 + number[-4:], masked_name="张*", age=age, categories=categories or [])


def issue(svc: HallService, code: str = "RS01", key: str | None = None, identity: IdentityIn | None = None):
    ticket, ahead, wait_s, created = svc.issue_ticket(code, key, identity)
    return ticket


def open_(svc: HallService, *windows: str) -> None:
    for w in windows:
        svc.set_window_state(w, WindowState.OPEN, Actor(role="admin", name="管理员"))


def outbox(svc: HallService) -> list[dict]:
    with svc.db.read() as s:
        return [json.loads(r.payload) | {"_topic": r.topic, "_retain": r.retain} for r in s.scalars(select(Outbox).order_by(Outbox.id))]


# ---- numbering ---------------------------------------------------------------------------------
def test_numbers_are_daily_per_queue_and_never_reused_across_restarts(svc, cfg, db, clock):
    assert [issue(svc).number for _ in range(3)] == ["B001", "B002", "B003"]
    assert issue(svc, "GA01", identity=person(1)).number == "A001"
    # a restart is a new service object on the same database
    again = HallService(cfg, db, clock)
    assert issue(again).number == "B004"
    # a cancelled number is not given out again
    cancelled = issue(again)
    again.cancel(cancelled.id, Actor(role="kiosk"))
    assert issue(again).number == "B006"


def test_day_rolls_over_at_local_midnight(svc, clock):
    clock.set(datetime.fromisoformat("2026-11-23T17:00:00+08:00"))
    assert issue(svc).number == "B001"
    # 23:59 Shanghai is still the same day but outside hours; 00:00 local starts a new day.
    clock.set(datetime.fromisoformat("2026-11-24T08:45:00+08:00"))
    t2 = issue(svc)
    assert t2.number == "B001"
    assert t2.day.isoformat() == "2026-11-24"
    # UTC midnight (08:00 Shanghai) is not the rollover: same local day, next number
    clock.set(datetime.fromisoformat("2026-11-24T09:00:00+08:00"))
    assert issue(svc).number == "B002"


def test_yesterdays_waiting_tickets_are_not_called_today(svc, clock):
    issue(svc)
    clock.set(datetime.fromisoformat("2026-11-24T09:00:00+08:00"))
    open_(svc, "02")
    assert svc.call_next("02", CLERK2) is None


# ---- hours, caps, limits ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "when, code, expected",
    [
        ("2026-11-23T08:00:00+08:00", "RS01", "queue_closed"),  # before opening
        ("2026-11-23T12:30:00+08:00", "GA01", "queue_closed"),  # A has no lunch service
        ("2026-11-23T12:30:00+08:00", "RS01", None),  # B has 午休延时服务
        ("2026-11-23T17:30:00+08:00", "RS01", "queue_closed"),  # closing time is exclusive
        ("2026-11-28T10:00:00+08:00", "RS01", "hall_closed_day"),  # Saturday
        ("2026-10-01T10:00:00+08:00", "RS01", "hall_closed_day"),  # National Day holiday (a Thursday)
        ("2026-10-10T10:00:00+08:00", "RS01", None),  # a Saturday the official calendar makes a working day (调休)
    ],
)
def test_opening_hours_and_working_days(svc, clock, when, code, expected):
    clock.set(datetime.fromisoformat(when))
    identity = person(7) if code == "GA01" else None
    if expected is None:
        assert issue(svc, code, identity=identity).state == "waiting"
    else:
        with pytest.raises(CommandError) as err:
            issue(svc, code, identity=identity)
        assert err.value.code == expected
        assert ("办理时间" if expected == "queue_closed" else "今天（" + f"{clock.now().month}月{clock.now().day}日）本大厅不办公") in err.value.message


def test_the_halls_own_calendar_closes_a_working_day_and_opens_a_saturday(db, clock):
    """hall.yaml's calendar: a closure on a Tuesday (闭厅), and a Saturday worked (a later year's 调休
    that the pinned chinese-calendar does not know yet)."""
    svc = HallService(HallConfig.model_validate(small_hall() | {"calendar": {"holidays": ["2026-11-24"], "workdays": ["2026-11-28"]}}), db, clock)
    clock.set(datetime.fromisoformat("2026-11-24T10:00:00+08:00"))
    with pytest.raises(CommandError) as err:
        issue(svc)
    assert (err.value.status, err.value.code) == (409, "hall_closed_day")
    assert "今天（11月24日）本大厅不办公" in err.value.message
    clock.set(datetime.fromisoformat("2026-11-28T10:00:00+08:00"))
    assert issue(svc).number == "B001"
    # Case deadlines count the hall's days too: 3 working days from Monday 11-23 skip the closed Tuesday.
    from queue_server.domain.hours import next_working_day

    assert next_working_day(datetime(2026, 11, 23).date(), 3, svc.cfg.calendar).isoformat() == "2026-11-27"
    assert next_working_day(datetime(2026, 11, 26).date(), 2, svc.cfg.calendar).isoformat() == "2026-11-28"


def test_daily_cap_refuses_with_a_clear_message(db, clock):
    svc = HallService(HallConfig.model_validate(small_hall(cap=2)), db, clock)
    issue(svc), issue(svc)
    with pytest.raises(CommandError) as err:
        issue(svc)
    assert (err.value.status, err.value.code) == (409, "daily_cap_reached")
    assert "明天" in err.value.message


def test_real_name_required_and_per_person_limits(svc):
    with pytest.raises(CommandError) as err:
        issue(svc, "GA01")
    assert err.value.code == "real_name_required"
    p = person(3)
    issue(svc, "GA01", identity=p)
    with pytest.raises(CommandError) as err:  # one open ticket per person per queue (anti-scalping)
        issue(svc, "GA01", identity=p)
    assert err.value.code == "open_ticket_exists"
    issue(svc, "RS01", identity=p)  # another queue is fine
    open_(svc, "01")
    for _ in range(2):
        svc.call_next("01", CLERK1)
        svc.finish("01", CLERK1)
    issue(svc, "GA01", identity=p)  # third ticket of the day (limit 3)
    svc.call_next("01", CLERK1)
    svc.finish("01", CLERK1)
    with pytest.raises(CommandError) as err:
        issue(svc, "GA01", identity=p)
    assert err.value.code == "per_person_limit"


def test_idempotency_key_returns_the_same_ticket(svc):
    a = issue(svc, key="tap-0001-abcdef")
    b = issue(svc, key="tap-0001-abcdef")
    assert a.id == b.id and a.number == b.number
    assert issue(svc, key="tap-0002-abcdef").number == "B002"
    with pytest.raises(CommandError) as err:
        issue(svc, "GA01", key="tap-0001-abcdef", identity=person(1))
    assert err.value.code == "idempotency_conflict"


def test_personal_data_is_stored_only_hashed_and_masked(svc):
    p = person(5)
    t = issue(svc, "GA01", identity=p)
    assert t.id_hash == p.id_hash and len(t.id_hash) == 64
    with svc.db.read() as s:
        row = s.get(Ticket, t.id)
        blob = " ".join(str(getattr(row, c.key)) for c in Ticket.__table__.columns)
    assert "62010219" not in blob.replace(t.masked_id, "")
    for event in outbox(svc):
        assert "id_hash" not in json.dumps(event)


# ---- calling policy ----------------------------------------------------------------------------
def test_fifo_within_a_queue_with_reason(svc, clock):
    first = issue(svc)
    clock.advance(60)
    issue(svc)
    open_(svc, "02")
    clock.advance(120)
    ticket, choice = svc.call_next("02", CLERK2)
    assert ticket.id == first.id
    assert choice.reason() == "按顺序叫号：B001（B 队列，已等 3 分钟）"


def test_window_weights_prefer_the_heavier_queue(svc, clock):
    b = issue(svc)  # B first, waits longer
    clock.advance(60)
    a = issue(svc, "GA01", identity=person(1))
    clock.advance(60)
    open_(svc, "01")  # window 01: A weight 3, B weight 1 → A scores 3×60 s, B scores 1×120 s
    ticket, choice = svc.call_next("01", CLERK1)
    assert ticket.id == a.id
    assert choice.rule == "weight" and "权重 3" in choice.reason()
    ticket, _ = (svc.finish("01", CLERK1), None)
    ticket, choice = svc.call_next("01", CLERK1)
    assert ticket.id == b.id


def test_green_channel_by_age_goes_first_and_says_why(svc, clock):
    issue(svc, identity=person(1, age=30))
    clock.advance(60)
    old = issue(svc, identity=person(2, age=78))
    open_(svc, "02")
    ticket, choice = svc.call_next("02", CLERK2)
    assert ticket.id == old.id
    assert choice.reason() == "绿色通道：B002（老年人，年龄 78）"
    assert choice.reason("en") == "Green channel: B002 (elderly, age 78)"


def test_priority_ratio_n_to_1(db, clock):
    svc = HallService(HallConfig.model_validate(small_hall(extra_policy={"priority_ratio": 2})), db, clock)
    svc.ensure_windows()
    normals = [issue(svc, identity=person(i, age=30)) for i in range(4)]
    greens = [issue(svc, identity=person(10 + i, categories=["disability"])) for i in range(2)]
    open_(svc, "02")
    order = []
    for _ in range(6):
        t, _c = svc.call_next("02", CLERK2)
        order.append(t.id)
        svc.finish("02", CLERK2)
    # 2 normal : 1 priority
    assert order == [normals[0].id, normals[1].id, greens[0].id, normals[2].id, normals[3].id, greens[1].id]


def test_max_wait_override_beats_green_channel(svc, clock):
    old = issue(svc)
    clock.advance(minutes=61)
    issue(svc, identity=person(2, age=80))
    open_(svc, "02")
    ticket, choice = svc.call_next("02", CLERK2)
    assert ticket.id == old.id
    assert choice.rule == "max_wait" and "已等 61 分钟" in choice.reason()


def test_call_specific_number(svc):
    issue(svc), issue(svc)
    open_(svc, "02")
    t = svc.call_specific("02", CLERK2, number="B002")
    assert t.number == "B002" and t.state == "called"
    with pytest.raises(CommandError) as err:
        svc.call_specific("02", CLERK2, number="B001")  # window busy
    assert err.value.code == "window_busy"


# ---- actions -----------------------------------------------------------------------------------
def test_recall_until_limit_then_no_show(svc):
    issue(svc)
    open_(svc, "02")
    t, _ = svc.call_next("02", CLERK2)
    assert svc.recall("02", CLERK2).recall_count == 1
    assert svc.recall("02", CLERK2).recall_count == 2
    gone = svc.recall("02", CLERK2)  # limit 2 reached
    assert gone.state == "no_show"
    calls = [e for e in outbox(svc) if e["_topic"].endswith("/call")]
    assert [c["recall"] for c in calls] == [0, 1, 2]
    assert svc.call_next("02", CLERK2) is None  # window is free again


def test_skip_and_rejoin_behind_the_next_three(svc, clock):
    first = issue(svc)
    others = []
    for _ in range(5):
        clock.advance(30)
        others.append(issue(svc))
    open_(svc, "02")
    svc.call_next("02", CLERK2)
    skipped = svc.skip("02", CLERK2)
    assert skipped.state == "skipped"
    clock.advance(minutes=5)
    svc.rejoin(first.id, CLERK2)
    order = []
    while (r := svc.call_next("02", CLERK2)) is not None:
        order.append(r[0].id)
        svc.finish("02", CLERK2)
    assert order == [others[0].id, others[1].id, others[2].id, first.id, others[3].id, others[4].id]


def test_rejoin_too_late(svc, clock):
    t = issue(svc)
    open_(svc, "02")
    svc.call_next("02", CLERK2)
    svc.skip("02", CLERK2)
    clock.advance(minutes=31)
    with pytest.raises(CommandError) as err:
        svc.rejoin(t.id, CLERK2)
    assert err.value.code == "rejoin_too_late"


def test_transfer_first_or_last_keeps_number_and_issue_time(svc, clock):
    a = issue(svc, "GA01", identity=person(1))
    clock.advance(60)
    b1, b2 = issue(svc), issue(svc)
    open_(svc, "01", "02")
    t, _ = svc.call_next("01", CLERK1)
    assert t.id == a.id
    moved = svc.transfer("01", CLERK1, "B", "first")
    assert (moved.number, moved.queue, moved.state) == ("A001", "B", "waiting")
    assert moved.issued_at == a.issued_at
    t, _ = svc.call_next("02", CLERK2)
    assert t.id == a.id  # first in line in B
    clock.advance(10)
    svc.transfer("02", CLERK2, "B", "last")
    order = []
    while (r := svc.call_next("02", CLERK2)) is not None:
        order.append(r[0].id)
        svc.finish("02", CLERK2)
    assert order == [b1.id, b2.id, a.id]


def test_finish_from_called_or_serving_and_events_carry_window_and_clerk(svc):
    issue(svc), issue(svc)
    open_(svc, "02")
    svc.call_next("02", CLERK2)
    assert svc.finish("02", CLERK2).state == "done"  # straight from called
    t, _ = svc.call_next("02", CLERK2)
    assert svc.start_serving("02", CLERK2).state == "serving"
    done = svc.finish("02", CLERK2)
    assert done.state == "done"
    with svc.db.read() as s:
        events = list(s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == done.id).order_by(TicketEvent.id)))
    assert [e.action for e in events] == ["issue", "call", "start", "finish"]
    assert all(e.window == "02" and e.clerk == "李强" for e in events[1:])
    state = [e for e in outbox(svc) if e["_topic"].endswith("window/02/state")][-1]
    assert state["finished"] == {"ticket_id": done.id, "ticket": done.number} and state["ticket"] is None


def test_window_states(svc):
    issue(svc)
    with pytest.raises(CommandError) as err:
        svc.call_next("02", CLERK2)
    assert err.value.code == "window_not_open"
    open_(svc, "02")
    svc.call_next("02", CLERK2)
    svc.set_window_state("02", WindowState.PAUSED, CLERK2)  # pausing with a ticket at the desk is fine
    with pytest.raises(CommandError) as err:
        svc.set_window_state("02", WindowState.CLOSED, CLERK2)
    assert err.value.code == "window_busy_close"
    svc.finish("02", CLERK2)
    svc.set_window_state("02", WindowState.CLOSED, CLERK2)
    retained = [e for e in outbox(svc) if e["_topic"].endswith("window/02/state")]
    assert [e["state"] for e in retained][-3:] == ["paused", "paused", "closed"]


def test_clerk_cannot_act_on_another_window(svc):
    issue(svc)
    open_(svc, "02")
    with pytest.raises(CommandError) as err:
        svc.call_next("02", CLERK1)
    assert (err.value.status, err.value.code) == (403, "other_window")


def test_estimated_wait_uses_open_windows_and_recent_service_times(svc, clock):
    open_(svc, "02", "03")  # two windows serving B with weight 1 of 2 → capacity 1.0
    for _ in range(5):
        issue(svc)
    t, ahead, wait = svc.issue_ticket("RS01", None, None)[:3]
    assert ahead == 5
    assert wait == 5 * 300  # default service time before any history
    for _ in range(3):
        svc.call_next("02", CLERK2)
        clock.advance(120)
        svc.finish("02", CLERK2)
    _t, ahead, wait = svc.ticket_position(t.id)
    assert ahead == 2 and wait == 2 * 120


def test_ahead_updates_only_for_the_first_places_and_only_on_change(svc):
    tickets = [issue(svc) for _ in range(6)]
    open_(svc, "02")
    ahead_events = lambda: [e for e in outbox(svc) if e.get("type") == "ahead"]  # noqa: E731
    before = len(ahead_events())
    svc.call_next("02", CLERK2)
    new = ahead_events()[before:]
    # places 0..2 notified (ahead_notify_places = 3); tickets 2,3,4 moved up, ticket 5 is too far back
    assert [(e["ticket"], e["ahead"]) for e in new] == [("B002", 0), ("B003", 1), ("B004", 2)]
    svc.set_window_state("02", WindowState.PAUSED, CLERK2)
    assert len(ahead_events()) == before + 3  # nothing changed, nothing sent


def test_rating_binds_ticket_window_clerk_and_bad_rating_opens_followup(svc, clock):
    issue(svc)
    open_(svc, "02")
    svc.call_next("02", CLERK2)
    with pytest.raises(CommandError):
        svc.rate(1, 5, "keypad")  # not finished yet
    done = svc.finish("02", CLERK2)
    rating, followup = svc.rate(done.id, 2, "keypad")
    assert (rating.window, rating.clerk, rating.score) == ("02", "李强", 2)
    # Monday + 3 working days = Thursday
    assert followup is not None and followup.deadline.isoformat() == "2026-11-26"
    with pytest.raises(CommandError) as err:
        svc.rate(done.id, 5, "keypad")
    assert err.value.code == "already_rated"


def test_every_state_change_writes_outbox_in_the_same_transaction(svc):
    with svc.db.read() as s:
        before = s.scalar(select(func.count()).select_from(Outbox))
    with pytest.raises(CommandError):
        svc.call_next("02", CLERK2)  # refused: nothing written
    with svc.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Outbox)) == before
    issue(svc)
    open_(svc, "02")
    svc.call_next("02", CLERK2)
    topics = [e["_topic"].split("/", 2)[2] for e in outbox(svc)]
    assert "call" in topics and "window/02/state" in topics and "queue/B/state" in topics
    call = [e for e in outbox(svc) if e["_topic"] == "yizhan/testhall/call"][0]
    assert call["text"] == "请B001号到2号窗口办理" and call["recall"] == 0 and call["event_id"]
    assert call["at"].endswith("+08:00")


def test_appointment_check_in_becomes_a_priority_ticket_called_when_due(svc, clock):
    from queue_server.db.tables import Appointment

    p = person(9)
    start = datetime.fromisoformat("2026-11-23T10:00:00+08:00")
    with svc.db.write() as s:
        s.add(Appointment(day=start.date(), service="RS01", id_hash=p.id_hash, masked_name="张*", slot_start=start, slot_end=start + timedelta(minutes=30)))
    with pytest.raises(CommandError) as err:
        svc.check_in(person(10), "checkin-other-0001")  # somebody without a booking
    assert err.value.code == "no_appointment" and "预约" in err.value.message
    walk_in = issue(svc)
    ticket, _ahead, _wait, created = svc.check_in(p, "checkin-0001")
    assert created and ticket.priority == "appointment"
    assert svc.check_in(p, "checkin-0001")[0].id == ticket.id  # a retried check-in: same ticket
    open_(svc, "02")
    # 09:30: the 10:00 slot is due from 09:30 (30 min early) — the appointment goes first
    t, choice = svc.call_next("02", CLERK2)
    assert t.id == ticket.id and choice.reason() == f"预约到时：{ticket.number} 预约 10:00 时段"
    svc.finish("02", CLERK2)
    assert svc.call_next("02", CLERK2)[0].id == walk_in.id


def test_a_live_config_change_republishes_queue_state(svc, cfg, clock):
    changed = cfg.model_copy(deep=True)
    changed.queues[1].hours.morning.start = changed.queues[1].hours.morning.start.replace(hour=10)
    svc.reload_config(changed)
    state = [e for e in outbox(svc) if e["_topic"].endswith("queue/B/state")][-1]
    assert state["open"] is False  # 09:30 is now before B opens
    with pytest.raises(CommandError) as err:
        issue(svc)
    assert err.value.code == "queue_closed"
