"""不错号、不漏号: calls made through the real server's HTTP API reach a display over a real
Mosquitto exactly once, across a broker SIGKILL, a server SIGKILL and late subscribers."""

from __future__ import annotations

import json
import threading
from collections import Counter as Count

import pytest

from tests.fixtures_mqtt import Collector, wait_saved, wait_until
from tests.mqtt.rig import HALL_ID, HallRig
from yizhan.messaging import topics
from yizhan.messaging.dedup import Deduplicator, EventHandler

pytestmark = pytest.mark.mosquitto


@pytest.fixture
def broker(mosquitto_factory):
    return mosquitto_factory("hall", hall=HALL_ID)


def make_rig(tmp_path, broker, windows: int = 20) -> HallRig:
    url = f"mqtt://yizhan-server:server-secret@127.0.0.1:{broker.port}"
    return HallRig(tmp_path / "rig", windows=windows, mqtt_url=url)


@pytest.fixture
def rig(tmp_path, broker):
    r = make_rig(tmp_path, broker)
    yield r
    r.stop()


class Display:
    """A display's subscription: every raw delivery, and the events its de-duplication lets through."""

    def __init__(self, messenger) -> None:
        self.raw = Collector()
        self.events = Collector()
        self.handled: list[str] = []
        dedup = Deduplicator()

        def on_event(msg, ev):
            self.handled.append(ev["event_id"])
            self.events(msg)

        handler = EventHandler(on_event, dedup=dedup, hall=HALL_ID)

        def on_message(msg):
            self.raw(msg)
            handler(msg)

        messenger.subscribe(f"{topics.prefix(HALL_ID)}/#", on_message)

    def call_ids(self) -> list[str]:
        return [json.loads(m.payload)["event_id"] for m in self.events.messages if m.topic == topics.call(HALL_ID)]


def test_200_calls_from_20_windows_survive_a_broker_sigkill(rig, broker, messenger_factory):
    tv = messenger_factory(broker, "tv-1", client_id="tv-1", clean_session=False)
    display = Display(tv)
    wait_saved(broker)  # the display's session is on disk: it survives the SIGKILL
    rig.start()
    ticket_ids = rig.issue(200)
    rig.open_all()

    done = Count()
    cond = threading.Condition()
    called: list[tuple[int, str]] = []
    errors: list[BaseException] = []

    def clerk(window: str) -> None:
        try:
            for _ in range(10):
                t = rig.call_next(window)
                rig.finish(window)
                with cond:
                    called.append((t["id"], window))
                    done["calls"] += 1
                    cond.notify_all()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            with cond:
                cond.notify_all()

    threads = [threading.Thread(target=clerk, args=(w,)) for w in rig.windows]
    for t in threads:
        t.start()
    with cond:
        assert cond.wait_for(lambda: done["calls"] >= 70 or errors, 120), "calls did not start"
    broker.kill()  # mid-stream: clerks keep calling while the broker is dead
    with cond:
        assert cond.wait_for(lambda: done["calls"] >= 130 or errors, 120), "calls stopped while the broker was down"
    broker.start()
    for t in threads:
        t.join(180)
    assert not errors, errors
    assert sorted(i for i, _ in called) == sorted(ticket_ids)

    expected = {e["event_id"]: e for e in rig.call_events()}
    assert len(expected) == 200
    display.events.wait_for(lambda ms: set(expected) <= set(display.call_ids()), 120, "all 200 calls at the display")
    wait_until(lambda: rig.undelivered() == 0, 60, "the outbox to drain")

    ids = display.call_ids()
    assert len(ids) == len(set(ids)) == 200  # none missing, none shown twice
    # Every (ticket, window) the clerks called is the call the display showed.
    shown = {(json.loads(m.payload)["ticket_id"], json.loads(m.payload)["window"]) for m in display.events.messages
             if m.topic == topics.call(HALL_ID)}
    assert shown == set(called)
    # Repeats on the wire are only deliveries of calls already seen, which the de-dup dropped.
    raw = Count(json.loads(m.payload)["event_id"] for m in display.raw.messages if m.topic == topics.call(HALL_ID))
    assert set(raw) == set(expected)
    assert Count(display.handled)[ids[0]] == 1 and max(Count(display.handled).values()) == 1


