"""Caller keys and ratings against a real `yizhan server` (subprocess, temp state dir, free port)."""

import httpx
import pytest

from kiosk.keypad_bus.bridge import ServerApi, WindowBridge
from kiosk.keypad_bus.master import BusMaster
from kiosk.keypad_bus.protocol import Key, Kind
from kiosk.keypad_bus.simulator import BusSimulator
from kiosk.keypad_bus.transport import SerialTransport
from tests.fixtures_hall import small_hall, start_server, write_hall, yizhan, yizhan_env
from tests.keypads.conftest import wait_for
from yizhan.config.keypads import KeypadBusConfig


@pytest.fixture
def hall(tmp_path):
    cfg = small_hall(windows=2)
    cfg["keypad_buses"] = [{"id": "bus-1", "port": "simulator", "rating_timeout_s": 30,
                            "windows": {"01": {"keypad": 11, "caller": 1}, "02": {"keypad": 12, "caller": 2}}}]
    env = yizhan_env(write_hall(tmp_path / "config", cfg), tmp_path / "state")
    srv = start_server(env)
    try:
        admin = yizhan("token", "--role", "admin", env=env)
        device = yizhan("token", "--role", "device", "--device", "bus-1", env=env)
        yield srv, cfg, admin, device
    finally:
        srv.stop()


class FakeTime:
    """The bridge's clock, moved by the test (no waiting for the rating timeout)."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def hall_bus(hall, ptys):
    srv, cfg, admin, device = hall
    bus_cfg = KeypadBusConfig.model_validate(cfg["keypad_buses"][0])
    sim = BusSimulator.for_windows(ptys.b, {k: (w.keypad, w.caller) for k, w in bus_cfg.windows.items()}).start()
    devices = {11: Kind.KEYPAD, 12: Kind.KEYPAD, 1: Kind.CALLER, 2: Kind.CALLER}
    clock = FakeTime()
    api = ServerApi(srv.url, device)
    bridge_box = []
    master = BusMaster(SerialTransport(ptys.a, 9600, pace=True), devices, lambda ev: bridge_box[0].on_event(ev))
    bridge = WindowBridge(bus_cfg, api, master, clock=clock)
    bridge_box.append(bridge)
    bridge.start()
    master.start()
    yield srv, admin, sim, bridge, clock
    master.stop()
    bridge.stop()
    sim.stop()
    api.close()


def _kiosk_ticket(srv, admin, service="GA01", key="kiosk-key-1"):
    kiosk = yizhan("token", "--role", "kiosk", env=srv.env)
    body = {"service": service, "idempotency_key": key, "source": "kiosk"}
    if service == "GA01":
        body["identity"] = {"id_hash": "ab" * 32, "masked_id": "6201**********1234", "masked_name": "张*", "age": 40,
                            "card_type": "resident"}
    r = httpx.post(srv.url + "/api/v1/tickets", json=body, headers={"Authorization": f"Bearer {kiosk}"})
    assert r.status_code == 201, r.text
    return r.json()


def _ticket(srv, admin, tid):
    return httpx.get(f"{srv.url}/api/v1/tickets/{tid}", headers={"Authorization": f"Bearer {admin}"}).json()


def test_caller_keys_call_and_finish_and_the_keypad_rating_is_recorded(hall_bus):
    srv, admin, sim, bridge, clock = hall_bus
    t = _kiosk_ticket(srv, admin)
    sim.device(1).press(Key.NEXT)
    wait_for(lambda: sim.device(1).display == t["number"], what="caller shows the called number")
    assert _ticket(srv, admin, t["id"])["state"] == "called"
    sim.device(1).press(Key.FINISH)
    wait_for(lambda: sim.device(11).lit, what="keypad asks for a rating")
    assert _ticket(srv, admin, t["id"])["state"] == "done"
    wait_for(lambda: sim.device(1).display == "----", what="blank after finish")
    sim.device(11).rate(2)  # 不满意
    wait_for(lambda: ("01", "rating", 201) in bridge.actions, what="rating accepted by the server")
    assert bridge.rated == 1
    # the second try to rate the same ticket is refused by the server: one rating per ticket
    r = httpx.post(f"{srv.url}/api/v1/tickets/{t['id']}/rating", json={"score": 5},
                   headers={"Authorization": f"Bearer {admin}"})
    assert r.status_code >= 400


def test_no_press_in_time_is_not_rated(hall_bus):
    srv, admin, sim, bridge, clock = hall_bus
    _kiosk_ticket(srv, admin, key="kiosk-key-2")
    sim.device(1).press(Key.NEXT)
    wait_for(lambda: sim.device(1).display not in ("", "----"), what="called")
    sim.device(1).press(Key.FINISH)
    wait_for(lambda: sim.device(11).lit, what="keypad lit")
    clock.now += 31  # past rating_timeout_s
    wait_for(lambda: bridge.not_rated == 1, what="not rated")
    wait_for(lambda: not sim.device(11).lit, what="keypad dark again")
    assert sim.device(11).rate(5) is None
    assert bridge.rated == 0 and not [a for a in bridge.actions if a[1] == "rating"]


def test_nothing_waiting_shows_blank_and_pause_toggles(hall_bus):
    srv, admin, sim, bridge, clock = hall_bus
    sim.device(2).press(Key.NEXT)
    wait_for(lambda: ("02", "call-next", 204) in bridge.actions, what="204")
    assert ("02", "open", 200) in bridge.actions
    wait_for(lambda: sim.device(2).display == "----", what="blank display")
    sim.device(2).press(Key.PAUSE)
    wait_for(lambda: ("02", "pause", 200) in bridge.actions, what="paused")  # "next" opened the window
    windows = httpx.get(srv.url + "/api/v1/windows", headers={"Authorization": f"Bearer {admin}"}).json()
    assert next(w for w in windows if w["id"] == "02")["state"] == "paused"
    sim.device(2).press(Key.PAUSE)
    wait_for(lambda: ("02", "open", 200) in bridge.actions, what="open again")


def test_finish_in_the_web_console_lights_the_keypad_through_the_window_state(hall_bus):
    """The clerk finishes at the console (HTTP, admin here); the retained window state on MQTT
    carries `finished`, and the bus asks that window's keypad for a rating."""
    import json

    from yizhan.messaging import topics
    from yizhan.messaging.factory import build_messenger
    from yizhan.settings import load_settings

    srv, admin, sim, bridge, clock = hall_bus
    messenger = build_messenger(load_settings(srv.env), client_id="test-keypads")
    messenger.subscribe(topics.all_windows("testhall"), lambda m: bridge.on_window_state(json.loads(m.payload)))
    messenger.start()
    try:
        t = _kiosk_ticket(srv, admin, service="RS01", key="kiosk-key-3")
        h = {"Authorization": f"Bearer {admin}"}
        httpx.post(f"{srv.url}/api/v1/windows/02/open", headers=h).raise_for_status()
        called = httpx.post(f"{srv.url}/api/v1/windows/02/call-next", headers=h).json()
        assert called["ticket"]["id"] == t["id"]
        wait_for(lambda: sim.device(2).display == t["number"], what="caller shows the console's call")
        httpx.post(f"{srv.url}/api/v1/windows/02/finish", headers=h).raise_for_status()
        wait_for(lambda: sim.device(12).lit, what="keypad of window 02 lit")
        assert sim.device(12).prompt_ticket == t["number"] and not sim.device(11).lit
        sim.device(12).rate(5)
        wait_for(lambda: ("02", "rating", 201) in bridge.actions, what="rating stored")
    finally:
        messenger.stop()


