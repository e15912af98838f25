"""Kiosk figures (docs/performance.md, "## Kiosk").

1. touch on a service → ticket bytes at the printer: the real widgets offscreen, a real
   `yizhan server` on loopback, the ESC/POS printer simulator; time from the simulated touch
   to the printer's confirmation that the ticket was cut (p50 / p99).
2. cold start to the home screen: a fresh process, from exec to the first frame of home
   with the server's figures in.
3. RSS after 1,000 simulated citizens (taking numbers with and without a card, reading and
   printing the guide, checking in, looking up a case), sampled along the way.

Run under a real X server (Xvfb), as a kiosk runs under X/Wayland — SDL's `offscreen` driver
leaks memory on every frame it draws (measured: flat 210 MB under Xvfb, +0.25 MB a frame
offscreen), which would drown the kiosk's own figures:

    xvfb-run -a -s "-screen 0 1080x1920x24" env SDL_VIDEODRIVER=x11 \
        .venv/bin/python bench/kiosk_bench.py [--tickets 60] [--citizens 1000] [--starts 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HALL = ROOT / "tests" / "kiosk" / "hall"
NOW = "2026-11-23T08:45:00+08:00"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def kiosk_env_for(server):
    os.environ.update(
        YIZHAN_CONFIG=str(HALL),
        YIZHAN_SERVER_URL=server.url,
        YIZHAN_TOKEN=server.token("kiosk", "kiosk-1"),
        YIZHAN_STATE_DIR=str(server.state_dir),
        YIZHAN_NOW=server.now,
        YIZHAN_KIOSK_VOICE="off",
    )


def cold_start_child() -> None:
    """Runs in a fresh process: prints the seconds from exec to home drawn."""
    t0 = float(os.environ["BENCH_T0"])
    from kiosk.ui.harness import Harness, prepare_kivy

    prepare_kivy()
    from kiosk.app import KioskApp
    from kiosk.core.setup import build_core, build_devices, load_env

    kenv = load_env()
    devices = build_devices(kenv.kiosk, simulate=True)
    app = KioskApp(lambda post: build_core(kenv, devices, post, simulate=True))
    h = Harness(app)
    h.until(lambda: app.sm.current == "home" and app.core.health.server_ok is True, what="home")
    print(f"COLD {time.time() - t0:.3f}", flush=True)
    h.close()


def cold_starts(server, n: int) -> list[float]:
    out = []
    for _ in range(n):
        env = dict(os.environ, BENCH_T0=repr(time.time()))
        r = subprocess.run([sys.executable, __file__, "--cold-child"], env=env, capture_output=True, text=True, timeout=120)
        line = next((l for l in r.stdout.splitlines() if l.startswith("COLD ")), None)
        if line is None:
            raise RuntimeError(f"cold start failed: {r.stderr[-2000:]}")
        out.append(float(line.split()[1]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=200)
    ap.add_argument("--citizens", type=int, default=1000)
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--core-tickets", type=int, default=200)
    ap.add_argument("--phase", choices=["all", "cold", "core", "core-citizens", "ui"], default="all")
    ap.add_argument("--cold-child", action="store_true")
    args = ap.parse_args()
    if args.cold_child:
        cold_start_child()
        return 0

    import logging

    logging.basicConfig(level=logging.ERROR)
    from kiosk.core.localserver import LocalServer

    server = LocalServer(HALL, NOW)
    server.start()
    try:
        kiosk_env_for(server)
        if args.phase in ("all", "cold"):
            starts = cold_starts(server, args.starts)
            print(f"cold start to home: median {statistics.median(starts):.2f} s, max {max(starts):.2f} s over {len(starts)} starts", flush=True)
        if args.phase in ("all", "core"):
            core_lat = core_latencies(args.core_tickets)
            print(
                f"core path (touch handler → ticket at the printer, no rendering): p50 {pct(core_lat, 50) * 1000:.0f} ms, "
                f"p99 {pct(core_lat, 99) * 1000:.0f} ms over {len(core_lat)} tickets", flush=True
            )
        if args.phase in ("all", "core-citizens"):
            samples = core_citizens(args.citizens)
            print("core only (no window) RSS (MB) after N citizens: " + ", ".join(f"{n}: {mb:.1f}" for n, mb in samples), flush=True)
        if args.phase in ("all", "ui"):
            latencies, samples = run_citizens(args.tickets, args.citizens)
            print(
                f"touch on a service → ticket at the printer (real widgets, {os.environ.get('SDL_VIDEODRIVER', 'offscreen')}): p50 {pct(latencies, 50) * 1000:.0f} ms, "
                f"p99 {pct(latencies, 99) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms over {len(latencies)} tickets"
            )
            print("RSS (MB) after N citizens: " + ", ".join(f"{n}: {mb:.1f}" for n, mb in samples))
            warm = [mb for n, mb in samples if n >= 200]
            if len(warm) >= 2:
                print(f"RSS growth after warm-up (200 → {samples[-1][0]}): {warm[-1] - warm[0]:+.1f} MB")
    finally:
        server.close()
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


def core_latencies(n: int) -> list[float]:
    """The kiosk's own path without a window: KioskCore.choose_service → server → printer bytes."""
    from kiosk.core.runtime import QueuePost
    from kiosk.core.setup import build_core, build_devices, load_env
    from kiosk.core.views import Purpose, Screen
    from kiosk.core.voice import Voice

    kenv = load_env()
    devices = build_devices(kenv.kiosk, simulate=True)
    post = QueuePost()
    core = build_core(kenv, devices, post, simulate=True, voice=Voice("off"), background=False)
    printed = threading.Event()
    devices.printer.add_listener(lambda kind, ok, err: printed.set() if kind == "ticket" and ok else None)
    out = []
    for _ in range(n):
        core.open_services(Purpose.TAKE)
        printed.clear()
        t0 = time.perf_counter()
        core.choose_service("SW001")
        if not printed.wait(30):
            raise TimeoutError("no ticket printed")
        out.append(time.perf_counter() - t0)
        while core.screen is not Screen.TICKET:
            post.drain(timeout=0.5)
        core.go_home()
        devices.printer.model.jobs.clear()
        devices.printer.model.received.clear()
    core.close()
    return out


