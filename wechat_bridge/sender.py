"""Sends one WeChat message: retries transient failures with backoff, renews a rejected
access token, and reports what finally happened (never raises)."""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass

import httpx

from wechat_bridge.server import ServerUnavailable, TokenCache

logger = logging.getLogger(__name__)

TOKEN_ERRORS = frozenset({40001, 40014, 42001})
# -1 系统繁忙; 45011 API 调用太频繁 (per-minute limit): worth another try.
TRANSIENT_ERRORS = frozenset({-1, 45011})
QUOTA_ERRORS = frozenset({45009, 45047})  # daily API quota reached


@dataclass(frozen=True)
class Outcome:
    ok: bool
    errcode: int | None = None
    errmsg: str = ""
    attempts: int = 1
    transient: bool = False  # gave up on something that might have worked later


class Sender:
    def __init__(self, api_base: str, tokens: TokenCache, *, retries: int = 4, backoff_s: float = 0.5,
                 stop: threading.Event | None = None, client: httpx.Client | None = None) -> None:
        self.api_base = api_base.rstrip("/")
        self.tokens = tokens
        self.retries = retries
        self.backoff_s = backoff_s
        self.stop = stop or threading.Event()
        self.http = client or httpx.Client(timeout=httpx.Timeout(5.0, connect=3.0),
                                           limits=httpx.Limits(max_connections=64, max_keepalive_connections=32))

    def _pause(self, attempt: int) -> None:
        # Exponential backoff with jitter, cut short when the bridge stops.
        self.stop.wait(self.backoff_s * (2 ** attempt) * (0.75 + random.random() / 2))

    def send(self, path: str, body: dict) -> Outcome:
        token_renewals = 0
        attempt = 0
        last = Outcome(False, None, "not sent", 0, True)
        while attempt <= self.retries and not self.stop.is_set():
            attempt += 1
            try:
                token = self.tokens.get()
                resp = self.http.post(self.api_base + path, params={"access_token": token}, json=body)
                if resp.status_code >= 500:
                    raise _Transient(f"HTTP {resp.status_code}")
                data = resp.json()
                if not isinstance(data, dict):
                    raise _Transient("answer is not a JSON object")
            except (httpx.HTTPError, ValueError, _Transient, ServerUnavailable) as exc:
                last = Outcome(False, None, str(exc) or exc.__class__.__name__, attempt, True)
                logger.warning("WeChat send attempt %s failed: %s", attempt, last.errmsg)
                self._pause(attempt - 1)
                continue
            code = int(data.get("errcode", 0) or 0)
            if code == 0:
                return Outcome(True, 0, "ok", attempt)
            last = Outcome(False, code, str(data.get("errmsg", "")), attempt, code in TRANSIENT_ERRORS)
            if code in TOKEN_ERRORS and token_renewals < 2:
                token_renewals += 1
                attempt -= 1  # a renewed token is not a failed delivery attempt
                try:
                    self.tokens.rejected(token)
                except ServerUnavailable as exc:
                    last = Outcome(False, code, f"token renewal failed: {exc}", attempt, True)
                    self._pause(attempt)
                    attempt += 1
                continue
            if code in TRANSIENT_ERRORS:
                logger.warning("WeChat busy (errcode %s: %s), attempt %s", code, last.errmsg, attempt)
                self._pause(attempt - 1)
                continue
            return last  # permanent: bad template, unfollowed, quota …
        return last


class _Transient(Exception):
    pass
