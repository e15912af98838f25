"""`yizhan kiosk [--simulate] [--tour DIR]`: the touchscreen kiosk."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

logger = logging.getLogger(__name__)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="yizhan kiosk", description="自助服务终端 / the touchscreen kiosk")
    ap.add_argument("--simulate", action="store_true", help="用模拟设备（读卡器、打印机）/ simulated devices")
    ap.add_argument("--tour", metavar="DIR", help="走遍每个界面并保存截图后退出 / save one PNG per screen into DIR and exit")
    ap.add_argument("--windowed", action="store_true", help="窗口模式（调试用）/ a window instead of full screen")
    ap.add_argument("--landscape", action="store_true", help="窗口模式下横屏 / landscape window (with --windowed)")
    args = ap.parse_args(argv)

    from yizhan.cli import setup_logging

    setup_logging()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if args.tour:
        from kiosk.ui.tour import run

        return run(Path(args.tour))
    return run_kiosk(simulate=args.simulate, windowed=args.windowed, landscape=args.landscape)


def run_kiosk(*, simulate: bool, windowed: bool, landscape: bool) -> int:
    from yizhan.config import ConfigError

    from kiosk.core.setup import build_core, build_devices, load_env

    try:
        kenv = load_env()
    except ConfigError as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        print("配置有误，自助机未启动 / config errors, kiosk not started", file=sys.stderr)
        return 1
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    from kivy.config import Config

    portrait = kenv.kiosk.orientation == "portrait" and not landscape
    if windowed:
        w, h = (540, 960) if portrait else (960, 540)
        Config.set("graphics", "width", str(w))
        Config.set("graphics", "height", str(h))
    else:
        Config.set("graphics", "fullscreen", "auto")
        Config.set("graphics", "borderless", "1")
        Config.set("graphics", "show_cursor", "0")
    Config.set("graphics", "allow_screensaver", "0")
    # No multisampling: flat shapes need no anti-aliasing, and a kiosk PC without a GPU driver
    # (software GL) saves tens of MB and a good part of every frame.
    Config.set("graphics", "multisamples", "0")
    Config.set("kivy", "exit_on_escape", "0" if not windowed else "1")
    Config.set("input", "mouse", "mouse,multitouch_on_demand")

    from kiosk.app import KioskApp

    devices = build_devices(kenv.kiosk, simulate)
    logger.info(
        "kiosk %s: server %s, reader %s, printer %s%s",
        kenv.kiosk.id, kenv.settings.server_url,
        type(devices.reader).__name__ if devices.reader else "none",
        type(devices.printer).__name__ if devices.printer else "none",
        " (simulated)" if simulate else "",
    )
    app = KioskApp(lambda post: build_core(kenv, devices, post, simulate=simulate))
    app.run()
    for dev in (devices.reader, devices.printer):
        if dev is not None:
            dev.close()
    return 0
