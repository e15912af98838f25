"""The hall view built from messages: what a user sees must follow the server, and nothing else."""

from __future__ import annotations

import json

import pytest

from display_board.model import BadMessage, CallUpdate, HallView, WindowUpdate
from tests.display.helpers import HALL, call_payload, queue_payload, window_payload


def topic(rest: str) -> str:
    return f"yizhan/{HALL}/{rest}"


def test_calls_newest_first_and_repeats_dropped():
    view = HallView(HALL)
    first = call_payload("A001", "01", event_id="e1")
    assert isinstance(view.apply(topic("call"), first), CallUpdate)
    assert view.apply(topic("call"), first) is None  # QoS 1 delivered it twice
    view.apply(topic("call"), call_payload("A002", "02"))
    assert [c.ticket for c in view.recent()] == ["A002", "A001"]
    assert view.current.ticket == "A002"


def test_recall_moves_the_ticket_to_the_top_once():
    view = HallView(HALL)
    view.apply(topic("call"), call_payload("A001", "01"))
    view.apply(topic("call"), call_payload("A002", "02"))
    view.apply(topic("call"), call_payload("A001", "01", recall=1))
    assert [(c.ticket, c.recall) for c in view.recent()] == [("A001", 1), ("A002", 0)]


def test_unknown_fields_are_ignored():
    view = HallView(HALL)
    update = view.apply(topic("call"), call_payload("B007", "03", future_field={"x": 1}, priority="green"))
    assert update.call.ticket == "B007" and update.call.window_name == "3号窗口"


@pytest.mark.parametrize(
    "rest,payload",
    [
        ("call", b"\xff\xfe not utf-8"),
        ("call", b"[1, 2, 3]"),
        ("call", json.dumps({"event_id": "x", "hall": HALL, "window": "01"}).encode()),  # no ticket
        ("call", json.dumps({"event_id": "x", "hall": HALL, "ticket": ["A1"], "window": "01"}).encode()),
        ("call", json.dumps({"event_id": "x", "hall": "other-hall", "ticket": "A1", "window": "01"}).encode()),
        ("window/01/state", json.dumps({"event_id": "y", "hall": HALL, "window": "01", "state": "sleeping"}).encode()),
        ("window/01/state", json.dumps({"event_id": "y", "hall": HALL, "window": "02", "state": "open"}).encode()),
        ("queue/A/state", json.dumps({"event_id": "z", "hall": HALL, "queue": "A", "waiting": -3}).encode()),
        ("something/else", b"{}"),
    ],
)
def test_garbage_is_refused_and_changes_nothing(rest, payload):
    view = HallView(HALL)
    view.apply(topic("call"), call_payload("A001", "01"))
    with pytest.raises(BadMessage):
        view.apply(topic(rest), payload)
    assert [c.ticket for c in view.recent()] == ["A001"] and not view.windows and not view.queues


def test_a_display_started_mid_day_shows_the_windows_current_numbers():
    view = HallView(HALL)
    view.apply(topic("window/01/state"), window_payload("01", ticket="A009", at="2026-11-23T09:10:00+08:00"))
    view.apply(topic("window/02/state"), window_payload("02", ticket="B004", at="2026-11-23T09:20:00+08:00"))
    view.apply(topic("window/03/state"), window_payload("03", state="paused"))
    view.apply(topic("window/04/state"), window_payload("04", state="closed", ticket="A001"))
    recent = view.recent()
    assert [(c.ticket, c.window) for c in recent] == [("B004", "02"), ("A009", "01")]
    assert all(c.from_state for c in recent)
    # A live call comes first; the rebuilt ones stay below it.
    view.apply(topic("call"), call_payload("A010", "03"))
    assert [c.ticket for c in view.recent()] == ["A010", "B004", "A009"]


def test_queue_filter_of_a_display():
    view = HallView(HALL, queues_shown=frozenset({"B"}))
    assert view.apply(topic("call"), call_payload("A001", "01")) is None
    assert view.apply(topic("queue/A/state"), queue_payload("A", 3)) is None
    view.apply(topic("call"), call_payload("B001", "01"))
    view.apply(topic("queue/B/state"), queue_payload("B", 4, "社保"))
    assert [c.ticket for c in view.recent()] == ["B001"]
    assert [(q.queue, q.waiting) for q in view.queue_list()] == [("B", 4)]


def test_window_update_carries_pause():
    view = HallView(HALL)
    update = view.apply(topic("window/05/state"), window_payload("05", state="paused"))
    assert isinstance(update, WindowUpdate) and update.window.state == "paused" and not update.window.idle
