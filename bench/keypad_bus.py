"""Keypad bus figures: poll round-trips for 37 windows (a keypad and a caller each) at 9,600 and
115,200 baud, and caller key press → server action latency against a real `yizhan server`.

The wire is a socat pty pair; both ends pace their writes at the baud rate (8N1), so the
times include the bytes' real time on an RS-485 line.

    .venv/bin/python bench/keypad_bus.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk.keypad_bus.bridge import ServerApi, WindowBridge  # noqa: E402
from kiosk.keypad_bus.cli import pty_pair  # noqa: E402
from kiosk.keypad_bus.master import BusMaster  # noqa: E402
from kiosk.keypad_bus.protocol import Key, Kind  # noqa: E402
from kiosk.keypad_bus.simulator import BusSimulator  # noqa: E402
from kiosk.keypad_bus.transport import SerialTransport  # noqa: E402
from tests.fixtures_hall import small_hall, start_server, write_hall, yizhan, yizhan_env  # noqa: E402
from yizhan.config.keypads import KeypadBusConfig  # noqa: E402

WINDOWS = 37


def bus_config() -> dict:
    return {"id": "bus-1", "port": "simulator", "rating_timeout_s": 30,
            "windows": {f"{i:02d}": {"keypad": i, "caller": 100 + i} for i in range(1, WINDOWS + 1)}}


def devices(cfg: KeypadBusConfig) -> dict[int, Kind]:
    out = {}
    for w in cfg.windows.values():
        out[w.keypad] = Kind.KEYPAD
        out[w.caller] = Kind.CALLER
    return out


def poll_figures(baud: int, tmp: Path) -> None:
    cfg = KeypadBusConfig.model_validate(bus_config())
    socat, a, b = pty_pair(tmp / f"p{baud}")
    sim = BusSimulator.for_windows(b, {k: (w.keypad, w.caller) for k, w in cfg.windows.items()}, baud).start()
    master = BusMaster(SerialTransport(a, baud, pace=True), devices(cfg), lambda ev: None)
    try:
        rounds = [master.poll_all() for _ in range(3)]
        offline = sum(not d.online for d in master.devices.values())
        cycles = []
        for _ in range(20):
            t0 = time.monotonic()
            master.cycle()
            cycles.append(time.monotonic() - t0)
        print(f"{baud:>6} baud: POLL of all {len(master.devices)} devices {1000 * min(rounds):6.0f} ms "
              f"(median {1000 * statistics.median(rounds):.0f} ms, {offline} missed); "
              f"bus cycle (ASK + 2 health polls) median {1000 * statistics.median(cycles):.0f} ms")
    finally:
        master.transport.close()
        sim.stop()
        socat.terminate()
        socat.wait()


def latency(baud: int, tmp: Path, presses: int = 30) -> None:
    hall = small_hall(windows=WINDOWS)
    hall["keypad_buses"] = [bus_config()]
    env = yizhan_env(write_hall(tmp / "config", hall), tmp / "state")
    srv = start_server(env)
    socat = sim = master = bridge = None
    try:
        admin = yizhan("token", "--role", "admin", env=env)
        device = yizhan("token", "--role", "device", "--device", "bus-1", env=env)
        kiosk = yizhan("token", "--role", "kiosk", env=env)
        with httpx.Client(base_url=srv.url + "/api/v1", timeout=10) as c:
            for i in range(1, WINDOWS + 1):
                c.post(f"/windows/{i:02d}/open", headers={"Authorization": f"Bearer {admin}"}).raise_for_status()
            for n in range(presses + 5):
                c.post("/tickets", json={"service": "RS01", "idempotency_key": f"bench-ticket-{n:04d}", "source": "kiosk"},
                       headers={"Authorization": f"Bearer {kiosk}"}).raise_for_status()
        cfg = KeypadBusConfig.model_validate(bus_config())
        socat, a, b = pty_pair(tmp / "lat")
        sim = BusSimulator.for_windows(b, {k: (w.keypad, w.caller) for k, w in cfg.windows.items()}, baud).start()
        api = ServerApi(srv.url, device)
        done = threading.Event()
        finished_at: dict[str, float] = {}

        def on_action(window: str, action: str, status: int) -> None:
            if action == "call-next":
                finished_at[window] = time.monotonic()
                done.set()

        holder: list[WindowBridge] = []
        master = BusMaster(SerialTransport(a, baud, pace=True), devices(cfg), lambda ev: holder[0].on_event(ev))
        bridge = WindowBridge(cfg, api, master)
        bridge.on_action = on_action
        holder.append(bridge)
        bridge.start()
        master.start()
        lat = []
        for n in range(presses):
            w = f"{(n * 7) % WINDOWS + 1:02d}"
            done.clear()
            ev = sim.device(100 + int(w)).press(Key.NEXT)
            t_press = sim.device(100 + int(w)).press_times[ev.seq]
            if not done.wait(10):
                print("press lost", w)
                continue
            lat.append(finished_at[w] - t_press)
            time.sleep(0.05 + (n % 5) * 0.037)  # spread presses over the bus cycle's phase
        lat.sort()
        print(f"{baud:>6} baud: caller key → server call-next answered: median {1000 * statistics.median(lat):.0f} ms, "
              f"p90 {1000 * lat[int(0.9 * len(lat)) - 1]:.0f} ms, max {1000 * lat[-1]:.0f} ms ({len(lat)} presses, {WINDOWS} windows)")
    finally:
        if master:
            master.stop()
        if bridge:
            bridge.stop()
        if sim:
            sim.stop()
        if socat:
            socat.terminate()
            socat.wait()
        srv.stop()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for baud in (9600, 115200):
            poll_figures(baud, tmp)
        latency(9600, tmp / "l9600")
        latency(115200, tmp / "l115200")