def test_a_call_committed_when_the_server_is_killed_before_publishing_goes_out_after_restart(rig, broker, messenger_factory):
    tv = messenger_factory(broker, "tv-1", client_id="tv-1", clean_session=False)
    display = Display(tv)
    rig.start()
    rig.issue(3)
    rig.open_all()
    first = rig.call_next("01")
    display.events.wait_for(lambda ms: len(display.call_ids()) == 1, what="the first call")

    broker.stop()  # clean stop: the display's session is saved; the server cannot publish now
    second = rig.call_next("02")  # committed with its outbox rows
    pending = [e for e in rig.call_events() if e["ticket_id"] == second["id"]]
    assert len(pending) == 1
    assert rig.undelivered() > 0
    rig.kill()  # SIGKILL after the commit, before anything was published

    broker.start()
    rig.start()
    display.events.wait_for(lambda ms: pending[0]["event_id"] in display.call_ids(), 60, "the call after the restart")
    ids = display.call_ids()
    assert ids.count(pending[0]["event_id"]) == 1 and len(ids) == 2
    assert json.loads(display.events.messages[-1].payload)  # valid JSON through and through
    assert first["id"] != second["id"]


def test_a_late_display_gets_every_windows_state_from_retained_messages(rig, broker, messenger_factory):
    rig.start()
    rig.issue(30)
    rig.open_all()
    for w in rig.windows[:12]:
        rig.call_next(w)
    rig.window_post(rig.windows[12], "pause")
    wait_until(lambda: rig.undelivered() == 0, 30, "the outbox to drain")
    live = {w["id"]: w for w in rig.windows_live()}

    def check_late_display(retained: bool) -> None:
        late = Collector()
        messenger_factory(broker, "kiosk-1").subscribe(topics.all_windows(HALL_ID), EventHandler(lambda m, e: late(m)))
        late.wait_for(lambda ms: len({m.topic for m in ms}) == len(rig.windows), 10, "every window's retained state")
        states = {json.loads(m.payload)["window"]: json.loads(m.payload) for m in late.messages}
        for w in rig.windows:
            assert states[w]["state"] == live[w]["state"]
            assert states[w]["ticket"] == (live[w].get("ticket") or {}).get("number")
        if retained:
            assert all(m.retain for m in late.messages)

    check_late_display(retained=True)
    # A broker that lost everything (SIGKILL, persistence wiped): the server republishes on reconnect.
    broker.kill()
    broker.persistence_file.unlink(missing_ok=True)
    broker.start()
    # (Connecting before the server's republish, the display gets the same states live.)
    check_late_display(retained=False)


def test_server_status_online_stopped_and_offline(rig, broker, messenger_factory):
    watcher = messenger_factory(broker, "yizhan-wechat")
    status = Collector()
    watcher.subscribe(topics.server_status(HALL_ID), EventHandler(lambda m, e: status(m)))

    def states() -> list[str]:
        return [json.loads(m.payload)["state"] for m in status.messages]

    rig.start()
    status.wait_for(lambda ms: states()[-1:] == ["online"], what="online")
    rig.server.stop()  # SIGTERM: a clean stop
    status.wait_for(lambda ms: states()[-1:] == ["stopped"], what="stopped")
    rig.start()
    status.wait_for(lambda ms: states()[-1:] == ["online"], what="online again")
    rig.kill()
    status.wait_for(lambda ms: states()[-1:] == ["offline"], what="the last will")
    assert states() == ["online", "stopped", "online", "offline"]


def test_a_killed_publisher_process_is_restarted_and_nothing_is_lost(rig, broker, messenger_factory):
    import psutil

    tv = messenger_factory(broker, "tv-1", client_id="tv-1", clean_session=False)
    display = Display(tv)
    rig.start()
    rig.issue(4)
    rig.open_all()
    rig.call_next("01")
    display.events.wait_for(lambda ms: len(display.call_ids()) == 1, what="the first call")
    children = psutil.Process(rig.server.proc.pid).children()
    assert len(children) == 1 and "queue_server.publisher" in " ".join(children[0].cmdline())
    children[0].kill()
    children[0].wait(10)
    rig.call_next("02")  # the server keeps answering; the call waits in the outbox
    wait_until(lambda: [c for c in psutil.Process(rig.server.proc.pid).children() if c.pid != children[0].pid], 30,
               "a new publisher process")
    display.events.wait_for(lambda ms: len(display.call_ids()) == 2, 30, "the second call")
    assert len(set(display.call_ids())) == 2
