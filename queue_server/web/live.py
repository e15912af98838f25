"""Snapshots the consoles show: one window (clerk) and the whole hall (manager). A stream sends
a fresh snapshot whenever the change feed brings a relevant event, so a browser that reconnects
after a network blip is right again with its first message."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, tzinfo
from typing import AsyncIterator, Callable

from fastapi import Request
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select

from yizhan.i18n import DEFAULT_LANG, catalogue, t

from queue_server.api.schemas import ticket_json
from queue_server.db.tables import DeviceStatus, Document, Ticket, TicketEvent, WindowRow
from queue_server.domain.model import PriorityKind, TicketState
from queue_server.service import HallService
from queue_server.web import sessions
from queue_server.web.feed import RESYNC, Change

logger = logging.getLogger(__name__)

KEEPALIVE_S = 15.0


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def console_state(svc: HallService, window_id: str) -> dict:
    cfg = svc.cfg
    w = cfg.window(window_id)
    now = svc.now()
    day = svc.today(now)
    row, cur = next((r, c) for r, c in svc.windows_live() if r.id == window_id)
    live = {q["queue"]: q for q in svc.queues_live()}
    queues = [
        {"id": q, "name": cfg.queue(q).name, "weight": weight, "waiting": live[q]["waiting"],
         "estimated_wait_s": live[q]["estimated_wait_s"], "open": live[q]["open"]}
        for q, weight in w.queues.items()
    ]
    ticket = None
    with svc.db.read() as s:
        served = s.scalar(select(func.count()).select_from(Ticket).where(Ticket.day == day, Ticket.window == window_id, Ticket.state == TicketState.DONE.value)) or 0
        skipped = list(s.scalars(
            select(Ticket).where(Ticket.day == day, Ticket.window == window_id, Ticket.state == TicketState.SKIPPED.value)
            .order_by(Ticket.skipped_at.desc()).limit(8)
        ))
        if cur is not None:
            call = s.scalar(
                select(TicketEvent).where(TicketEvent.ticket_id == cur.id, TicketEvent.action == "call").order_by(TicketEvent.id.desc()).limit(1)
            )
            docs = list(s.scalars(select(Document).where(Document.ticket_id == cur.id).order_by(Document.id)))
            service = cfg.service(cur.service)
            ticket = ticket_json(cfg, cur) | {
                "serving_at": _iso(cur.serving_at),
                "waited_s": int(((cur.called_at or now) - cur.issued_at).total_seconds()),
                "reason": (call.detail or {}).get("reason", "") if call else "",
                "service_class": service.service_class.value,
                "promised_days": service.promised_days,
                "materials": list(service.materials),
                "documents": [{"id": d.id, "filename": d.filename, "pages": d.pages} for d in docs],
                "priority_label": _priority_label(cur),
                "queue_name": cfg.queue(cur.queue).name,
            }
    return {
        "now": now.isoformat(),
        "window": {"id": w.id, "name": w.display_name, "state": row.state, "clerk": row.clerk} | pause_info(row, svc.clock.tz),
        "ticket": ticket,
        "queues": queues,
        "waiting_total": sum(q["waiting"] for q in queues),
        "served_today": served,
        "skipped": [{"id": x.id, "number": x.number, "skipped_at": _iso(x.skipped_at)} for x in skipped],
        "transfer_queues": [{"id": q.id, "name": q.name} for q in cfg.queues],
    }


def pause_info(row: WindowRow, tz: tzinfo) -> dict:
    """Why and since when a window is paused, in the words both consoles show (开会 · 10:30 起)."""
    if row.state != "paused" or not row.pause_reason:
        return {"pause_reason": None, "pause_text": ""}
    reason = t(f"pause.{row.pause_reason}")
    since = row.state_since.astimezone(tz).strftime("%H:%M") if row.state_since else ""
    return {"pause_reason": row.pause_reason, "pause_text": t("console.paused_since", reason=reason, since=since) if since else reason}


def _priority_label(ticket: Ticket) -> str:
    if ticket.priority == PriorityKind.APPOINTMENT.value:
        return t("console.priority_appointment", slot=ticket.priority_detail)
    if ticket.priority == PriorityKind.GREEN.value:
        kind, _, detail = ticket.priority_detail.partition(":")
        return t("console.priority_green", kind=t(f"green.{kind}") if kind else "", detail=detail)
    return ""


def dashboard_state(svc: HallService, alert_wait_s: int) -> dict:
    cfg = svc.cfg
    now = svc.now()
    day = svc.today(now)
    live = {q["queue"]: q for q in svc.queues_live()}
    with svc.db.read() as s:
        oldest = dict(s.execute(
            select(Ticket.queue, func.min(Ticket.issued_at)).where(Ticket.day == day, Ticket.state == TicketState.WAITING.value).group_by(Ticket.queue)
        ).all())
        served = dict(s.execute(
            select(Ticket.queue, func.count()).where(Ticket.day == day, Ticket.state == TicketState.DONE.value).group_by(Ticket.queue)
        ).all())
        devices = list(s.scalars(select(DeviceStatus).order_by(DeviceStatus.device)))
    windows = svc.windows_live()
    open_by_queue: dict[str, int] = {}
    for row, _cur in windows:
        if row.state == "open":
            for q in cfg.window(row.id).queues:
                open_by_queue[q] = open_by_queue.get(q, 0) + 1
    queues, alerts = [], []
    for q in cfg.queues:
        first = oldest.get(q.id)
        if isinstance(first, str):  # SQLite aggregate bypasses the column type
            first = _parse_utc(first)
        longest = int((now - first).total_seconds()) if first else 0
        item = {
            "id": q.id, "name": q.name, "waiting": live[q.id]["waiting"], "issued": live[q.id]["issued"], "served": served.get(q.id, 0),
            "estimated_wait_s": live[q.id]["estimated_wait_s"], "open": live[q.id]["open"], "longest_wait_s": longest,
            "open_windows": open_by_queue.get(q.id, 0), "alert": longest >= alert_wait_s and live[q.id]["waiting"] > 0,
        }
        queues.append(item)
        if item["alert"]:
            closed = [w.display_name for w in cfg.windows_for_queue(q.id) if next(r for r, _ in windows if r.id == w.id).state != "open"]
            alerts.append(t("admin.alert_wait", queue=f"{q.id} {q.name}", minutes=longest // 60, waiting=item["waiting"],
                            suggest=t("admin.alert_open", windows="、".join(closed[:3])) if closed else t("admin.alert_all_open")))
    sess_by_window: dict[str, list[str]] = {}
    admins: list[str] = []
    for tok, user in sessions.active_sessions(svc.db, now):
        if tok.window:
            sess_by_window.setdefault(tok.window, []).append(user.display_name or user.username)
        elif user.role == "admin":
            admins.append(user.display_name or user.username)
    win_rows = []
    for row, cur in windows:
        w = cfg.window(row.id)
        win_rows.append({
            "id": w.id, "name": w.display_name, "state": row.state, "clerk": row.clerk, "queues": dict(w.queues),
            "ticket": cur.number if cur else None, "ticket_state": cur.state if cur else None,
            "since": _iso(cur.called_at) if cur else None, "logged_in": sess_by_window.get(w.id, []),
        } | pause_info(row, svc.clock.tz))
    dev_rows = []
    for d in devices:
        bad = [name for name, part in (d.parts or {}).items() if isinstance(part, dict) and not part.get("ok", True)]
        details = {name: (part or {}).get("detail", "") for name, part in (d.parts or {}).items() if isinstance(part, dict)}
        dev_rows.append({"device": d.device, "kind": d.kind, "state": d.state, "ok": d.state == "online" and not bad,
                         "bad_parts": [f"{part_name(n)}{('：' + details[n]) if details.get(n) else ''}" for n in bad], "updated_at": _iso(d.updated_at),
                         "updated": d.updated_at.astimezone(svc.clock.tz).strftime("%H:%M:%S")})
        if d.state != "online" or bad:
            alerts.append(t("admin.alert_device", device=d.device, problem="、".join(dev_rows[-1]["bad_parts"]) or t(f"admin.device_{d.state}")))
    return {
        "now": now.isoformat(), "queues": queues, "windows": win_rows, "devices": dev_rows, "alerts": alerts, "admins": admins,
        "totals": {"waiting": sum(q["waiting"] for q in queues), "issued": sum(q["issued"] for q in queues), "served": sum(q["served"] for q in queues),
                   "open_windows": sum(1 for r, _ in windows if r.state == "open"), "windows": len(windows),
                   "longest_wait_s": max((q["longest_wait_s"] for q in queues), default=0)},
    }


def part_name(name: str) -> str:
    """A device part in words (打印机), or its own name when the catalogue does not know it."""
    key = f"part.{name}"
    return t(key) if key in catalogue(DEFAULT_LANG) else name


def _parse_utc(value: str) -> datetime:
    from datetime import timezone

    return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)


def _sse(event: str, data: object) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def stream(request: Request, snapshot: Callable[[], dict], relevant: Callable[[Change], bool]) -> StreamingResponse:
    """Server-sent events: a snapshot now, then a new one after each burst of relevant changes."""
    feed = request.app.state.change_feed
    token = request.cookies.get(sessions.COOKIE)
    bearer = "authorization" in request.headers

    async def gen() -> AsyncIterator[str]:
        sub = feed.subscribe()
        try:
            yield "retry: 1500\n\n"
            yield _sse("state", await asyncio.to_thread(snapshot))
            while True:
                batch = await sub.next_batch(KEEPALIVE_S)
                if await request.is_disconnected():
                    break
                if not bearer:
                    state = request.app.state
                    if sessions.resolve(state.db, state.clock.now(), token) is None:
                        yield _sse("logout", {"message": t("login.session_ended")})
                        break
                if batch is None:
                    yield ": keep-alive\n\n"
                    continue
                if not any(c is RESYNC or relevant(c) for c in batch):
                    continue
                try:
                    yield _sse("state", await asyncio.to_thread(snapshot))
                except Exception:
                    logger.exception("console snapshot failed")
                    yield _sse("problem", {"message": t("error.internal")})
        finally:
            sub.close()

    return StreamingResponse(gen(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