def core_citizens(n: int) -> list[tuple[int, float]]:
    """The same mix of citizens through KioskCore without a window: the core's own memory."""
    from kiosk.core.runtime import QueuePost
    from kiosk.core.setup import build_core, build_devices, load_env
    from kiosk.core.views import Purpose, Screen
    from kiosk.core.voice import Voice

    kenv = load_env()
    devices = build_devices(kenv.kiosk, simulate=True)
    post = QueuePost()
    core = build_core(kenv, devices, post, simulate=True, voice=Voice("off"), background=False)
    reader, model = devices.reader, devices.printer.model
    cards = ["resident", "resident_young", "hk_macau_taiwan", "foreign_2023", "foreign_2017"]

    def settle(cond) -> None:
        deadline = time.monotonic() + 30
        while not cond():
            if time.monotonic() > deadline:
                raise TimeoutError(f"stuck on {core.screen}")
            post.drain(timeout=0.2)

    samples = []
    for i in range(1, n + 1):
        kind = i % 5
        if kind in (0, 1):
            core.open_services(Purpose.TAKE)
            core.choose_service("SB002" if i % 2 else "SW001")
            settle(lambda: core.screen is Screen.TICKET)
        elif kind == 2:
            core.open_services(Purpose.GUIDE)
            core.choose_service("HJ001")
            core.print_guide()
            settle(lambda: core.guide_view is not None and core.guide_view.print_state == "printed")
        elif kind == 3:
            core.start_checkin()
            reader.place_sample(cards[i % len(cards)])
            settle(lambda: core.screen is Screen.MESSAGE)
            reader.lift()
        else:
            core.start_progress()
            core.progress_by_number()
            for k in str(20261123000 + i)[-6:]:
                core.key_press(k)
            core.search_number()
            settle(lambda: core.progress_view is not None and core.progress_view.phase == "results")
        core.go_home()
        model.jobs.clear()
        model.received.clear()
        if i == 1 or i % 100 == 0 or i == n:
            samples.append((i, rss_mb()))
    core.close()
    return samples


