"""`yizhan kiosk --simulate --tour DIR`: walks every screen and state with the simulated devices
against a private queue server, and saves one PNG per screen.

The parent starts the server once and runs one child process per window size (Kivy's
window is a per-process singleton and cannot change its size offscreen).
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import socket
import subprocess
import sys
import threading
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

logger = logging.getLogger(__name__)


def tour_now(config) -> str:
    """10:00 on the next working day of the hall, so queues are open (YIZHAN_NOW of the tour's server)."""
    from queue_server.domain.hours import is_working_day

    tz = ZoneInfo(config.hall.timezone)
    day = datetime.now(tz).date() + timedelta(days=1)
    for _ in range(30):
        if is_working_day(day, config.calendar):
            break
        day += timedelta(days=1)
    return datetime.combine(day, time(10, 0), tz).isoformat()


def run(out_dir: Path, config_dir: Path | None = None) -> int:
    from kiosk.core.localserver import LocalServer
    from yizhan.config import ConfigError, load_config
    from yizhan.settings import load_settings

    settings = load_settings()
    config_dir = Path(config_dir or settings.config_dir)
    try:
        config = load_config(config_dir)
    except ConfigError as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        return 1
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.png"):
        old.unlink()
    for size, prefix in (("1080x1920", "portrait"), ("1920x1080", "landscape")):
        # A fresh hall for each pass: the same citizens take numbers again.
        with LocalServer(config_dir, tour_now(config)) as server:
            env = dict(os.environ)
            env.update(
                YIZHAN_CONFIG=str(config_dir),
                YIZHAN_SERVER_URL=server.url,
                YIZHAN_TOKEN=server.token("kiosk", "kiosk-1"),
                YIZHAN_STATE_DIR=str(server.state_dir),  # the same id-hash key as the server's dev secret
                YIZHAN_NOW=server.now,
                YIZHAN_KIOSK_ID="kiosk-1",
                YIZHAN_KIOSK_VOICE="off",
            )
            cmd = [sys.executable, "-m", "kiosk.ui.tour", str(out_dir), "--size", size, "--prefix", prefix]
            rc = subprocess.run(cmd, env=env).returncode
            if rc != 0:
                print(f"tour ({prefix}) failed with exit code {rc}; server log:\n{server.log_tail()}", file=sys.stderr)
                return rc
    shots = sorted(out_dir.glob("*.png"))
    print(f"{len(shots)} screens saved in {out_dir}")
    return 0


# ---- the child: one window size ---------------------------------------------------------------------
class Blackhole:
    """A server that accepts connections and never answers: the 'issuing…' screen stays up."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.conns: list[socket.socket] = []
        self._t = threading.Thread(target=self._accept, daemon=True)
        self._t.start()

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self.sock.getsockname()[1]

    def _accept(self) -> None:
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)

    def close(self) -> None:
        self.sock.close()
        for c in self.conns:
            c.close()


def dead_url() -> str:
    from yizhan.ports import free_port

    return f"http://127.0.0.1:{free_port()}"  # nothing listens: connection refused


def child(out_dir: Path, size: tuple[int, int], prefix: str) -> int:
    from kiosk.ui.harness import Harness, prepare_kivy

    prepare_kivy(size)
    from kiosk.app import KioskApp
    from kiosk.core.api import ApiClient
    from kiosk.core.setup import build_core, build_devices, load_env
    from kiosk.core.views import Purpose

    kenv = load_env()
    devices = build_devices(kenv.kiosk, simulate=True)
    app = KioskApp(lambda post: build_core(kenv, devices, post, simulate=True))
    h = Harness(app)
    core = app.core
    reader, printer = devices.reader, devices.printer
    model = getattr(printer, "model", None)
    n = [0]

    def shot(name: str) -> None:
        n[0] += 1
        h.screenshot(out_dir / f"{prefix}-{n[0]:02d}-{name}.png")

    def on(screen: str, what: str = ""):
        h.until(lambda: app.sm.current == screen, what=what or screen)

    def home() -> None:
        core.go_home()
        on("home")

    def take_with_card(code: str) -> None:
        h.tap("take")
        on("services")
        core.take_number(code)
        on("card")
        reader.place_sample("resident")
        h.until(lambda: app.sm.current in ("ticket", "refusal"), what="ticket or refusal")
        reader.lift()

    spare_cards = itertools.cycle(["hk_macau_taiwan", "foreign_2023", "foreign_2017", "resident_young"])

    def begin(code: str) -> None:
        """Starts taking a number; puts a card on the reader when the service asks for one."""
        core.open_services(Purpose.TAKE)
        core.take_number(code)
        h.pump(2)
        if app.sm.current == "card":
            reader.lift()
            reader.place_sample(next(spare_cards))

    cat = core.catalogue
    svc_required = next((s.code for s in cat.services() if s.real_name.value == "required"), None)
    svc_optional = next((s.code for s in cat.common_services() if s.real_name.value == "optional"), None)
    svc_none = next((s.code for s in cat.services() if s.real_name.value == "none"), cat.services()[0].code)
    svc_card = svc_optional or svc_required or svc_none
    landscape = prefix == "landscape"
    try:
        h.until(lambda: core.health.server_ok is True, what="server reachable")
        shot("home")
        h.tap("take")
        on("services")
        shot("take-common-services")
        if not landscape:
            h.tap("all")
            h.pump(3)
            shot("take-all-services")
            home()
            h.tap("tile:" + cat.tiles[0].key)
            on("services")
            shot("take-tile-services")
        core.take_number(svc_card)
        on("card")
        shot("take-card")
        reader.place_sample("resident")
        on("ticket", "ticket after the card")
        reader.lift()
        shot("take-ticket")
        home()
        if not landscape:
            # the issuing step, held open by a server that never answers
            real_api, hole = core.api, Blackhole()
            core.api = ApiClient(hole.url, None, timeout=30)
            begin(svc_none)
            on("issuing")
            shot("take-issuing")
            reader.lift()
            core.api = real_api
            home()
            hole.close()
            # without a card, where the service allows it
            if svc_optional:
                core.open_services(Purpose.TAKE)
                core.take_number(svc_optional)
                on("card")
                h.tap("skip")
                on("ticket", "ticket without a card")
                shot("take-ticket-no-card")
                home()
            # a refusal: the same person again until the server says no
            for _ in range(10):
                take_with_card(svc_card)
                if app.sm.current == "refusal":
                    break
                home()
            shot("take-refusal")
            home()
        # the guide
        h.tap("guide")
        on("services")
        shot("guide-services")
        core.choose_service(svc_required or svc_card)
        on("guide")
        shot("guide")
        if not landscape:
            h.tap("print_guide")
            h.until(lambda: core.guide_view and core.guide_view.print_state in ("printed", "failed"), what="guide printed")
            shot("guide-printed")
        home()
        # appointment check-in
        h.tap("checkin")
        on("card")
        shot("checkin-card")
        reader.place_sample("resident_young")
        on("message", "no appointment")
        reader.lift()
        shot("checkin-no-appointment")
        home()
        # progress
        h.tap("progress")
        on("progress")
        shot("progress-choose")
        h.tap("by_number")
        h.pump(2)
        for k in "20261123":
            h.tap("key:" + k)
        shot("progress-keypad")
        if not landscape:
            h.tap("search")
            h.until(lambda: core.progress_view and core.progress_view.phase == "results", what="case results")
            shot("progress-results")
            home()
            h.tap("progress")
            on("progress")
            h.tap("by_card")
            on("card")
            shot("progress-card")
        home()
        # material scan: a number first, two pages taken as they come to rest, the next one outlined
        begin(svc_none)
        on("ticket", "ticket before scanning")
        reader.lift()
        h.tap("scan")
        on("scan")
        h.until(lambda: len(core.scan_doc) >= 2, timeout=60, what="two pages captured")
        feed = core.scan_feed
        h.until(lambda: core.scan_view.phase == "live" and feed.snapshot() is not None
                and feed.snapshot().corners is not None and feed.snapshot().progress < 1, timeout=60, what="a page outlined")
        feed.stop()  # the picture holds this frame: the outline of the page being placed
        h.pump(3)
        shot("scan")
        home()
        if not landscape and model is not None:
            # printer out of paper: banner, then the number on screen only
            model.set_paper(0)
            core.check_health()
            h.until(lambda: core.banner() is not None, what="printer banner")
            shot("printer-out-home")
            begin(svc_none)
            on("ticket", "ticket without paper")
            reader.lift()
            shot("printer-out-ticket")
            model.set_paper(None)
            home()
            core.check_health()
            h.until(lambda: core.banner() is None, what="printer back")
            # offline: nothing listens, the kiosk retries with the same key
            real_api = core.api
            core.api = ApiClient(dead_url(), None, timeout=2)
            begin(svc_none)
            h.until(lambda: core.issuing_view is not None and core.issuing_view.phase == "retrying", what="retrying")
            shot("offline-retrying")
            core.api = real_api
            on("ticket", "ticket after the server came back")
            reader.lift()
            shot("offline-recovered-ticket")
            core.api = ApiClient(dead_url(), None, timeout=2)
            home()
            core.check_health()
            h.until(lambda: core.health.server_ok is False, what="offline banner")
            shot("offline-home")
            core.api = real_api
            core.check_health()
            h.until(lambda: core.health.server_ok is True, what="back online")
            home()
        # elder mode
        h.tap("elder")
        h.pump(3)
        shot("elder-home")
        h.tap("take")
        on("services")
        shot("elder-services")
        if not landscape:
            core.take_number(svc_card)
            on("card")
            shot("elder-card")
            reader.place_sample("resident_young")
            h.until(lambda: app.sm.current in ("ticket", "refusal"), what="elder ticket")
            reader.lift()
            shot("elder-ticket")
        core.set_elder(False)
        home()
        if not landscape:
            h.tap("lang")
            h.pump(3)
            shot("english-home")
            core.set_lang("zh_CN")
            # any unexpected error: an apology, then home by itself
            core.fail(RuntimeError("tour: a simulated bug"))
            on("message")
            shot("sorry")
        home()
    finally:
        h.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m kiosk.ui.tour")
    ap.add_argument("dir")
    ap.add_argument("--size", default="1080x1920")
    ap.add_argument("--prefix", default="portrait")
    args = ap.parse_args(argv)
    logging.basicConfig(level=os.environ.get("YIZHAN_LOG_LEVEL", "WARNING").upper(), format="%(levelname)s %(name)s: %(message)s")
    w, h = (int(x) for x in args.size.split("x"))
    return child(Path(args.dir), (w, h), args.prefix)


if __name__ == "__main__":
    sys.exit(main())
