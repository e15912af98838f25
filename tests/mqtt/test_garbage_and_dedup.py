"""Subscribers survive garbage and see each event once (yizhan.messaging.dedup), on a real Mosquitto."""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from tests.fixtures_mqtt import HALL, Collector, wait_until
from yizhan.messaging import dedup, topics
from yizhan.messaging.base import Message
from yizhan.messaging.dedup import Deduplicator, EventHandler


def event(**body) -> dict:
    return {"event_id": uuid.uuid4().hex, "hall": HALL, "at": "2026-11-23T09:00:00.000+08:00"} | body


VALID = {
    topics.call(HALL): event(ticket="A012", ticket_id=12, queue="A", service="S1", service_name="户籍", window="05",
                             window_name="5号窗口", window_spoken="5号窗口", text="请A012号到5号窗口办理", recall=0, masked_name=""),
    topics.window_state(HALL, "05"): event(window="05", window_name="5号窗口", state="open", ticket="A012", ticket_id=12,
                                           ticket_state="called", queues=["A"], clerk=None, finished=None),
    topics.queue_state(HALL, "A"): event(queue="A", name="综合", waiting=3, estimated_wait_s=600, open=True),
    topics.ticket(HALL, "tok"): event(type="ahead", ticket="A013", ahead=2),
    topics.server_status(HALL): event(state="online"),
    topics.device_status(HALL, "tv-1"): event(device="tv-1", kind="display", state="online", parts={}),
}


def garbage_for(topic: str) -> list[bytes]:
    good = VALID[topic]
    some_field = next(k for k in good if k not in ("event_id", "hall", "at"))
    return [
        b"\xff\xfe not utf-8",
        b"not json at all",
        b"[1, 2, 3]",
        b'"a string"',
        json.dumps({k: v for k, v in good.items() if k != "event_id"}).encode(),
        json.dumps(good | {"hall": "another-hall"}).encode(),
        json.dumps({k: v for k, v in good.items() if k != some_field}).encode(),
        json.dumps(good | {some_field: {"nested": ["wrong type"]}}).encode(),
        json.dumps(good | {"pad": "x" * 40_000}).encode(),  # passes the broker, too big for a subscriber
        b"{" * 1_000_000,  # over the broker's message_size_limit: dropped before anyone sees it
    ]


@pytest.mark.mosquitto
def test_garbage_on_every_topic_is_logged_once_and_dropped(mosquitto, messenger_factory, caplog, monkeypatch):
    monkeypatch.setattr(dedup, "garbage", dedup._GarbageLog())
    caplog.set_level(logging.WARNING, logger="yizhan.messaging.dedup")
    server = messenger_factory(mosquitto, "yizhan-server")
    display = messenger_factory(mosquitto, "tv-1")
    events = Collector()
    display.subscribe(f"{topics.prefix(HALL)}/#", EventHandler(lambda msg, ev: events(msg), hall=HALL))
    wait_until(lambda: display.connected)

    probes: set[str] = set()

    def active() -> bool:
        probe = event(state="online")
        probes.add(probe["event_id"])
        server.publish(topics.server_status(HALL), json.dumps(probe).encode())
        return bool(events.messages)

    wait_until(active, 10, "the display's subscription")
    before = len(events.messages)

    for _round in range(2):  # the same garbage twice: still one log line per kind of garbage
        for topic in VALID:
            for payload in garbage_for(topic):
                server.publish(topic, payload)
    for topic, good in VALID.items():
        server.publish(topic, json.dumps(good, ensure_ascii=False).encode())
    # Probes still in flight when the subscription answered may arrive late: they are neither
    # garbage nor the valid events waited for.
    def received_after() -> list[dict]:
        return [e for e in (json.loads(m.payload) for m in events.messages[before:]) if e["event_id"] not in probes]

    events.wait_for(lambda ms: len(received_after()) >= len(VALID), what="the valid events after the garbage")
    received = received_after()
    assert sorted(e["event_id"] for e in received) == sorted(e["event_id"] for e in VALID.values())
    warnings = [r for r in caplog.records if r.name == "yizhan.messaging.dedup"]
    # Per topic kind, 9 garbage payloads reach the subscriber (the 1 MB one is stopped by the
    # broker) for 8 reasons: not UTF-8, not JSON, not an object (array, string), no event_id,
    # another hall, a missing field, a field of the wrong type, too big.
    assert len(warnings) == 8 * len(VALID)
    assert dedup.garbage.count() == 2 * 9 * len(VALID)
    assert display.connected


def test_repeats_are_dropped_and_memory_is_bounded():
    d = Deduplicator(capacity=100)
    ids = [uuid.uuid4().hex for _ in range(250)]
    assert all(d.first_time(i) for i in ids)
    assert not any(d.first_time(i) for i in ids[-100:])  # recent repeats dropped
    assert len(d) == 100
    assert d.first_time(ids[0])  # long forgotten: accepted again (QoS 1 repeats come within seconds)


def test_event_handler_calls_back_once_per_event_id():
    seen = []
    h = EventHandler(lambda msg, ev: seen.append(ev["event_id"]), hall=HALL)
    payload = json.dumps(VALID[topics.call(HALL)]).encode()
    for _ in range(3):
        h(Message(topics.call(HALL), payload))
    h(Message(topics.window_state(HALL, "05"), b"", retain=True))  # a cleared retained topic: ignored quietly
    assert seen == [VALID[topics.call(HALL)]["event_id"]]


def test_seeded_deduplicator_drops_events_announced_before_a_restart():
    eid = VALID[topics.call(HALL)]["event_id"]
    h = EventHandler(lambda msg, ev: pytest.fail("announced twice"), dedup=Deduplicator(seed=[eid]), hall=HALL)
    h(Message(topics.call(HALL), json.dumps(VALID[topics.call(HALL)]).encode()))