def run_citizens(n_tickets: int, n_citizens: int):
    from kiosk.ui.harness import Harness, prepare_kivy

    prepare_kivy()
    from kiosk.app import KioskApp
    from kiosk.core.setup import build_core, build_devices, load_env
    from kiosk.core.voice import Voice

    kenv = load_env()
    devices = build_devices(kenv.kiosk, simulate=True)
    app = KioskApp(lambda post: build_core(kenv, devices, post, simulate=True, voice=Voice("off")))
    h = Harness(app)
    core = app.core
    reader, printer = devices.reader, devices.printer
    model = printer.model
    printed = threading.Event()
    printer.add_listener(lambda kind, ok, err: printed.set() if kind == "ticket" and ok else None)
    h.until(lambda: core.health.server_ok is True, what="server")

    def on(screen: str) -> None:
        h.until(lambda: app.sm.current == screen, what=screen)

    def clear_printer_log() -> None:
        # The simulator keeps every byte it was sent; a real printer does not.
        model.jobs.clear()
        model.received.clear()

    def take(code: str, timed: bool = False) -> float | None:
        h.tap("take")
        on("services")
        if not h.buttons("service:" + code):
            h.tap("all")  # not one of the common services
        button = h.button("service:" + code)
        printed.clear()
        t0 = time.perf_counter()
        h.tap_widget(button)
        while not printed.is_set():
            h.pump()
            if time.perf_counter() - t0 > 30:
                raise TimeoutError(f"no ticket printed (screen {app.sm.current})")
        dt = time.perf_counter() - t0
        on("ticket")
        h.tap("done")
        on("home")
        return dt if timed else None

    # 1. latency: a common service without real name (two touches from home)
    latencies = []
    t_start = time.monotonic()
    for i in range(n_tickets):
        latencies.append(take("SB002", timed=True))
        clear_printer_log()
        if (i + 1) % 25 == 0 or os.environ.get("BENCH_VERBOSE"):
            print(f"  … {i + 1} tickets ({time.monotonic() - t_start:.0f} s)", flush=True)

    # 2. a day of citizens: the touch handlers called directly (what each button calls), every
    #    screen drawn; the timed tickets above used real touches.
    from kiosk.core.views import Purpose

    def shown(screen: str) -> None:
        deadline = time.monotonic() + 30
        while app.sm.current != screen:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{screen} not shown (on {app.sm.current})")
            h.pump()
        h.pump()  # the frame that draws it

    cards = ["resident", "resident_young", "hk_macau_taiwan", "foreign_2023", "foreign_2017"]
    samples = []
    for i in range(1, n_citizens + 1):
        kind = i % 5
        if kind in (0, 1):
            core.open_services(Purpose.TAKE)
            shown("services")
            core.choose_service("SB002" if i % 2 else "SW001")
            shown("ticket")
        elif kind == 2:
            core.open_services(Purpose.GUIDE)
            shown("services")
            core.choose_service("HJ001")
            shown("guide")
            core.print_guide()
            h.until(lambda: core.guide_view is not None and core.guide_view.print_state == "printed", what="guide")
        elif kind == 3:
            core.start_checkin()
            shown("card")
            reader.place_sample(cards[i % len(cards)])
            shown("message")
            reader.lift()
        else:
            core.start_progress()
            shown("progress")
            core.progress_by_number()
            for k in str(20261123000 + i)[-6:]:
                core.key_press(k)
            h.pump()
            core.search_number()
            h.until(lambda: core.progress_view is not None and core.progress_view.phase == "results", what="results")
        core.go_home()
        shown("home")
        clear_printer_log()
        if i == 1 or i % 100 == 0 or i == n_citizens:
            samples.append((i, rss_mb()))
            print(f"  … {i} citizens, RSS {samples[-1][1]:.1f} MB ({time.monotonic() - t_start:.0f} s)", flush=True)
    h.close()
    return latencies, samples


if __name__ == "__main__":
    sys.exit(main())
