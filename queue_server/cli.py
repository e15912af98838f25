"""`yizhan server` and `yizhan token`."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from yizhan.cli import setup_logging
from yizhan.clock import clock_from_env
from yizhan.config import ConfigError, HallConfig, load_config
from yizhan.settings import Settings, load_settings

logger = logging.getLogger(__name__)


def load_or_exit(settings: Settings) -> HallConfig:
    try:
        return load_config(settings.config_dir)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"\n配置有 {len(exc.problems)} 处错误，服务未启动 / {len(exc.problems)} config error(s), not started", file=sys.stderr)
        raise SystemExit(1) from None


def open_database(settings: Settings):  # type: ignore[no-untyped-def]
    from queue_server.db.engine import Database
    from queue_server.db.migrate import upgrade

    settings.state_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.db_url)
    upgrade(db.engine)
    return db


def server_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="yizhan server", description="队列服务器 / the queue server")
    parser.add_argument("--host", help="默认 YIZHAN_HOST 或 127.0.0.1")
    parser.add_argument("--port", type=int, help="默认 YIZHAN_PORT 或 8080")
    args = parser.parse_args(argv)
    setup_logging()
    settings = load_settings()
    cfg = load_or_exit(settings)
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port

    import uvicorn

    from queue_server.api.app import create_app

    clock = clock_from_env(cfg.hall.timezone)
    db = open_database(settings)
    app = create_app(cfg, db, clock, settings)
    logger.info("hall %s (%s): API http://%s:%s/api/v1/ — clerk console /console, manager console /admin", cfg.hall.name, cfg.hall.id, host, port)
    from queue_server.publisher import start_messaging_or_exit

    messaging = start_messaging_or_exit(settings, db, cfg.hall.id, clock)
    # uvicorn re-raises SIGTERM after its graceful shutdown; turning it into SystemExit lets
    # the finally below publish server/status "stopped" before the process ends.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        # Open console event streams never end by themselves: give them 3 s, then close them.
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=3)
    finally:
        messaging.stop()  # server/status "stopped"; the last will "offline" covers a crash
    return 0


def token_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="yizhan token", description="生成访问令牌 / print a bearer token")
    parser.add_argument("--role", required=True, choices=["admin", "clerk", "kiosk", "display", "device", "wechat"])
    parser.add_argument("--window", help="窗口号（clerk 必填）/ window id (clerk)")
    parser.add_argument("--device", help="设备编号 / device id")
    parser.add_argument("--name", default="", help="持有人或设备名称 / holder or device name")
    args = parser.parse_args(argv)
    settings = load_settings()
    cfg = load_or_exit(settings)
    if args.window and args.window not in {w.id for w in cfg.windows}:
        print(f"没有 {args.window} 号窗口 / no window {args.window}", file=sys.stderr)
        return 1
    if args.role == "clerk" and not args.window:
        print("clerk 令牌需要 --window / a clerk token needs --window", file=sys.stderr)
        return 1
    from queue_server.tokens import create_token

    db = open_database(settings)
    print(create_token(db, clock_from_env(cfg.hall.timezone).now(), args.role, args.window, args.device, args.name))
    return 0
