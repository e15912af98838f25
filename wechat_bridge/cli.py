"""`yizhan wechat`: the WeChat bridge process."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from yizhan.cli import setup_logging
from yizhan.settings import load_settings

logger = logging.getLogger(__name__)

DEFAULT_API = "https://api.weixin.qq.com"


def _server_token(environ: dict[str, str]) -> str | None:
    """YIZHAN_TOKEN, or the systemd credential `yizhan_token` (a `yizhan token --role wechat`)."""
    if environ.get("YIZHAN_TOKEN"):
        return environ["YIZHAN_TOKEN"].strip()
    cred = environ.get("CREDENTIALS_DIRECTORY")
    if cred and (Path(cred) / "yizhan_token").is_file():
        return (Path(cred) / "yizhan_token").read_text(encoding="utf-8").strip() or None
    return None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="yizhan wechat", description="微信通知桥 / the WeChat bridge")
    parser.add_argument("--workers", type=int, default=32, help="并行发送的线程数 / parallel senders (default 32)")
    parser.add_argument("--retries", type=int, default=4, help="暂时失败时的重试次数 / retries of a transient failure")
    parser.add_argument("--backoff", type=float, default=0.5, help="首次重试前等待秒数，之后逐次加倍 / first retry delay, doubling")
    args = parser.parse_args(argv)
    setup_logging()
    settings = load_settings()
    env = dict(os.environ)

    from queue_server.cli import load_or_exit  # the config loader with its Chinese error listing

    cfg = load_or_exit(settings)
    if cfg.wechat is None:
        print("hall.yaml 没有 wechat: 配置段，微信通知桥无事可做 / hall.yaml has no wechat: section", file=sys.stderr)
        return 1
    token = _server_token(env)
    if not token:
        print("缺少访问令牌：请设置 YIZHAN_TOKEN（yizhan token --role wechat 生成）或 systemd 凭据 yizhan_token"
              " / no server token: set YIZHAN_TOKEN or the credential yizhan_token", file=sys.stderr)
        return 1

    from yizhan.messaging import topics
    from yizhan.messaging.dedup import Deduplicator, EventHandler
    from yizhan.messaging.factory import (
        MessagingConfigError,
        broker_address,
        build_messenger,
        device_status_payload,
        device_will,
    )

    from wechat_bridge.bridge import Bridge
    from wechat_bridge.sender import Sender
    from wechat_bridge.server import ServerApi, TokenCache

    stop = threading.Event()
    server = ServerApi(settings.server_url, token)
    sender = Sender(env.get("YIZHAN_WECHAT_API") or DEFAULT_API, TokenCache(server), retries=args.retries,
                    backoff_s=args.backoff, stop=stop)
    bridge = Bridge(cfg.wechat, server, sender, workers=args.workers)
    hall = cfg.hall.id
    try:
        # The bridge reports itself as a device (its MQTT user name, which the broker's ACL lets
        # it write status for): the manager's console shows when it is down.
        device = broker_address(settings).username or "yizhan-wechat"
        # A persistent session (stable client id, clean_session=False): the broker keeps the
        # hall's events for the bridge while it restarts, so none is missed.
        messenger = build_messenger(settings, client_id=f"yizhan-wechat-{hall}", clean_session=False,
                                    will=device_will(hall, device, "wechat"))
    except MessagingConfigError as exc:
        print(exc, file=sys.stderr)
        return 1

    def report_online() -> None:
        parts = {"notices": {"ok": True, "detail": f"sent {bridge.sent}, not delivered {bridge.failed}"}}
        try:
            messenger.publish(topics.device_status(hall, device), device_status_payload(hall, device, "wechat", "online", parts),
                              retain=True)
        except Exception as exc:  # a status is not worth stopping for; the next connect sends it again
            logger.warning("could not publish the bridge's status: %s", exc)

    messenger.on_connect(report_online)
    bridge.start()
    messenger.subscribe(topics.all_tickets(hall), EventHandler(bridge.on_event, dedup=Deduplicator(), hall=hall))
    messenger.start()
    logger.info("WeChat bridge for %s: server %s, WeChat API %s, notices at %s ahead, on call%s",
                hall, settings.server_url, sender.api_base, "/".join(map(str, cfg.wechat.thresholds)),
                " and on skip" if cfg.wechat.notify_skipped else "")

    quit_ = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        logger.info("WeChat bridge stopping (signal %s)", signum)
        quit_.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not quit_.wait(1.0):
        pass
    try:  # a clean disconnect sends no last will: say it ourselves
        messenger.publish(topics.device_status(hall, device), device_status_payload(hall, device, "wechat", "offline"), retain=True)
    except Exception as exc:
        logger.warning("could not publish the bridge's offline status: %s", exc)
    messenger.stop()  # no new events; the broker keeps later ones for the next start
    bridge.stop()
    logger.info("WeChat bridge stopped: %s notices sent, %s not delivered", bridge.sent, bridge.failed)
    return 0
