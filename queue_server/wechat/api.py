"""The hall's single holder of the WeChat access token, and parametric QR codes.

Fetching a new access token invalidates the previous one (after a few minutes), so one
process must own it: the queue server. The bridge asks the server for it (docs/wechat.md).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

import httpx

logger = logging.getLogger(__name__)

# The token is expired, invalid or not the latest: fetch a new one and try once more.
TOKEN_ERRORS = frozenset({40001, 40014, 42001})


class WeChatError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        self.errcode = errcode
        self.errmsg = errmsg
        super().__init__(f"WeChat error {errcode}: {errmsg}")


class WeChatUnavailable(Exception):
    """WeChat could not be reached (network, HTTP error, not JSON)."""


def _json(resp: httpx.Response) -> dict:
    if resp.status_code >= 400:
        raise WeChatUnavailable(f"HTTP {resp.status_code}")
    try:
        data = resp.json()
    except ValueError:
        raise WeChatUnavailable("answer is not JSON") from None
    if not isinstance(data, dict):
        raise WeChatUnavailable("answer is not a JSON object")
    code = data.get("errcode", 0)
    if code:
        raise WeChatError(int(code), str(data.get("errmsg", "")))
    return data


class AccessTokens:
    """Caches the token and refreshes it `margin_s` before it expires, or when a caller
    reports the token it holds as rejected (40001/42001)."""

    def __init__(self, http: httpx.Client, api_base: str, app_id: str, secret: str, *,
                 margin_s: float = 300, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.http, self.api_base, self.app_id, self._secret = http, api_base, app_id, secret
        self.margin_s = margin_s
        self._mono = monotonic
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()
        self.fetches = 0

    def get(self, stale: str | None = None) -> tuple[str, float]:
        """(token, seconds it stays valid). `stale` = a token WeChat just rejected."""
        with self._lock:
            now = self._mono()
            fresh = self._token is not None and now < self._expires - self.margin_s
            if fresh and (stale is None or stale != self._token):
                return self._token, self._expires - now  # type: ignore[return-value]
            resp = self.http.get(
                f"{self.api_base}/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self.app_id, "secret": self._secret},
            )
            data = _json(resp)
            token, expires_in = data.get("access_token"), data.get("expires_in")
            if not isinstance(token, str) or not isinstance(expires_in, int):
                raise WeChatUnavailable("token answer without access_token/expires_in")
            self._token, self._expires = token, now + expires_in
            self.fetches += 1
            logger.info("WeChat access token refreshed (valid %s s)%s", expires_in, " after a rejection" if stale else "")
            return token, float(expires_in)

    def call(self, method: str, path: str, **kw: object) -> dict:
        """Calls the API with the token, refreshing it once if WeChat rejects it."""
        token, _ = self.get()
        for attempt in (0, 1):
            try:
                return _json(self.http.request(method, f"{self.api_base}{path}", params={"access_token": token}, **kw))  # type: ignore[arg-type]
            except WeChatError as exc:
                if exc.errcode in TOKEN_ERRORS and attempt == 0:
                    token, _ = self.get(stale=token)
                    continue
                raise
        raise AssertionError("unreachable")


class QrCodes:
    """Temporary parametric QR codes (QR_STR_SCENE) whose scene is a ticket token: scanning
    one follows the account and binds the ticket. Cached per token until it expires."""

    def __init__(self, tokens: AccessTokens, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.tokens = tokens
        self._mono = monotonic
        self._cache: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def url_for(self, scene: str, expire_seconds: int) -> str:
        now = self._mono()
        with self._lock:
            hit = self._cache.get(scene)
            if hit and hit[1] > now:
                return hit[0]
        # WeChat: 60 s … 30 days; scene_str 1–64 characters.
        expire = max(60, min(int(expire_seconds), 2_592_000))
        data = self.tokens.call(
            "POST", "/cgi-bin/qrcode/create",
            json={"expire_seconds": expire, "action_name": "QR_STR_SCENE", "action_info": {"scene": {"scene_str": scene[:64]}}},
        )
        url = data.get("url")
        if not isinstance(url, str) or not url:
            raise WeChatUnavailable("qrcode/create answered without url")
        with self._lock:
            if len(self._cache) > 20_000:  # a day's tickets of a big hall; then start over
                self._cache.clear()
            self._cache[scene] = (url, now + expire - 30)
        return url
