"""What the server's WeChat routes share: settings, secrets, store, token holder, QR codes."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, time

import httpx

from yizhan.config.wechat import WechatConfig

from queue_server.db.tables import Ticket
from queue_server.service import HallService
from queue_server.wechat.api import AccessTokens, QrCodes
from queue_server.wechat.credentials import WechatSecrets, load_secrets
from queue_server.wechat.signature import ReplayGuard
from queue_server.wechat.store import WechatStore

logger = logging.getLogger(__name__)


@dataclass
class WechatRuntime:
    service: HallService
    cfg: WechatConfig | None
    secrets: WechatSecrets
    store: WechatStore
    replay: ReplayGuard = field(default_factory=ReplayGuard)
    tokens: AccessTokens | None = None
    qrcodes: QrCodes | None = None
    _purged_day: object = None

    @classmethod
    def build(cls, service: HallService, environ: dict[str, str] | None = None) -> "WechatRuntime":
        cfg = service.cfg.wechat
        secrets = load_secrets(environ)
        rt = cls(service=service, cfg=cfg, secrets=secrets, store=WechatStore(service))
        if cfg is not None and secrets.app_secret:
            http = httpx.Client(timeout=httpx.Timeout(4.0, connect=2.0))
            rt.tokens = AccessTokens(http, secrets.api_base, cfg.app_id, secrets.app_secret)
            rt.qrcodes = QrCodes(rt.tokens)
        elif cfg is not None:
            logger.warning("hall.yaml has a wechat: section but no app secret (YIZHAN_WECHAT_SECRET or credential "
                           "wechat_secret): no access token, no parametric QR codes")
        if cfg is not None and not secrets.callback_token:
            logger.warning("no WeChat callback token (YIZHAN_WECHAT_TOKEN or credential wechat_token): /wechat/callback refuses all")
        return rt

    def closing_time(self, ticket: Ticket) -> datetime:
        """The end of the ticket queue's last opening span today (when the QR stops mattering)."""
        tz = self.service.clock.tz
        hours = self.service.cfg.queue(ticket.queue).hours
        spans = hours.spans()
        end = max(s.end for s in spans) if spans else time(23, 59)
        return datetime.combine(ticket.day, end, tzinfo=tz)

    def qr_expire_seconds(self, ticket: Ticket) -> int:
        left = (self.closing_time(ticket) - self.service.now()).total_seconds()
        return int(max(left, 0)) + 1800  # half an hour of grace for the last numbers of the day

    def purge_if_new_day(self) -> None:
        """Earlier days' bindings go before anything of a new day is bound or sent."""
        today = self.service.today()
        if self._purged_day != today:
            self.store.purge()
            self._purged_day = today

