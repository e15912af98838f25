"""The phone page `/t/<ticket token>`: one ticket's number, queue, people ahead, estimated
wait and, once called, the window — live through server-sent events. Works in WeChat's
browser and any phone browser, without login; shows nothing personal. The token is only
valid on the ticket's day. A citizen who cannot wait any longer gives the number up there,
so clerks do not call, recall and skip someone who has gone home."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import signal
from pathlib import Path

import segno
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from yizhan.i18n import t

from queue_server.service import Actor, CommandError
from queue_server.wechat.phone import TERMINAL, PhoneHub, snapshot

logger = logging.getLogger(__name__)

prefix = ""
router = APIRouter(include_in_schema=False)

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).resolve().parents[2] / "wechat"), autoescape=select_autoescape(["html"]))
KEEPALIVE_S = 15.0
# No-store: a cached page would show an old position; the token is the only key.
HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"}


def _lang(request: Request) -> str:
    asked = request.query_params.get("lang") or ""
    if asked in ("en", "zh_CN"):
        return asked
    accept = request.headers.get("accept-language", "").lower()
    return "en" if accept.startswith("en") else "zh_CN"


def _hub(request: Request) -> PhoneHub:
    return request.app.state.phone_hub


def _error_page(request: Request, status: int, headline: str, detail: str, lang: str) -> HTMLResponse:
    html = TEMPLATES.get_template("phone_page.html").render(
        t=lambda key, **kw: t(key, lang, **kw), lang=lang, snap=None, error=(headline, detail), token="", hall=request.app.state.service.cfg.hall,
        follow=None,
    )
    return HTMLResponse(html, status_code=status, headers=HEADERS)


@router.get("/t/{token}", response_class=HTMLResponse)
def page(token: str, request: Request) -> HTMLResponse:
    svc = request.app.state.service
    lang = _lang(request)
    snap = snapshot(svc, token, lang) if len(token) <= 48 else None
    if snap is None:
        return _error_page(request, 404, t("phone.unknown", lang), t("phone.unknown_detail", lang), lang)
    if snap["state"] == "expired":
        return _error_page(request, 410, snap["headline"], snap["detail"], lang)
    wechat = request.app.state.wechat
    follow = None
    if wechat.qrcodes is not None and wechat.cfg is not None and wechat.cfg.parametric_qr and snap["state"] not in TERMINAL:
        follow = {"account": wechat.cfg.account_name}
    html = TEMPLATES.get_template("phone_page.html").render(
        t=lambda key, **kw: t(key, lang, **kw), lang=lang, snap=snap, error=None, token=token, hall=svc.cfg.hall,
        follow=follow,
    )
    return HTMLResponse(html, headers=HEADERS)


@router.post("/t/{token}/cancel")
def give_up(token: str, request: Request) -> Response:
    """The citizen gives the number up (放弃排队). Only a waiting number: one called in the
    meantime stays called, and the page then shows the window to go to."""
    svc = request.app.state.service
    ticket = svc.ticket_by_token(token) if len(token) <= 48 else None
    if ticket is None or ticket.day != svc.today():
        return page(token, request)
    try:
        svc.cancel(ticket.id, Actor("citizen"), only_waiting=True)
        logger.info("ticket %s given up on the phone", ticket.id)
    except CommandError:
        pass  # the page shows the state that stopped it
    lang = "?lang=en" if _lang(request) == "en" else ""
    return RedirectResponse(f"/t/{token}{lang}", status_code=303)


@router.get("/t/{token}/wechat-qr.png")
def follow_qr(token: str, request: Request) -> Response:
    """The ticket's follow-and-bind QR as an image: long-press it in WeChat to follow."""
    from queue_server.api.routes.wechat import follow_qr_url

    svc = request.app.state.service
    ticket = svc.ticket_by_token(token) if len(token) <= 48 else None
    if ticket is None or ticket.day != svc.today():
        return Response(status_code=404)
    url = follow_qr_url(request.app.state.wechat, ticket)
    if url is None:
        return Response(status_code=404)
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="png", scale=6, border=4)
    return Response(buf.getvalue(), media_type="image/png", headers=HEADERS)


def _sse(data: dict, event: str = "ticket") -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.get("/t/{token}/events")
async def events(token: str, request: Request) -> Response:
    svc = request.app.state.service
    lang = _lang(request)
    first = await asyncio.to_thread(snapshot, svc, token, lang) if len(token) <= 48 else None
    if first is None:
        return Response(status_code=404)
    hub = _hub(request)

    async def stream():  # type: ignore[no-untyped-def]
        watcher = hub.watch(token, first["queue"])
        last = first
        try:
            yield "retry: 3000\n\n" + _sse(first)
            while last["state"] not in TERMINAL and not hub.closing:
                try:
                    await asyncio.wait_for(watcher.event.wait(), KEEPALIVE_S)
                except asyncio.TimeoutError:
                    yield ": keepalive\n\n"  # keeps proxies and WeChat's browser from closing the stream
                watcher.event.clear()
                if hub.closing:
                    return  # no "end": the page reconnects to the restarted server
                snap = await asyncio.to_thread(snapshot, svc, token, lang)
                if snap is None:
                    break
                watcher.queue = snap["queue"]  # a transfer moves the ticket to another queue
                if snap != last:
                    last = snap
                    yield _sse(snap)
            yield _sse({}, "end")  # the page closes the stream instead of reconnecting
        finally:
            hub.unwatch(watcher)

    return StreamingResponse(stream(), media_type="text/event-stream", headers=HEADERS | {"X-Accel-Buffering": "no"})


def setup(app: FastAPI) -> None:
    hub = PhoneHub(app.state.service)
    app.state.phone_hub = hub

    async def chain_stop_signals() -> None:
        # uvicorn waits for open responses to finish before it stops, and an event stream
        # never finishes by itself: on SIGTERM/SIGINT, end the streams first, then let
        # uvicorn's own handler (installed before startup) do its work.
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(sig)
            if not callable(previous):
                continue

            def handler(signum: int, frame: object, previous=previous) -> None:  # type: ignore[no-untyped-def]
                loop.call_soon_threadsafe(hub.stop)
                previous(signum, frame)

            try:
                signal.signal(sig, handler)
            except ValueError:  # not the main thread (e.g. a test client): nothing to chain
                return

    async def stop() -> None:
        hub.stop()

    app.router.on_startup.append(chain_stop_signals)
    app.router.on_shutdown.append(stop)
