"""Many halls: a hall's Mosquitto bridges yizhan/<hall>/# to a central broker
(config/mosquitto/bridge.conf.in, central.conf, central-acl), two Mosquittos on loopback."""

from __future__ import annotations

import json

import pytest

from tests.fixtures_mqtt import CONF_DIR, HALL, Collector, LinkProxy, render, rewrite_conf, wait_until
from yizhan.messaging import topics

pytestmark = pytest.mark.mosquitto

BRIDGE_PASSWORD = "bridge-secret"


@pytest.fixture
def link_and_brokers(mosquitto_factory):
    central = mosquitto_factory(
        "central",
        conf_file="central.conf",
        users={HALL: BRIDGE_PASSWORD, "other-hall": "other-secret", "yizhan-centre": "centre-secret"},
        acl_text=(CONF_DIR / "central-acl").read_text(),
    )
    link = LinkProxy(central.port).up()
    bridge = render((CONF_DIR / "bridge.conf.in").read_text(), HALL=HALL, CENTRAL=f"127.0.0.1:{link.port}", PASSWORD=BRIDGE_PASSWORD)
    # Retry the link every second in the test (the shipped backoff goes up to 30 s).
    bridge = rewrite_conf(bridge, {"restart_timeout": "1"})
    hall = mosquitto_factory("hall", bridge_conf=bridge)
    yield central, hall, link
    link.down()


def test_calls_reach_the_centre_and_calls_made_while_the_link_is_down_arrive_after(link_and_brokers, messenger_factory):
    central, hall, link = link_and_brokers
    server = messenger_factory(hall, "yizhan-server")
    hall_display = messenger_factory(hall, "tv-1")
    at_hall = Collector()
    hall_display.subscribe(topics.call(HALL), at_hall)
    centre = messenger_factory(central, "yizhan-centre", "centre-secret")
    at_centre = Collector()
    centre.subscribe("yizhan/#", at_centre)
    link_state = Collector()
    centre.subscribe(f"yizhan-bridge/{HALL}/state", link_state)
    link_state.wait_for(lambda ms: ms and ms[-1].payload == b"1", 20, "the bridge link up")

    def call(n: int) -> bytes:
        payload = json.dumps({"event_id": f"e{n}", "hall": HALL, "ticket": f"A{n:03d}"}).encode()
        server.publish(topics.call(HALL), payload)
        return payload

    wait_until(lambda: call(0) in [m.payload for m in at_centre.messages], 20, "the first call at the centre")
    sent = [call(n) for n in range(1, 11)]
    at_centre.wait_for(lambda ms: all(p in [m.payload for m in ms] for p in sent), what="ten calls at the centre")
    server.publish(topics.window_state(HALL, "05"), b'{"state":"open"}', retain=True)

    link.down()
    link_state.wait_for(lambda ms: ms[-1].payload == b"0", 30, "the centre to see the link down")
    offline = [call(n) for n in range(11, 31)]
    # The hall keeps working on its own.
    at_hall.wait_for(lambda ms: all(p in [m.payload for m in ms] for p in offline), what="calls in the hall during the outage")
    assert not [m for m in at_centre.messages if m.payload in offline]

    link.up()
    at_centre.wait_for(lambda ms: all(p in [m.payload for m in ms] for p in offline), 60, "calls from the outage at the centre")
    link_state.wait_for(lambda ms: ms[-1].payload == b"1", 30, "the link up again")
    calls = [m.payload for m in at_centre.messages if m.topic == topics.call(HALL)]
    assert [p for p in calls if p in offline] == offline  # in order, each once

    # A dashboard connecting later sees the hall's retained state.
    late = Collector()
    messenger_factory(central, "yizhan-centre", "centre-secret").subscribe(topics.all_windows(HALL), late)
    assert late.wait_for(lambda ms: ms, what="retained window state at the centre")[0].payload == b'{"state":"open"}'


def test_a_hall_cannot_write_into_another_halls_topics_at_the_centre(link_and_brokers, messenger_factory):
    central, _hall, _link = link_and_brokers
    intruder = messenger_factory(central, "other-hall", "other-secret")
    centre = messenger_factory(central, "yizhan-centre", "centre-secret")
    got = Collector()
    centre.subscribe("yizhan/#", got)
    wait_until(lambda: centre.connected)

    def own_call_seen() -> bool:
        intruder.publish(topics.call(HALL), b"forged")
        intruder.publish(topics.call("other-hall"), b"own")
        return any(m.payload == b"own" for m in got.messages)

    wait_until(own_call_seen, 10, "the other hall's own call at the centre")
    assert not [m for m in got.messages if m.payload == b"forged"]