def test_offline_keypad_shows_in_the_bus_health_on_the_server(hall_bus):
    """A silent keypad: the bus reports itself degraded; the server republishes it retained on MQTT."""
    import json

    from yizhan.messaging import topics
    from yizhan.messaging.factory import build_messenger
    from yizhan.settings import load_settings

    srv, admin, sim, bridge, clock = hall_bus
    seen = []
    messenger = build_messenger(load_settings(srv.env), client_id="test-keypads-health")
    messenger.subscribe(topics.device_status("testhall", "bus-1"), lambda m: seen.append(json.loads(m.payload)))
    messenger.start()
    try:
        bridge.master.on_health = bridge.on_health
        sim.device(12).dead = True
        wait_for(lambda: not bridge.master.devices[12].online, timeout=30, what="offline")
        status = wait_for(lambda: next((x for x in seen if x.get("state") == "degraded"), None), what="degraded bus")
        assert status["parts"]["02-评价器"]["ok"] is False and status["parts"]["01-评价器"]["ok"] is True
    finally:
        messenger.stop()


def test_keypads_command_with_simulated_clerks_serves_a_ticket_and_stops_on_sigterm(hall):
    import signal
    import subprocess
    import sys

    srv, cfg, admin, device = hall
    t = _kiosk_ticket(srv, admin, service="RS01", key="kiosk-key-9")
    env = srv.env | {"YIZHAN_TOKEN": device, "YIZHAN_SERVER_URL": srv.url, "YIZHAN_LOG_LEVEL": "INFO"}
    # simulated clerks press caller keys: the ticket gets called and finished through the real bus path
    p = subprocess.Popen([sys.executable, "-m", "yizhan.cli", "keypads", "--simulate", "--clerks", "0.2"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        for line in p.stdout:
            lines.append(line)
            if "已启动" in line:
                break
        wait_for(lambda: _ticket(srv, admin, t["id"])["state"] == "done", timeout=60, what="ticket served by key presses")
        p.send_signal(signal.SIGTERM)
        rest, _ = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, "".join(lines) + rest
    assert any("评价器总线 bus-1 已启动" in x and "4 台设备" in x for x in lines)
