"""MQTT fan-out latency: from a clerk's HTTP `call-next` to a display receiving the call.

Runs a real `yizhan server` (subprocess, SQLite) with N windows whose clerks call together
(`--pace burst`: all at the same moment, round after round; `--pace flat-out`: each calls
again as soon as answered, which overloads the server), and a display subscribed to `yizhan/<hall>/call`, once on Mosquitto and once on the
embedded broker (amqtt). Prints p50/p99/max of
  - response→display: display receipt minus the moment the HTTP response arrived
    (negative = the display had it before the clerk's screen; counted, shown as 0 in the figures)
  - request→display: display receipt minus the moment the request was sent
and the time a display connecting late needs to get every window's retained state.

usage: .venv/bin/python bench/mqtt_latency.py [--windows 40] [--rounds 10] [--broker mosquitto|embedded|both]
                                             [--pace burst|flat-out]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures_mqtt import hall_broker  # noqa: E402
from tests.mqtt.rig import HALL_ID, HallRig  # noqa: E402
from yizhan.messaging import topics  # noqa: E402
from yizhan.messaging.factory import broker_address, build_messenger  # noqa: E402
from yizhan.messaging.mqtt import MqttMessenger  # noqa: E402
from yizhan.settings import load_settings  # noqa: E402


def display_child(host: str, port: int, user: str | None, password: str | None) -> None:
    """The display, in its own process (as in a hall): prints `ticket_id monotonic_time` per call."""
    m = MqttMessenger(host, port, client_id="tv-1", username=user, password=password)
    out = sys.stdout

    def on_call(msg) -> None:
        t = time.monotonic()
        out.write(f"{json.loads(msg.payload)['ticket_id']} {t}\n")
        out.flush()

    m.subscribe(topics.call(HALL_ID), on_call)
    m.on_connect(lambda: (out.write("READY\n"), out.flush()))
    m.start()
    sys.stdin.read()  # until the parent closes our stdin
    m.stop()


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def run(kind: str, windows: int, rounds: int, workdir: Path, pace: str = "burst") -> dict:
    broker = None
    if kind == "mosquitto":
        broker = hall_broker(workdir / "mosquitto", hall=HALL_ID).start()
        rig = HallRig(workdir / "rig", windows=windows, mqtt_url=f"mqtt://yizhan-server:server-secret@127.0.0.1:{broker.port}")
    else:
        rig = HallRig(workdir / "rig", windows=windows, mqtt_port="0")
    late: MqttMessenger | None = None
    child: subprocess.Popen | None = None
    try:
        rig.start()
        if broker is not None:
            addr = ("127.0.0.1", broker.port, "tv-1", "tv-secret")
        else:
            a = broker_address(load_settings(rig.env))
            addr = (a.host, a.port, None, None)
        child = subprocess.Popen([sys.executable, __file__, "--display-child", *map(str, addr)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "READY"
        received: dict[int, float] = {}
        total = windows * rounds

        def read_child() -> None:
            for line in child.stdout:
                ticket_id, t = line.split()
                received.setdefault(int(ticket_id), float(t))

        reader = threading.Thread(target=read_child, daemon=True)
        reader.start()
        rig.issue(total)
        rig.open_all()

        sent: dict[int, float] = {}
        answered: dict[int, float] = {}
        lock = threading.Lock()
        start = threading.Barrier(windows)

        def clerk(window: str) -> None:
            rig.http()  # the connection is opened before the race starts
            start.wait()
            for _ in range(rounds):
                if pace == "burst":
                    start.wait()  # every clerk presses "call" at the same moment
                t0 = time.monotonic()
                ticket = rig.call_next(window)
                t1 = time.monotonic()
                with lock:
                    sent[ticket["id"]], answered[ticket["id"]] = t0, t1
                if pace == "burst":
                    # the citizen walks up: the next burst starts once the display has shown this call
                    while ticket["id"] not in received:
                        time.sleep(0.002)
                rig.finish(window)

        threads = [threading.Thread(target=clerk, args=(w,)) for w in rig.windows]
        wall0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - wall0
        deadline = time.monotonic() + 60
        while len(received) < total and time.monotonic() < deadline:
            time.sleep(0.05)
        if len(received) < total:
            raise SystemExit(f"{kind}: only {len(received)} of {total} calls reached the display")
        from_resp = [(received[i] - answered[i]) * 1000 for i in answered]
        from_req = [(received[i] - sent[i]) * 1000 for i in sent]
        early = sum(1 for v in from_resp if v < 0)
        clamped = [max(0.0, v) for v in from_resp]

        # A display connecting late: every window's retained state.
        if broker is not None:
            late = MqttMessenger("127.0.0.1", broker.port, client_id="kiosk-1", username="kiosk-1", password="kiosk-secret")
        else:
            late = build_messenger(load_settings(rig.env), client_id="late")
        states: set[str] = set()
        have_all = threading.Event()

        def on_state(msg) -> None:
            states.add(msg.topic)
            if len(states) >= windows:
                have_all.set()

        late.subscribe(topics.all_windows(HALL_ID), on_state)
        t0 = time.perf_counter()
        late.start()
        if not have_all.wait(30):
            raise SystemExit(f"{kind}: late display got {len(states)} of {windows} window states")
        late_ms = (time.perf_counter() - t0) * 1000
        return {
            "broker": kind, "calls": total, "wall_s": wall, "early": early,
            "resp_p50": pct(clamped, 50), "resp_p99": pct(clamped, 99), "resp_max": max(clamped),
            "req_p50": pct(from_req, 50), "req_p99": pct(from_req, 99), "req_max": max(from_req),
            "mean_resp": statistics.fmean(clamped), "late_ms": late_ms,
        }
    finally:
        if child is not None:
            child.stdin.close()
            child.wait(10)
        if late is not None:
            late.stop()
        rig.stop()
        if broker is not None:
            broker.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--windows", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--broker", choices=["mosquitto", "embedded", "both"], default="both")
    ap.add_argument("--pace", choices=["burst", "flat-out"], default="burst",
                    help="burst: all clerks call at the same moment, round after round (a hall's worst peak); "
                         "flat-out: every clerk calls again as soon as the server answers (overload)")
    ap.add_argument("--display-child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.display_child:
        host, port, user, password = args.display_child
        display_child(host, int(port), None if user == "None" else user, None if password == "None" else password)
        return
    kinds = ["mosquitto", "embedded"] if args.broker == "both" else [args.broker]
    print(f"{args.windows} windows × {args.rounds} calls each, pace {args.pace} (call-next + finish)")
    print(f"{'broker':<10} {'calls':>5} {'resp→display p50':>17} {'p99':>8} {'max':>8} {'req→display p50':>16} {'p99':>8} "
          f"{'before resp':>11} {'calls/s':>8} {'late display':>12}")
    for kind in kinds:
        with tempfile.TemporaryDirectory(prefix=f"yizhan-bench-{kind}-") as tmp:
            r = run(kind, args.windows, args.rounds, Path(tmp), args.pace)
        print(f"{r['broker']:<10} {r['calls']:>5} {r['resp_p50']:>14.1f} ms {r['resp_p99']:>5.1f} ms {r['resp_max']:>5.1f} ms "
              f"{r['req_p50']:>13.1f} ms {r['req_p99']:>5.1f} ms {r['early']:>11} {r['calls'] / r['wall_s']:>8.1f} "
              f"{r['late_ms']:>9.0f} ms")


if __name__ == "__main__":
    main()
