"""The shipped Mosquitto ACL and passwords (config/mosquitto/acl.in, mosquitto.conf)."""

from __future__ import annotations

import pytest

from tests.fixtures_mqtt import HALL, Collector, wait_until
from yizhan.messaging import topics
from yizhan.messaging.base import PublishError

pytestmark = pytest.mark.mosquitto


@pytest.fixture
def listener(mosquitto, messenger_factory):
    """The queue server's own client, subscribed to everything of the hall (and beyond)."""
    server = messenger_factory(mosquitto, "yizhan-server")
    got = Collector()
    server.subscribe("#", got)

    def active() -> bool:
        server.publish(topics.server_status(HALL), b"probe")
        return any(m.payload == b"probe" for m in got.messages)

    wait_until(active, 10, "the listener's subscription")
    return server, got


def _marker(server, got: Collector, text: bytes) -> None:
    """Everything published before the marker on other connections has been routed by now."""
    server.publish(topics.call(HALL), text)
    got.wait_for(lambda ms: any(m.payload == text for m in ms), what="the marker")


def test_a_display_cannot_publish_a_fake_call(mosquitto, messenger_factory, listener):
    server, got = listener
    tv = messenger_factory(mosquitto, "tv-1")
    # MQTT 3.1.1 has no way to refuse a publish: Mosquitto acknowledges and drops it.
    try:
        tv.publish(topics.call(HALL), '{"ticket":"A999","text":"请A999号到1号窗口办理"}'.encode())
    except PublishError:
        pass
    tv.publish(topics.window_state(HALL, "01"), b'{"state":"closed"}', retain=True)
    _marker(server, got, b"marker")
    assert not [m for m in got.messages if b"A999" in m.payload or m.topic == topics.window_state(HALL, "01")]


def test_a_device_writes_only_its_own_status(mosquitto, messenger_factory, listener):
    server, got = listener
    tv = messenger_factory(mosquitto, "tv-1")
    tv.publish(topics.device_status(HALL, "tv-1"), b'{"state":"online"}', retain=True)
    tv.publish(topics.device_status(HALL, "kiosk-1"), b'{"state":"offline"}', retain=True)
    _marker(server, got, b"marker")
    device_msgs = [m.topic for m in got.messages if "/device/" in m.topic]
    assert device_msgs == [topics.device_status(HALL, "tv-1")]


def test_the_wechat_bridge_reads_but_cannot_write(mosquitto, messenger_factory, listener):
    server, got = listener
    wechat = messenger_factory(mosquitto, "yizhan-wechat")
    seen = Collector()
    wechat.subscribe(topics.all_tickets(HALL), seen)
    wechat.publish(topics.ticket(HALL, "tok123"), b"forged")

    def delivered() -> bool:
        server.publish(topics.ticket(HALL, "tok123"), b"real")
        return any(m.payload == b"real" for m in seen.messages)

    wait_until(delivered, 10, "the real ticket event at the bridge")
    _marker(server, got, b"marker")
    assert not [m for m in got.messages + seen.messages if m.payload == b"forged"]


def test_the_server_is_confined_to_its_hall(mosquitto, messenger_factory, listener):
    server, got = listener
    server.publish(topics.call("other-hall"), b"wrong hall")
    _marker(server, got, b"marker")
    assert not [m for m in got.messages if m.payload == b"wrong hall"]


@pytest.mark.parametrize("user,password", [("tv-1", "wrong"), ("yizhan-server", ""), ("nobody", "x"), (None, None)])
def test_wrong_password_or_anonymous_is_refused(mosquitto, messenger_factory, user, password):
    m = messenger_factory(mosquitto, user, password, wait=False)
    wait_until(lambda: m.refusal, 10, "the broker's refusal")
    assert "authori" in m.refusal.lower() or "password" in m.refusal.lower()
    assert not m.connected
    with pytest.raises(PublishError):
        m.publish(topics.call(HALL), b"x")
