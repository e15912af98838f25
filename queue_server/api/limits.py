"""Refuses oversize request bodies before they are read into memory."""

from __future__ import annotations

import json

from yizhan.i18n import t

JSON_LIMIT = 64 * 1024


class BodyLimit:
    """ASGI middleware: a body over the limit of its path gets 413 {"code", "message"}.
    `large` maps path fragments (uploads) to their own, larger limits."""

    def __init__(self, app, limit: int = JSON_LIMIT, large: dict[str, int] | None = None) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.limit = limit
        self.large = large or {}

    def _limit_for(self, path: str) -> int:
        for fragment, limit in self.large.items():
            if fragment in path:
                return limit
        return self.limit

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self._limit_for(scope["path"])
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return await self._reject(send, limit)
        seen = 0

        async def limited_receive():  # type: ignore[no-untyped-def]
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._reject(send, limit)

    @staticmethod
    async def _reject(send, limit: int) -> None:  # type: ignore[no-untyped-def]
        body = json.dumps({"code": "body_too_large", "message": t("error.body_too_large", limit=limit)}, ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
