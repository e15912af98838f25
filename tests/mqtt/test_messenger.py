"""The MQTT messenger against a real Mosquitto: acknowledged publishes, reconnects, last wills."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

from tests.fixtures_mqtt import HALL, ROOT, USERS, Collector, wait_saved, wait_until
from yizhan.messaging import topics
from yizhan.messaging.base import PublishError
from yizhan.messaging.factory import device_will, server_will

pytestmark = pytest.mark.mosquitto


def test_publish_is_acknowledged_and_delivered_with_chinese_text(mosquitto, messenger_factory):
    server = messenger_factory(mosquitto, "yizhan-server")
    tv = messenger_factory(mosquitto, "tv-1")
    got = Collector()
    subscribed = threading.Event()
    tv.on_connect(subscribed.set)
    tv.subscribe(topics.call(HALL), got)
    # A sentinel retained message proves the subscription is active before the real publish.
    server.publish(topics.server_status(HALL), b'{"state":"online"}', retain=True)
    tv.subscribe(topics.server_status(HALL), got)
    got.wait_for(lambda ms: any(m.topic == topics.server_status(HALL) for m in ms), what="subscription active")

    text = "请A012号到5号窗口办理".encode()
    server.publish(topics.call(HALL), text)  # returns only after the PUBACK
    msg = got.wait_for(lambda ms: next((m for m in ms if m.topic == topics.call(HALL)), None), what="the call")
    assert msg.payload.decode() == "请A012号到5号窗口办理"
    assert msg.retain is False


def test_publish_without_broker_fails_at_once_and_is_not_sent_later(mosquitto, messenger_factory):
    # A subscriber whose session the broker keeps across its restart: anything resent after
    # the restart would be queued for it.
    tv = messenger_factory(mosquitto, "tv-1", clean_session=False, client_id="tv-1")
    got = Collector()
    tv.subscribe(f"{topics.prefix(HALL)}/#", got)
    server = messenger_factory(mosquitto, "yizhan-server")
    server.publish(topics.call(HALL), b"before")
    got.wait_for(lambda ms: ms, what="the first call")
    wait_saved(mosquitto)

    mosquitto.kill()
    wait_until(lambda: not server.connected, 10, "the messenger to notice the broker is gone")
    with pytest.raises(PublishError):
        server.publish(topics.call(HALL), b"lost while away")
    mosquitto.start()
    wait_until(lambda: server.wait_connected(0.1), 15, "reconnect")
    wait_until(lambda: tv.wait_connected(0.1), 15, "subscriber reconnect")
    server.publish(topics.call(HALL), b"after")
    got.wait_for(lambda ms: any(m.payload == b"after" for m in ms), what="the message after the restart")
    # The failed publish was reported as failed, so it must not turn up behind the caller's back.
    assert [m.payload for m in got.messages if m.topic == topics.call(HALL)] in ([b"before", b"after"], [b"before", b"before", b"after"])


def test_reconnects_and_resubscribes_after_the_broker_is_killed(mosquitto, messenger_factory):
    server = messenger_factory(mosquitto, "yizhan-server")
    tv = messenger_factory(mosquitto, "tv-1")
    connects = []
    tv.on_connect(lambda: connects.append(1))
    got = Collector()
    tv.subscribe(topics.call(HALL), got)
    wait_until(lambda: tv.connected, what="tv connected")

    mosquitto.kill()
    mosquitto.start()
    wait_until(lambda: server.connected and tv.connected and connects, 15, "both clients back")

    def delivered() -> bool:
        # Publishing until one arrives: the subscription is renewed right after CONNACK.
        try:
            server.publish(topics.call(HALL), b"again")
        except PublishError:
            return False
        return any(m.payload == b"again" for m in got.messages)

    wait_until(delivered, 15, "a call delivered after the restart")


def test_last_will_marks_a_killed_device_offline_with_a_fresh_event_id(mosquitto, messenger_factory, tmp_path):
    watcher = messenger_factory(mosquitto, "yizhan-wechat")
    got = Collector()
    watcher.subscribe(topics.all_devices(HALL), got)

    script = f"""
