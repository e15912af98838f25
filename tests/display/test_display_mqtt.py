"""The display board end to end on a real Mosquitto: TV (offscreen Kivy), LED board and window
strips (simulators on pty pairs), voice (WAV files), announcements.jsonl as the proof."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime

import pytest

from display_board.announcements import read_log
from display_board.service import DisplayService
from tests.display.helpers import (
    DISPLAY, HALL, call_payload, display_hall, kivy_pump, queue_payload, wait_for, window_payload,
)
from tests.fixtures_mqtt import USERS
from yizhan.clock import ManualClock
from yizhan.messaging import topics
from yizhan.messaging.factory import device_will
from yizhan.messaging.mqtt import MqttMessenger

pytestmark = [pytest.mark.mosquitto, pytest.mark.kivy]


@pytest.fixture
def server(mosquitto, messenger_factory):
    return messenger_factory(mosquitto, "yizhan-server")


@pytest.fixture
def start_display(mosquitto, tmp_path, kivy_window, server):
    started = []
    # The queue server's retained status: once the display has it, its subscriptions are active.
    server.publish(topics.server_status(HALL), json.dumps(
        {"event_id": "status-1", "hall": HALL, "at": "2026-11-23T09:00:00+08:00", "state": "online"}).encode(), retain=True)

    def start(hall=None, *, with_tv=True):
        from display_board.tv.screen import TvScreen, TvSink

        hall = hall or display_hall()
        display = hall.displays[0]
        clock = ManualClock(datetime.fromisoformat("2026-11-23T09:30:00+08:00"))
        messenger = MqttMessenger(
            "127.0.0.1", mosquitto.port, client_id=f"yizhan-display-{DISPLAY}", username=DISPLAY,
            password=USERS[DISPLAY], will=device_will(HALL, DISPLAY, "display", clock), clean_session=False,
        )
        service = DisplayService(hall, display, messenger, tmp_path / "state", clock, simulate=True, led_retry_s=0.2)
        screen = None
        if with_tv:
            screen = TvScreen(clock, history=display.tv.history, flash_s=display.tv.flash_s)
            kivy_window.add_widget(screen)
            screen.size = kivy_window.size
            service.attach_tv(TvSink(screen, service.log))
        service.start()
        started.append((service, screen))
        wait_for(lambda: service.view.server_state == "online", what="the display's subscriptions")
        return service, screen

    yield start
    for service, screen in started:
        service.stop()
        if screen is not None:
            kivy_window.remove_widget(screen)


def records(service, output, board=None):
    return [(r["ticket"], r["recall"]) for r in read_log(service.state_dir)
            if r["output"] == output and (board is None or r.get("board") == board)]


def publish_call(server, ticket, window, **kw):
    server.publish(topics.call(HALL), call_payload(ticket, window, **kw))


def test_a_burst_of_20_calls_in_one_second_is_shown_and_spoken_in_order_each_once(server, start_display):
    service, screen = start_display()
    windows = ["01", "02", "03", "04", "05", "06"]
    burst = [(f"A{i:03d}", windows[i % 6]) for i in range(1, 21)]

    def publish_burst():
        for ticket, window in burst:
            publish_call(server, ticket, window)
            server.publish(topics.window_state(HALL, window), window_payload(window, ticket=ticket), retain=True)
            time.sleep(0.05)  # pacing the load: 20 calls spread over one second

    publisher = threading.Thread(target=publish_burst)
    publisher.start()
    expected = [(t, 0) for t, _ in burst]
    def all_out():
        return all(len(records(service, *o)) >= 20 for o in (("tv",), ("voice",), ("led", "hall"), ("led", "strip")))

    try:
        wait_for(lambda: all_out() and service.idle(), timeout=60, pump=kivy_pump, what="every call on every output")
    finally:
        publisher.join()
        print({o: records(service, *o) for o in (("tv",), ("voice",), ("led", "hall"), ("led", "strip"))})
    assert records(service, "tv") == expected
    assert records(service, "led", "hall") == expected
    assert records(service, "led", "strip") == expected
    assert records(service, "voice") == expected
    assert len(list((service.work_dir / "voice").glob("*.wav"))) == 20
    # What the hall sees now: the last call, and each window's strip with its last number.
    assert screen.current_ticket == "A020" and "3号窗口" in screen.current_window
    assert [r.ticket for r in screen.rows] == ["A019", "A018", "A017", "A016", "A015", "A014", "A013", "A012"]
    assert service.sims.board.texts(1)[1:3] == ["请A020号到3号窗口", "请A019号到2号窗口"]
    strips = service.sims.strips
    assert [strips.texts(i)[0] for i in range(1, 7)] == ["A018", "A019", "A020", "A015", "A016", "A017"]


def test_a_recall_is_spoken_again_and_a_repeated_message_is_not(server, start_display):
    service, screen = start_display()
    first = call_payload("B007", "04", event_id="call-b007")
    server.publish(topics.call(HALL), first)
    server.publish(topics.call(HALL), first)  # QoS 1 redelivery: same event_id
    wait_for(lambda: records(service, "tv"), pump=kivy_pump, what="B007 on the TV")
    publish_call(server, "B008", "05")
    wait_for(lambda: len(records(service, "tv")) >= 2, pump=kivy_pump, what="B008 on the TV")
    publish_call(server, "B007", "04", recall=1)
    wait_for(lambda: len(records(service, "voice")) >= 3 and service.idle(), pump=kivy_pump, what="three announcements")
    wait_for(lambda: len(records(service, "tv")) >= 3, pump=kivy_pump, what="three TV frames")
    assert records(service, "voice") == [("B007", 0), ("B008", 0), ("B007", 1)]
    assert records(service, "tv") == [("B007", 0), ("B008", 0), ("B007", 1)]
    assert screen.current_ticket == "B007" and "第2次呼叫" in screen.current_note


def test_a_display_started_after_10_calls_shows_the_current_numbers_from_retained_state(server, start_display):
    served = {}
    for i in range(1, 11):
        ticket, window = f"A{i:03d}", f"{(i - 1) % 5 + 1:02d}"
        publish_call(server, ticket, window)
        server.publish(topics.window_state(HALL, window), window_payload(window, ticket=ticket, at=f"2026-11-23T09:{i:02d}:00+08:00"), retain=True)
        served[window] = ticket
    server.publish(topics.window_state(HALL, "06"), window_payload("06", state="paused"), retain=True)
    server.publish(topics.queue_state(HALL, "A"), queue_payload("A", 4, "综合受理"), retain=True)
    service, screen = start_display()
    wait_for(lambda: screen.current_ticket == "A010" and service.idle(), pump=kivy_pump, what="the retained state on the TV")
    strips = service.sims.strips
    wait_for(lambda: [strips.texts(i)[0] for i in range(1, 7)] == ["A006", "A007", "A008", "A009", "A010", "暂停服务"],
             what="the strips from the retained window states")
    assert [r.ticket for r in screen.rows[:4]] == ["A009", "A008", "A007", "A006"]
    assert service.sims.board.texts(1)[1] == "请A010号到5号窗口"
    assert service.sims.board.texts(1)[3] == "综合受理等候4人"
    assert not screen.flash_on
    # Calls made before the display started are history: shown, never announced.
    assert records(service, "voice") == []


def test_a_paused_window_updates_its_strip(server, start_display):
    service, _ = start_display(with_tv=False)
    publish_call(server, "A031", "02")
    server.publish(topics.window_state(HALL, "02"), window_payload("02", ticket="A031"), retain=True)
    strips = service.sims.strips
    wait_for(lambda: strips.texts(2)[0] == "A031", what="A031 on window 2")
    server.publish(topics.window_state(HALL, "02"), window_payload("02", state="paused"), retain=True)
    wait_for(lambda: strips.texts(2)[0] == "暂停服务", what="暂停服务 on window 2")
    server.publish(topics.window_state(HALL, "02"), window_payload("02"), retain=True)
    wait_for(lambda: strips.texts(2)[0] == "请稍候", what="请稍候 on window 2")


def test_garbage_on_the_topics_is_logged_once_and_calls_go_on(server, start_display, caplog):
    service, screen = start_display()
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            server.publish(topics.call(HALL), b"\x00\x01 not json")
            server.publish(topics.call(HALL), json.dumps({"event_id": "x1", "hall": HALL, "at": "now", "ticket": 5}).encode())
            server.publish(topics.window_state(HALL, "01"), b'{"state": "exploded"}', retain=True)
        publish_call(server, "A100", "01", brand_new_field=[1, 2, 3])
        wait_for(lambda: records(service, "voice") == [("A100", 0)] and service.idle(), pump=kivy_pump, what="the good call")
        wait_for(lambda: screen.current_ticket == "A100", pump=kivy_pump, what="A100 on the TV")
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and "malformed" in r.getMessage()]
    assert len(warnings) == len(set(warnings)) and 1 <= len(warnings) <= 3
    assert records(service, "led", "hall") == [("A100", 0)]


def test_a_missing_voice_engine_is_reported_and_the_screens_go_on(server, start_display, mosquitto, messenger_factory, tmp_path):
    from tests.fixtures_mqtt import Collector

    watcher = messenger_factory(mosquitto, "yizhan-server")
    statuses = Collector()
    watcher.subscribe(topics.device_status(HALL, DISPLAY), statuses)
    hall = display_hall(voice={"engine": "wav_pack", "pack_dir": str(tmp_path / "no-such-pack")})
    service, screen = start_display(hall)
    publish_call(server, "C001", "03")
    wait_for(lambda: records(service, "tv") and records(service, "led", "hall") and service.idle(), pump=kivy_pump,
             what="the call on the screens")
    assert records(service, "voice") == []

    def voice_reported(msgs):
        for m in reversed(msgs):
            data = json.loads(m.payload)
            if data["state"] == "online" and "voice" in data["parts"] and data["parts"].get("led_board", {}).get("ok"):
                return data
        return None

    data = statuses.wait_for(voice_reported, what="a device status naming the voice fault")
    assert data["device"] == DISPLAY and data["kind"] == "display"
    assert data["parts"]["voice"]["ok"] is False and "语音包目录不存在" in data["parts"]["voice"]["detail"]
    assert data["parts"]["window_strips"]["ok"] is True


def test_last_will_marks_the_display_offline_when_it_vanishes(mosquitto, messenger_factory, tmp_path):
    """The broker, not the display, says it is gone: the will set at connect."""
    from tests.fixtures_mqtt import Collector, LinkProxy

    watcher = messenger_factory(mosquitto, "yizhan-server")
    statuses = Collector()
    watcher.subscribe(topics.device_status(HALL, DISPLAY), statuses)
    proxy = LinkProxy(mosquitto.port).up()
    hall = display_hall()
    clock = ManualClock(datetime.fromisoformat("2026-11-23T09:30:00+08:00"))
    messenger = MqttMessenger("127.0.0.1", proxy.port, client_id="yizhan-display-tv-1", username=DISPLAY,
                              password=USERS[DISPLAY], will=device_will(HALL, DISPLAY, "display", clock), keepalive=1)
    service = DisplayService(hall, hall.displays[0], messenger, tmp_path / "state", clock, simulate=True)
    service.start()
    try:
        statuses.wait_for(lambda ms: any(json.loads(m.payload)["state"] == "online" for m in ms), what="online")
        proxy.down()  # the display's network cable is pulled
        statuses.wait_for(lambda ms: json.loads(ms[-1].payload)["state"] == "offline", what="the last will")
    finally:
        proxy.down()
        service.stop()


def test_a_restarted_display_does_not_announce_a_call_again(server, start_display):
    """The broker replays a call the display already spoke (its session was persistent):
    the ids in announcements.jsonl keep it from being said twice."""
    service, _ = start_display(with_tv=False)
    replayed = call_payload("D001", "02", event_id="call-d001")
    server.publish(topics.call(HALL), replayed)
    wait_for(lambda: records(service, "voice") and service.idle(), what="D001 spoken")
    service.stop()
    service2, _ = start_display(with_tv=False)
    server.publish(topics.call(HALL), replayed)
    publish_call(server, "D002", "02")
    wait_for(lambda: ("D002", 0) in records(service2, "voice") and service2.idle(), what="D002 spoken")
    assert records(service2, "voice") == [("D001", 0), ("D002", 0)]
