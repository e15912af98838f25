"""The embedded broker (amqtt) that `yizhan server` starts when YIZHAN_MQTT_URL is unset."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

from tests.fixtures_hall import ROOT
from tests.fixtures_mqtt import Collector
from tests.mqtt.rig import HALL_ID, HallRig
from yizhan.messaging import topics
from yizhan.messaging.broker import EmbeddedBroker
from yizhan.messaging.dedup import EventHandler
from yizhan.messaging.factory import build_messenger
from yizhan.settings import load_settings


def test_port_zero_picks_a_free_port_that_clients_find_in_the_state_dir(tmp_path):
    broker = EmbeddedBroker(0, state_dir=tmp_path)
    port = broker.start()
    messengers = []
    try:
        assert (tmp_path / "mqtt.port").read_text().strip() == str(port)
        settings = load_settings({"YIZHAN_STATE_DIR": str(tmp_path), "YIZHAN_MQTT_PORT": "0"})
        pub = build_messenger(settings, client_id="pub")
        sub = build_messenger(settings, client_id="sub")
        messengers += [pub, sub]
        for m in messengers:
            m.start()
            assert m.wait_connected(10)
        pub.publish(topics.window_state(HALL_ID, "01"), "窗口".encode(), retain=True)
        got = Collector()
        sub.subscribe(topics.all_windows(HALL_ID), got)
        assert got.wait_for(lambda ms: ms, what="retained state")[0].payload.decode() == "窗口"
    finally:
        for m in messengers:
            m.stop()
        broker.stop()
    assert not (tmp_path / "mqtt.port").exists()


def test_yizhan_server_starts_the_embedded_broker_and_publishes_calls(tmp_path):
    rig = HallRig(tmp_path / "rig", windows=2, mqtt_port="0")
    display = None
    try:
        rig.start()
        port_file = rig.state_dir / "mqtt.port"
        assert port_file.exists()
        settings = load_settings(rig.env)
        display = build_messenger(settings, client_id="tv-1")
        calls, status = Collector(), Collector()
        display.subscribe(topics.call(HALL_ID), EventHandler(lambda m, e: calls(m), hall=HALL_ID))
        display.subscribe(topics.server_status(HALL_ID), EventHandler(lambda m, e: status(m), hall=HALL_ID))
        display.start()
        assert display.wait_connected(10)
        status.wait_for(lambda ms: [m for m in ms if json.loads(m.payload)["state"] == "online"], what="server online")
        rig.issue(2)
        rig.open_all()
        ticket = rig.call_next("02")
        msg = calls.wait_for(lambda ms: ms[:1], what="the call")[0]
        call = json.loads(msg.payload)
        assert (call["ticket_id"], call["window"], call["text"]) == (ticket["id"], "02", f"请{ticket['number']}号到2号窗口办理")
    finally:
        if display is not None:
            display.stop()
        rig.stop()


def test_a_busy_port_stops_the_server_with_a_clear_message(tmp_path):
    rig = HallRig(tmp_path / "rig", windows=1)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        env = rig.env | {"YIZHAN_MQTT_PORT": str(busy.getsockname()[1])}
        out = subprocess.run([sys.executable, "-m", "yizhan.cli", "server", "--port", "0"], env=env, cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
    rig.stop()
    assert out.returncode == 1
    assert "YIZHAN_MQTT_PORT" in out.stderr and "内置 MQTT 代理" in out.stderr
    assert "Traceback" not in out.stderr + out.stdout
