"""Display board latency and memory (issue 4). A plain script: prints figures.

Starts a real Mosquitto and a real `yizhan display --simulate` process (offscreen Kivy TV at
1920×1080, LED board and window strips on simulators behind pty pairs, voice rendered by
espeak-ng and written as WAV), publishes calls as the queue server would, and reads the
display's announcements.jsonl: each record is written when the output really happened — the
TV when the frame showing the call has been flipped and fully rasterised (glFinish), the LED
when the board acknowledged the line, the voice when the rendered announcement is handed to
the audio output. The machine's load average is printed at the start and the end: other
processes on the same cores delay the display's threads, the TV's most.

    .venv/bin/python bench/display_latency.py [--calls 100] [--gap 0.3] [--no-tv] [--notice-fps N]
    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python bench/display_latency.py --video x11
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from tests.display.helpers import DISPLAY, HALL, call_payload, display_hall_dict  # noqa: E402
from tests.fixtures_mqtt import USERS, hall_broker  # noqa: E402
from yizhan.messaging import topics  # noqa: E402
from yizhan.messaging.mqtt import MqttMessenger  # noqa: E402


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def fmt(name: str, values: list[float]) -> str:
    if not values:
        return f"{name}: no samples"
    ms = [v * 1000 for v in values]
    return f"{name}: n={len(ms)} p50 {statistics.median(ms):.0f} ms, p99 {pct(ms, 99):.0f} ms, max {max(ms):.0f} ms"


def proc_mem(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) // 1024
    return out


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--gap", type=float, default=0.3, help="seconds between calls in the steady run")
    parser.add_argument("--no-tv", action="store_true", help="a display process without a TV (LED and voice only)")
    parser.add_argument("--notice-fps", type=int, default=None, help="tv.notice_fps (0 = a still notice)")
    parser.add_argument("--video", default="offscreen",
                        help="SDL video driver of the TV: offscreen (default), or x11 with DISPLAY set (e.g. under xvfb-run)")
    parser.add_argument("--screenshot", type=Path, help="with --video x11: save what the X screen shows after the calls")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="display-bench-"))
    broker = hall_broker(work / "broker").start()
    server = MqttMessenger("127.0.0.1", broker.port, client_id="bench-server", username="yizhan-server",
                           password=USERS["yizhan-server"])
    server.start()
    assert server.wait_connected(10)
    (work / "config").mkdir()
    cfg = display_hall_dict()
    if args.no_tv:
        cfg["displays"][0]["tv"]["enabled"] = False
    if args.notice_fps is not None:
        cfg["displays"][0]["tv"]["notice_fps"] = args.notice_fps
    (work / "config" / "hall.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    expected_parts = ("led_board", "window_strips", "voice") + (() if args.no_tv else ("tv",))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YIZHAN_", "KIVY_"))} | {
        "YIZHAN_CONFIG": str(work / "config"), "YIZHAN_STATE_DIR": str(work / "state"), "SDL_VIDEODRIVER": args.video,
        "YIZHAN_MQTT_URL": f"mqtt://{DISPLAY}:{USERS[DISPLAY]}@127.0.0.1:{broker.port}", "YIZHAN_LOG_LEVEL": "WARNING",
    }
    online = threading.Event()

    def on_status(msg) -> None:
        parts = json.loads(msg.payload).get("parts", {})
        if all(parts.get(p, {}).get("ok") for p in expected_parts):
            online.set()

    server.subscribe(topics.device_status(HALL, DISPLAY), on_status)
    t_start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "yizhan.cli", "display", "--simulate"], cwd=ROOT, env=env,
                            stdout=open(work / "display.log", "wb"), stderr=subprocess.STDOUT)
    try:
        if not online.wait(120):
            print("display did not come online; log:", (work / "display.log").read_text()[-2000:])
            return 1
        print(f"display process online (all outputs healthy) after {time.monotonic() - t_start:.2f} s; load average {load()}")
        cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
        sent: dict[str, float] = {}

        def publish(ticket: str, window: str) -> None:
            payload = call_payload(ticket, window)
            sent[json.loads(payload)["event_id"]] = time.time()
            server.publish(topics.call(HALL), payload)

        windows = ["01", "02", "03", "04", "05", "06"]
        for i in range(args.calls):
            publish(f"A{i + 1:03d}", windows[i % 6])
            time.sleep(args.gap)  # pacing: one call every `gap` seconds, the voice queue idle in between
        steady = dict(sent)
        cpu_steady = (cpu_seconds(proc.pid) - cpu0) / (time.monotonic() - t0)
        sent.clear()
        for i in range(20):  # the burst: 20 calls in one second
            publish(f"B{i + 1:03d}", windows[i % 6])
            time.sleep(0.05)
        burst = dict(sent)
        log = work / "state" / "announcements.jsonl"
        want = len(steady) + len(burst)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            recs = [json.loads(l) for l in log.read_text().splitlines()] if log.exists() else []
            if sum(1 for r in recs if r["output"] == "voice") >= want and (args.no_tv or sum(1 for r in recs if r["output"] == "tv") >= want):
                break
            time.sleep(0.2)
        mem = proc_mem(proc.pid)
        if args.screenshot:
            from PIL import ImageGrab

            time.sleep(1)  # the last flash step drawn (a picture, not a measurement)
            ImageGrab.grab(xdisplay=os.environ.get("DISPLAY")).save(args.screenshot)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        server.stop()
        broker.stop()

    def lat(events: dict[str, float], output: str, board: str | None = None) -> list[float]:
        out = []
        for r in recs:
            if r["output"] == output and r["event_id"] in events and (board is None or r.get("board") == board):
                out.append(datetime.fromisoformat(r["at"]).timestamp() - events[r["event_id"]])
        return out

    print(f"== steady: {len(steady)} calls, one every {args.gap} s ==")
    print(fmt("MQTT call → TV frame showing it", lat(steady, "tv")))
    print(fmt("MQTT call → voice starts (announcement handed to the audio output)", lat(steady, "voice")))
    print(fmt("MQTT call → hall LED board acknowledged the line (9600 baud pty)", lat(steady, "led", "hall")))
    print(fmt("MQTT call → window strip acknowledged", lat(steady, "led", "strip")))
    print("== burst: 20 calls in one second ==")
    print(fmt("MQTT call → TV frame showing it", lat(burst, "tv")))
    print(fmt("MQTT call → voice starts", lat(burst, "voice")))
    order = [r["ticket"] for r in recs if r["output"] == "voice" and r["event_id"] in burst]
    print(f"burst spoken in order, each once: {order == [f'B{i + 1:03d}' for i in range(20)]}")
    if not args.no_tv:
        shown = [r["ticket"] for r in recs if r["output"] == "tv" and (r["event_id"] in burst or r["event_id"] in steady)]
        expected = [f"A{i + 1:03d}" for i in range(len(steady))] + [f"B{i + 1:03d}" for i in range(20)]
        print(f"every call drawn on the TV, in order, each once: {shown == expected}")
    print(f"display process memory: RSS {mem.get('VmRSS')} MB now, peak {mem.get('VmHWM')} MB")
    print(f"display process CPU during the steady run: {cpu_steady * 100:.0f} % of one core; load average at the end {load()}")
    shutil.rmtree(work, ignore_errors=True)  # kept only when the display failed to come online
    return 0


if __name__ == "__main__":
    sys.exit(main())
