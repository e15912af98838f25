"""Every error is JSON {"code", "message"} with a Chinese message; never a traceback."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from yizhan.i18n import t

from queue_server.service import CommandError

logger = logging.getLogger(__name__)

_FIELD_NAMES = {"service": "事项编码", "idempotency_key": "请求编号", "score": "评价分数", "identity": "身份信息", "queue": "队列", "position": "位置"}


def _describe(errors: list) -> str:
    parts = []
    for e in errors[:5]:
        loc = [str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path")]
        name = "、".join(_FIELD_NAMES.get(p, p) for p in loc) or "请求体"
        kind = e.get("type", "")
        if kind == "missing":
            parts.append(f"缺少{name}")
        elif kind in ("json_invalid", "model_attributes_type", "dict_type"):
            parts.append("请求体不是有效的 JSON 对象")
        elif kind == "extra_forbidden":
            parts.append(f"不认识的字段 {name}")
        else:
            parts.append(f"{name}取值无效")
    return "；".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CommandError)
    async def _command_error(_req: Request, exc: CommandError) -> JSONResponse:
        return JSONResponse({"code": exc.code, "message": exc.message}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        detail = _describe(exc.errors())
        return JSONResponse({"code": "invalid_request", "message": t("error.validation", detail=detail)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(exc.status_code, "http_error")
        message = t(f"error.{code}", limit=0) if code != "http_error" else str(exc.detail)
        return JSONResponse({"code": code, "message": message}, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _internal(req: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", req.method, req.url.path)
        return JSONResponse({"code": "internal", "message": t("error.internal")}, status_code=500)