import sys, time
sys.path.insert(0, {str(ROOT)!r})
from yizhan.messaging.mqtt import MqttMessenger
from yizhan.messaging.factory import device_will, device_status_payload
m = MqttMessenger("127.0.0.1", {mosquitto.port}, client_id="tv-1", username="tv-1", password={USERS['tv-1']!r},
                  will=device_will({HALL!r}, "tv-1", "display"))
m.start()
assert m.wait_connected(10)
m.publish("{topics.device_status(HALL, 'tv-1')}", device_status_payload({HALL!r}, "tv-1", "display", "online"), retain=True)
print("ready", flush=True)
time.sleep(600)
"""
    wills = []
    for _ in range(2):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout.readline().strip() == "ready"
            proc.kill()  # SIGKILL: no DISCONNECT, the broker must send the will
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
        n = len(wills)
        msg = got.wait_for(
            lambda ms: [m for m in ms if json.loads(m.payload)["state"] == "offline"][n:][:1], what="the last will"
        )[0]
        wills.append(json.loads(msg.payload))
    assert all(w["device"] == "tv-1" and w["hall"] == HALL and w["state"] == "offline" for w in wills)
    assert wills[0]["event_id"] != wills[1]["event_id"]

    # A display connecting later still sees the device as offline (retained).
    late = Collector()
    messenger_factory(mosquitto, "kiosk-1").subscribe(topics.device_status(HALL, "tv-1"), late)
    msg = late.wait_for(lambda ms: ms[:1], what="retained device status")[0]
    assert msg.retain and json.loads(msg.payload)["state"] == "offline"


def test_clean_stop_sends_no_last_will(mosquitto, messenger_factory):
    watcher = messenger_factory(mosquitto, "yizhan-wechat")
    got = Collector()
    watcher.subscribe(topics.server_status(HALL), got)
    watcher.subscribe(topics.call(HALL), got)
    server = messenger_factory(mosquitto, "yizhan-server", will=server_will(HALL))
    server.publish(topics.server_status(HALL), b'{"state":"stopped"}', retain=True)
    got.wait_for(lambda ms: ms, what="the stopped status")
    server.stop()
    # A marker published after the stop: the broker handles the DISCONNECT first, so a will
    # (if any) would arrive before it.
    marker = messenger_factory(mosquitto, "yizhan-server")
    marker.publish(topics.call(HALL), b"marker")
    got.wait_for(lambda ms: any(m.payload == b"marker" for m in ms), what="the marker")
    assert [m.payload for m in got.messages if m.topic == topics.server_status(HALL)] == [b'{"state":"stopped"}']


def test_handlers_may_publish_and_a_failing_handler_does_not_stop_delivery(mosquitto, messenger_factory):
    server = messenger_factory(mosquitto, "yizhan-server")
    got = Collector()

    def bad(msg):
        raise ValueError("a bug in one handler")

    def echo(msg):
        if msg.payload == b"ping":
            server.publish(topics.call(HALL), b"pong")  # waits for PUBACK from the dispatcher thread

    server.subscribe(topics.call(HALL), bad)
    server.subscribe(topics.call(HALL), echo)
    server.subscribe(topics.call(HALL), got)
    wait_until(lambda: server.connected)

    def pinged() -> bool:
        server.publish(topics.call(HALL), b"ping")
        return got.wait_for(lambda ms: any(m.payload == b"ping" for m in ms), 2, "ping")

    wait_until(pinged, 10, "subscription active")
    got.wait_for(lambda ms: any(m.payload == b"pong" for m in ms), what="the echo")


def test_device_will_names_its_device():
    will = device_will(HALL, "kiosk-1", "kiosk")
    assert will.topic == topics.device_status(HALL, "kiosk-1") and will.retain and will.qos == 1
    a, b = json.loads(will.render()), json.loads(will.render())
    assert a["state"] == "offline" and a["kind"] == "kiosk" and a["event_id"] != b["event_id"]
