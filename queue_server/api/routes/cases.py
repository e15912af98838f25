"""办件受理与进度: the API for registering and moving cases (clerk of the window, admin) and the
manager's list of open cases with the 电子监察 alerts (/admin/cases). The citizen's look-up by
ID card or case number stays `GET /api/v1/cases` (people.py)."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlencode

import segno
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import Field
from sqlalchemy import select

from yizhan.i18n import t

from queue_server.api.auth import require
from queue_server.api.routes.console import form_session, page_session
from queue_server.api.routes.tickets import actor_of
from queue_server.api.schemas import Body
from queue_server.api.urls import phone_url
from queue_server.cases import CaseDesk, CaseFilter, status_name
from queue_server.db.tables import Ticket
from queue_server.service import Actor, CommandError
from queue_server.tokens import Principal
from queue_server.web.render import page

router = APIRouter()
prefix = ""  # API routes carry /api/v1 themselves; the manager's page sits under /admin
API = "/api/v1"
STAFF = require("clerk", "admin")
PAGE_ROWS = 500  # the nearest deadlines; the filters narrow the rest, the counts cover all


class CaseRequest(Body):
    service: str | None = Field(None, max_length=40, description="事项编码; default the ticket's service")
    ticket_id: int | None = Field(None, description="default: the ticket at the window now; or one this window finished today")


class CaseStatusRequest(Body):
    status: Literal["processing", "done", "returned"]
    reason: str = Field("", max_length=400, description="退回原因 (required for returned)")


def desk(request: Request) -> CaseDesk:
    state = request.app.state
    found = getattr(state, "case_desk", None)
    if found is None:
        found = state.case_desk = CaseDesk(state.service)
    return found


def _one(request: Request, case) -> dict:  # type: ignore[no-untyped-def]
    return desk(request).to_json([case])[0]


@router.post(f"{API}/windows/{{window}}/cases", status_code=201, tags=["cases"])
def register_case(window: str, body: CaseRequest, request: Request, p: Principal = Depends(STAFF)) -> dict:
    """受理登记: the application of the ticket at the window becomes a case with a number and a deadline."""
    return _one(request, desk(request).register(window, actor_of(p), body.service, body.ticket_id))


@router.get(f"{API}/windows/{{window}}/cases", tags=["cases"])
def window_cases(window: str, request: Request, p: Principal = Depends(STAFF)) -> list[dict]:
    """The window's open cases and every case it registered today."""
    if p.role == "clerk" and p.window != window:
        raise CommandError(403, "other_window", window=window)
    d = desk(request)
    return d.to_json(d.window_cases(window))


@router.post(f"{API}/cases/{{case_number}}/status", tags=["cases"])
def move_case(case_number: str, body: CaseStatusRequest, request: Request, p: Principal = Depends(STAFF)) -> dict:
    """Moves a case on: accepted → processing → done (办结) or returned (退回, with a reason)."""
    return _one(request, desk(request).move(case_number, body.status, actor_of(p), body.reason))


@router.get(f"{API}/cases/open", tags=["cases"])
def open_cases(request: Request, service: str | None = Query(None, max_length=40), department: str | None = Query(None, max_length=40),
               _p: Principal = Depends(require("admin"))) -> list[dict]:
    """Open cases, nearest deadline first, with `alert` none | due_soon | yellow | red."""
    d = desk(request)
    return d.to_json(d.open_cases(CaseFilter(service or None, department or None)))


@router.get(f"{API}/cases/{{case_number}}/history", tags=["cases"])
def case_history(case_number: str, request: Request, p: Principal = Depends(STAFF)) -> list[dict]:
    """Every change of one case: when, who, what (from the audit log)."""
    d = desk(request)
    case = d.get(case_number)
    if p.role == "clerk" and p.window != case.window:
        raise CommandError(403, "other_window", window=case.window or "")
    tz = request.app.state.clock.tz
    return [{"at": r.at.astimezone(tz).isoformat(timespec="seconds"), "actor": r.actor, "action": r.action,
             "from": r.detail.get("from"), "to": r.detail.get("to") or r.detail.get("status"), "reason": r.detail.get("reason", "")}
            for r in d.history(case)]


# ---- the manager's page ----------------------------------------------------------------------
@router.get("/admin/cases", include_in_schema=False)
def cases_page(request: Request, service: str = "", department: str = "", notice: str = "") -> Response:
    sess = page_session(request, "admin")
    if isinstance(sess, Response):
        return sess
    d = desk(request)
    f = CaseFilter(service or None, department or None)
    rows = d.to_json(d.open_cases(f, limit=PAGE_ROWS))
    cfg = request.app.state.service.cfg
    services = [x for x in cfg.services if not department or x.department == department]
    return page(request, "admin_cases.html", sess, nav="cases", rows=rows, counts=d.summary(f), cfg=cfg, services=services, limit=PAGE_ROWS,
                service=service, department=department, notice=notice, back=request.url.path + (f"?{request.url.query}" if request.url.query else ""))


@router.post("/admin/cases/{case_number}/status", include_in_schema=False)
async def cases_page_move(case_number: str, request: Request) -> Response:
    sess, form = await form_session(request, "admin")
    back = form.get("back", "/admin/cases")
    back = back if back.startswith("/admin/cases") else "/admin/cases"
    status = form.get("status", "")
    try:
        case = desk(request).move(case_number, status, Actor(role="admin", name=sess.name), form.get("reason", ""))
        notice = t("cases.moved", case_number=case.case_number, status=status_name(case.status))
    except CommandError as exc:
        if exc.status in (401, 403):
            raise
        notice = exc.message
    path, _, query = back.partition("?")
    params = [kv for kv in query.split("&") if kv and not kv.startswith("notice=")]
    return RedirectResponse(f"{path}?" + "&".join(params + [urlencode({"notice": notice})]), status_code=303)


# ---- 受理回执 -------------------------------------------------------------------------------
@router.get("/console/cases/{case_number}/receipt", include_in_schema=False)
def receipt(case_number: str, request: Request) -> Response:
    """The printable acknowledgement the citizen takes home: number, deadline and how to follow
    the case (the QR code is the ticket's phone page, which shows the case's status)."""
    sess = page_session(request, "clerk", "admin")
    if isinstance(sess, Response):
        return sess
    d = desk(request)
    case = d.get(case_number)
    if sess.role == "clerk" and sess.window != case.window:
        return page(request, "forbidden.html", sess, status=403)
    cfg = request.app.state.service.cfg
    url = qr = ""
    if case.ticket_id:
        with request.app.state.db.read() as s:
            token = s.scalar(select(Ticket.token).where(Ticket.id == case.ticket_id))
        if token:
            url = phone_url(request, token)
            qr = segno.make(url, error="m").png_data_uri(scale=4, border=2)
    try:
        days = cfg.service(case.service).promised_days
    except StopIteration:
        days = 0
    return page(request, "case_receipt.html", sess, c=d.to_json([case])[0], url=url, qr=qr, days=days)


def setup(app) -> None:  # type: ignore[no-untyped-def]
    app.state.case_desk = CaseDesk(app.state.service)

