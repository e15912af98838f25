"""`yizhan display [--simulate] [--id DISPLAY]`: one display board process (DESIGN.md)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from yizhan.signals import StopSignals
from yizhan.config.displays import DisplayConfig
from yizhan.i18n import t

logger = logging.getLogger(__name__)


def pick_display(displays: list[DisplayConfig], wanted: str | None) -> DisplayConfig:
    ids = ", ".join(d.id for d in displays)
    if not displays:
        raise SystemExit(t("display.cli.no_display"))
    if wanted:
        for d in displays:
            if d.id == wanted:
                return d
        raise SystemExit(t("display.cli.unknown_display", id=wanted, ids=ids))
    if len(displays) == 1:
        return displays[0]
    raise SystemExit(t("display.cli.pick_display", ids=ids))


def configure_kivy(tv, state_dir: Path, fullscreen: bool) -> None:
    """Kivy reads its configuration once, at first import: set everything before."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_HOME", str(state_dir / "kivy"))
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    from kivy.config import Config

    Config.set("graphics", "width", str(tv.width))
    Config.set("graphics", "height", str(tv.height))
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "show_cursor", "0" if fullscreen else "1")
    Config.set("graphics", "allow_screensaver", "0")
    # Kivy asks for 2× multisampling by default; Mesa's software renderer then draws 4 samples
    # a pixel: a 1080p TV frame took 23 ms instead of 10 ms and the window's buffers ~60 MB more.
    # The TV's shapes are rectangles and its text comes antialiased from the font renderer.
    Config.set("graphics", "multisamples", "0")
    Config.set("kivy", "exit_on_escape", "0")
    # The loop looks for new calls every tick: 120 ticks a second halve the wait for the next
    # one (7 ms p50 at 60). Frames are drawn only when something changed; the idle ticks cost
    # ~2 % of a core. (Kivy's "interrupt" clock, which would wake at once, ticked 800 times a
    # second here.)
    Config.set("graphics", "maxfps", "120")
    Config.set("input", "mouse", "mouse,disable_multitouch")


def limit_malloc_arenas(n: int = 2) -> None:
    """glibc gives each busy thread its own malloc arena (up to 8 per core); a display has a
    dozen mostly idle threads, and the arenas were measured to hold tens of MB. Two suffice."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-8, n)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass  # not glibc: nothing to tune


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="yizhan display", description=t("display.cli.description"))
    parser.add_argument("--simulate", action="store_true", help="LED 接模拟器，语音写入状态目录的 WAV 文件 / simulators instead of serial ports, voice to WAV files")
    parser.add_argument("--id", default=os.environ.get("YIZHAN_DISPLAY_ID"), help="hall.yaml 中显示屏的 id（只有一个时可省略）")
    parser.add_argument("--windowed", action="store_true", help="电视屏不全屏 / TV in a window")
    args = parser.parse_args(argv)
    limit_malloc_arenas()

    from yizhan.cli import setup_logging

    setup_logging()
    from yizhan.clock import clock_from_env
    from yizhan.config import ConfigError, load_config
    from yizhan.messaging.factory import MessagingConfigError, build_messenger, device_will
    from yizhan.settings import load_settings

    settings = load_settings()
    try:
        cfg = load_config(settings.config_dir)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(t("display.cli.config_error"), file=sys.stderr)
        return 1
    try:
        display = pick_display(cfg.displays, args.id)
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        return 2
    state_dir = settings.state_dir
    (state_dir / "display" / display.id).mkdir(parents=True, exist_ok=True)
    clock = clock_from_env(cfg.hall.timezone)
    try:
        messenger = build_messenger(
            settings, client_id=f"yizhan-display-{display.id}",
            will=device_will(cfg.hall.id, display.id, "display", clock), clean_session=False,
        )
    except MessagingConfigError as exc:
        print(exc, file=sys.stderr)
        return 2

    tv_on = display.tv is not None and display.tv.enabled
    if tv_on:
        configure_kivy(display.tv, state_dir / "display" / display.id, display.tv.fullscreen and not args.windowed)
    from display_board.service import DisplayService

    service = DisplayService(cfg, display, messenger, state_dir, clock, simulate=args.simulate)
    logger.info("display %s: state dir %s%s", display.id, state_dir, " (simulated devices)" if args.simulate else "")
    if tv_on:
        from display_board.tv.app import TvApp

        TvApp(service).run()
        return 0
    stop = StopSignals()
    service.start()
    try:
        stop.wait()
    finally:
        service.stop()
    return 0
