"""The bridge's link to the queue server's HTTP API (role wechat): claims for notices, the
account's access token, and failures to report. The bridge needs no database access, so it
can run on another machine than the server."""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

import httpx

logger = logging.getLogger(__name__)


class ServerUnavailable(Exception):
    pass


class ServerApi:
    def __init__(self, base_url: str, token: str, *, client: httpx.Client | None = None) -> None:
        self.base = base_url.rstrip("/") + "/api/v1"
        self.http = client or httpx.Client(
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(10.0, connect=3.0),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        )

    def _call(self, method: str, path: str, **kw: object) -> httpx.Response:
        try:
            resp = self.http.request(method, self.base + path, **kw)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            raise ServerUnavailable(f"{method} {path}: {exc.__class__.__name__}") from None
        if resp.status_code >= 500 or resp.status_code in (401, 403):
            code = ""
            try:
                code = resp.json().get("code", "")
            except ValueError:
                pass
            raise ServerUnavailable(f"{method} {path}: HTTP {resp.status_code} {code}")
        resp.raise_for_status()
        return resp

    def claim(self, items: list[tuple[str, str, str | None]]) -> list[dict]:
        """Claims (ticket token, kind, event time) notices in one request; one result per item."""
        body = {"items": [{"ticket_token": tok, "kind": kind} | ({"at": at} if at else {}) for tok, kind, at in items]}
        return self._call("POST", "/wechat/claims", json=body).json()["results"]

    def failed(self, notice_id: int, errcode: int | None) -> None:
        self._call("POST", f"/wechat/notices/{notice_id}/failed", json={"errcode": errcode})

    def access_token(self, stale: str | None = None) -> tuple[str, int]:
        data = self._call("GET", "/wechat/access-token", params={"stale": stale} if stale else None).json()
        return data["access_token"], int(data["expires_in"])


class TokenCache:
    """The access token as the server handed it out, renewed `margin_s` before it expires
    and at once when WeChat rejects it (40001/42001)."""

    def __init__(self, server: ServerApi, margin_s: float = 120, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.server = server
        self.margin_s = margin_s
        self._mono = monotonic
        self._token: str | None = None
        self._until = 0.0
        self._lock = threading.Lock()

    def get(self) -> str:
        with self._lock:
            if self._token is None or self._mono() >= self._until - self.margin_s:
                self._set(*self.server.access_token())
            return self._token  # type: ignore[return-value]

    def rejected(self, token: str) -> str:
        with self._lock:
            if token == self._token:  # another worker may have renewed it already
                self._set(*self.server.access_token(stale=token))
                logger.info("WeChat rejected the access token; got a new one from the server")
            return self._token  # type: ignore[return-value]

    def _set(self, token: str, expires_in: int) -> None:
        self._token, self._until = token, self._mono() + expires_in
