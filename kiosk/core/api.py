"""HTTP client of the queue server (docs/design.md "HTTP" and the kiosk contracts).

The client never retries by itself: the flows decide (they show "正在重试" and reuse the
same idempotency key, so a retry can never produce a second ticket).
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """Base of every failure talking to the server."""


class ServerUnreachable(ApiError):
    """No answer, a broken connection or a 5xx: the request may or may not have been applied."""


class Refused(ApiError):
    """The server answered with a reasoned refusal: {"code", "message"}."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class NotAuthorised(Refused):
    """401/403: the kiosk's token is missing, wrong or revoked — an operator must fix it."""


class ApiClient:
    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Accept": "application/json", "User-Agent": "yizhan-kiosk"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.base_url = base_url.rstrip("/")
        self._token = token or ""
        self._http = httpx.Client(
            base_url=self.base_url + "/api/v1",
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(2.0, timeout)),
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    # ---- transport --------------------------------------------------------------------
    def _request(self, method: str, path: str, **kw: Any) -> Any:
        try:
            resp = self._http.request(method, path, **kw)
        except httpx.HTTPError as exc:  # connect refused, timeout, reset, protocol error
            raise ServerUnreachable(f"{method} {path}: {type(exc).__name__}") from exc
        if resp.status_code >= 500:
            raise ServerUnreachable(f"{method} {path}: HTTP {resp.status_code}")
        if resp.status_code >= 400:
            code, message = "http_%d" % resp.status_code, ""
            try:
                body = resp.json()
                if isinstance(body, dict):
                    code = str(body.get("code") or code)
                    message = str(body.get("message") or body.get("detail") or "")
            except ValueError:
                pass
            cls = NotAuthorised if resp.status_code in (401, 403) else Refused
            raise cls(resp.status_code, code, message)
        if resp.status_code == 204 or not resp.content:
            return None
        try:
            return resp.json()
        except ValueError as exc:
            raise ServerUnreachable(f"{method} {path}: answer is not JSON") from exc

    # ---- endpoints ----------------------------------------------------------------------
    def health(self) -> bool:
        body = self._request("GET", "/health")
        return isinstance(body, dict) and body.get("status") == "ok"

    def queues(self) -> list[dict]:
        body = self._request("GET", "/queues")
        return body if isinstance(body, list) else []

    def take_ticket(self, service: str, idempotency_key: str, identity: dict | None = None) -> dict:
        payload: dict[str, Any] = {"service": service, "idempotency_key": idempotency_key, "source": "kiosk"}
        if identity is not None:
            payload["identity"] = identity
        return self._request("POST", "/tickets", json=payload)

    def ticket(self, ticket_id: int) -> dict:
        return self._request("GET", f"/tickets/{ticket_id}")

    def print_status(self, ticket_id: int, printed: bool, error: str = "") -> None:
        self._request("POST", f"/tickets/{ticket_id}/print-status", json={"printed": printed, "error": error})

    def check_in(self, identity: dict, idempotency_key: str) -> dict:
        return self._request(
            "POST", "/appointments/check-in", json={"identity": identity, "idempotency_key": idempotency_key}
        )

    def cases(self, *, id_hash: str | None = None, case_number: str | None = None) -> list[dict]:
        params = {"id_hash": id_hash} if id_hash else {"case_number": case_number or ""}
        body = self._request("GET", "/cases", params=params)
        return body if isinstance(body, list) else []

    def device_status(self, device: str, kind: str, state: str, parts: dict[str, dict]) -> None:
        self._request("POST", f"/devices/{device}/status", json={"kind": kind, "state": state, "parts": parts})

    def upload_document(self, ticket_id: int, doc) -> dict:
        """The scanned pages as one PDF on the ticket (own client: a PDF takes longer than 5 s on a slow link)."""
        from kiosk.devices.camera.upload import upload_document

        return upload_document(self.base_url, self._token, ticket_id, doc)

    def rating(self, ticket_id: int, score: int) -> None:
        self._request("POST", f"/tickets/{ticket_id}/rating", json={"score": score})
