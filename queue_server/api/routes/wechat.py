"""WeChat: the callback WeChat pushes follows and scans to (`/wechat/callback`), and the
API the WeChat bridge works through (`/api/v1/wechat/…`, role wechat) — see docs/wechat.md."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from yizhan.i18n import t

from queue_server.api.auth import require
from queue_server.api.urls import phone_url
from queue_server.housekeeping import run_daily
from queue_server.service import CommandError
from queue_server.tokens import Principal
from queue_server.wechat.api import WeChatError, WeChatUnavailable
from queue_server.wechat.messages import BadMessage, Incoming, parse, text_reply
from queue_server.wechat.runtime import WechatRuntime
from queue_server.wechat.signature import signature_ok

logger = logging.getLogger(__name__)

prefix = ""
router = APIRouter(tags=["wechat"])
api = APIRouter(tags=["wechat"])


def runtime(request: Request) -> WechatRuntime:
    return request.app.state.wechat


def _verify(rt: WechatRuntime, signature: str, timestamp: str, nonce: str) -> None:
    if rt.cfg is None or not rt.secrets.callback_token:
        raise CommandError(503, "wechat_not_configured", t("wechat.error.not_configured"))
    if not signature_ok(rt.secrets.callback_token, timestamp, nonce, signature):
        logger.warning("WeChat callback: bad signature refused")
        raise CommandError(403, "bad_signature", t("wechat.error.bad_signature"))
    why = rt.replay.check(timestamp, nonce)
    if why is not None:
        logger.warning("WeChat callback refused: %s (timestamp %s)", why, timestamp)
        raise CommandError(403, "replayed", t("wechat.error.replayed"))


@router.get("/wechat/callback", include_in_schema=False)
def verify(request: Request, signature: str = "", timestamp: str = "", nonce: str = "", echostr: str = "") -> PlainTextResponse:
    """The console's 'server address' check: echo `echostr` when the signature is right."""
    _verify(runtime(request), signature, timestamp, nonce)
    return PlainTextResponse(echostr)


@router.post("/wechat/callback", include_in_schema=False)
async def callback(request: Request, signature: str = "", timestamp: str = "", nonce: str = "") -> Response:
    rt = runtime(request)
    _verify(rt, signature, timestamp, nonce)
    body = await request.body()
    try:
        msg = parse(body)
    except BadMessage as exc:
        logger.warning("WeChat callback: unreadable message (%s)", exc)
        raise CommandError(400, "bad_message", t("wechat.error.bad_message")) from None
    # WeChat waits at most 5 s: the work is two small queries, run off the event loop.
    reply = await asyncio.to_thread(_handle, rt, msg)
    if reply is None:
        return PlainTextResponse("success")
    return Response(text_reply(msg, reply), media_type="application/xml; charset=utf-8")


def _handle(rt: WechatRuntime, msg: Incoming) -> str | None:
    """The text shown to the follower, or None for a plain 'success'."""
    rt.purge_if_new_day()
    scene = msg.scene()
    if scene is not None:
        result = rt.store.bind(scene, msg.openid)
        if result.ticket is None or result.outcome in ("unknown", "expired"):
            logger.info("WeChat: scan of an unknown or expired ticket refused")
            return t("wechat.reply.unknown")
        ticket = result.ticket
        if result.outcome == "over":
            return t("wechat.reply.over", number=ticket.number)
        _, ahead, wait_s = rt.service.ticket_position(ticket.id)
        if ticket.state == "called":
            name = rt.service.cfg.window(ticket.window).display_name if ticket.window else ""
            return t("wechat.reply.bound_called", number=ticket.number, window=name)
        return t("wechat.reply.bound", number=ticket.number, queue=rt.service.cfg.queue(ticket.queue).name,
                 ahead=ahead, minutes=max(1, round(wait_s / 60)) if ahead else 0)
    if msg.wants_unbind():
        n = rt.store.unbind(msg.openid)
        if msg.event == "unsubscribe":
            return None  # an unfollower cannot receive a reply
        return t("wechat.reply.unbound") if n else t("wechat.reply.nothing_to_unbind")
    if msg.msg_type == "event" and msg.event == "subscribe":
        return t("wechat.reply.welcome")
    return None


# ---- the bridge's API (/api/v1/wechat/…) ------------------------------------------------------


class ClaimItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket_token: str = Field(min_length=8, max_length=48)
    kind: str = Field(pattern=r"^(ahead:\d{1,2}|called|skipped|case_done|case_returned)$")
    at: AwareDatetime | None = Field(None, description="the event's `at`: which round of the ticket it belongs to")


class ClaimRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[ClaimItem] = Field(min_length=1, max_length=500)


class FailedRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    errcode: int | None = None


@api.get("/wechat/access-token")
def access_token(request: Request, stale: str | None = Query(None, max_length=600),
                 _p: Principal = Depends(require("wechat", "admin"))) -> dict:
    """The account's access token for the bridge; `stale` = a token WeChat just rejected."""
    rt = runtime(request)
    if rt.tokens is None:
        raise CommandError(503, "wechat_not_configured", t("wechat.error.no_secret"))
    try:
        token, expires_in = rt.tokens.get(stale=stale)
    except WeChatError as exc:
        logger.error("WeChat refused the access token request: %s %s", exc.errcode, exc.errmsg)
        raise CommandError(502, "wechat_refused", t("wechat.error.refused", code=exc.errcode)) from None
    except (WeChatUnavailable, OSError) as exc:
        logger.warning("WeChat unreachable for the access token: %s", exc)
        raise CommandError(502, "wechat_unreachable", t("wechat.error.unreachable")) from None
    return {"access_token": token, "expires_in": int(expires_in)}


@api.post("/wechat/claims")
def claim(body: ClaimRequest, request: Request, _p: Principal = Depends(require("wechat", "admin"))) -> dict:
    """Records that the bridge is about to send each (ticket, kind) notice to the ticket's
    followers and returns, per item, those who have not had it yet (none twice, even across
    bridge restarts or with two bridges)."""
    rt = runtime(request)
    rt.purge_if_new_day()
    quota = rt.cfg.daily_quota if rt.cfg else 0
    cfg = rt.service.cfg
    results = []
    for ticket, notices, exhausted in rt.store.claim_many([(i.ticket_token, i.kind, i.at) for i in body.items], quota):
        if ticket is None:
            results.append({"ticket": None, "notices": [], "quota_exhausted": False, "url": None})
            continue
        results.append({
            "ticket": {
                "number": ticket.number,
                "queue": ticket.queue,
                "queue_name": cfg.queue(ticket.queue).name,
                "service_name": cfg.service(ticket.service).name,
                "state": ticket.state,
                "window": ticket.window,
                "window_name": cfg.window(ticket.window).display_name if ticket.window else None,
            },
            "url": phone_url(request, ticket.token),
            "notices": [{"id": n.id, "openid": n.openid} for n in notices],
            "quota_exhausted": exhausted,
        })
    return {"results": results}


@api.post("/wechat/notices/{notice_id}/failed", status_code=204)
def notice_failed(notice_id: int, body: FailedRequest, request: Request,
                  _p: Principal = Depends(require("wechat", "admin"))) -> Response:
    runtime(request).store.failed(notice_id, body.errcode)
    return Response(status_code=204)


@api.get("/tickets/{ticket_id}/wechat-qr")
def ticket_qr(ticket_id: int, request: Request, _p: Principal = Depends(require("kiosk", "admin"))) -> dict:
    """The follow-and-bind QR for a ticket (print it instead of the phone page URL), when
    the hall has a service account."""
    rt = runtime(request)
    ticket = rt.service.get_ticket(ticket_id)
    url = follow_qr_url(rt, ticket)
    if url is None:
        raise CommandError(404, "wechat_not_configured", t("wechat.error.not_configured"))
    return {"url": url, "expires_at": rt.closing_time(ticket).isoformat()}


def follow_qr_url(rt: WechatRuntime, ticket) -> str | None:  # type: ignore[no-untyped-def]
    """WeChat's URL for the ticket's parametric QR, or None (no account, or WeChat unreachable)."""
    if rt.qrcodes is None or rt.cfg is None or not rt.cfg.parametric_qr:
        return None
    try:
        return rt.qrcodes.url_for(ticket.token, rt.qr_expire_seconds(ticket))
    except (WeChatError, WeChatUnavailable, OSError) as exc:
        logger.warning("WeChat parametric QR not available: %s", exc)
        return None


def setup(app: FastAPI) -> None:
    rt = WechatRuntime.build(app.state.service)
    app.state.wechat = rt
    app.include_router(api, prefix="/api/v1")
    run_daily(app, rt.purge_if_new_day, "WeChat: purging earlier days")
