"""The citizen's booking pages on the phone (预约办事), and the manager's list of the day.

/book                 the services that take bookings
/book/<code>?day=     days, free slots, ID number and name → POST /book/<code>
/b/<token>            the booking: what, when, what to bring, how to check in; cancel

Server-rendered forms: they work in WeChat's browser and on old phones without JavaScript (a
small script only checks the ID number before sending). No login: the booking's page token is
its key. The full ID number exists only while the POST is handled — a refused form comes back
with the name but never the number.
"""

from __future__ import annotations

import io
import logging
from datetime import date
from pathlib import Path
from urllib.parse import quote

import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from jinja2 import Environment, FileSystemLoader, select_autoescape

from yizhan.i18n import local_name, t

from queue_server.api.routes.appointments import book_of, check_rate, identity_from, parse_day, parse_start
from queue_server.api.routes.console import form_session, page_session
from queue_server.api.routes.phone import _lang
from queue_server.api.urls import public_base
from queue_server.service import CommandError
from queue_server.web import audit
from queue_server.web.render import page

logger = logging.getLogger(__name__)

prefix = ""
router = APIRouter(include_in_schema=False)

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parents[2] / "booking"), autoescape=select_autoescape(["html"]),
    trim_blocks=True, lstrip_blocks=True,
)
HEADERS = {
    "Cache-Control": "no-store", "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; frame-ancestors 'none'",
}


def _render(request: Request, template: str, status: int = 200, **context: object) -> HTMLResponse:
    lang = _lang(request)
    svc = request.app.state.service
    html = TEMPLATES.get_template(template).render(
        t=lambda key, **kw: t(key, lang, **kw), lang=lang, hall=svc.cfg.hall, day_label=lambda d: _day_label(d, lang, svc.today()),
        sname=lambda sv: local_name(sv, lang),
        q="?lang=en" if lang == "en" else "", request_path=request.url.path, **context,
    )
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def _msg(request: Request, exc: CommandError) -> str:
    """A refusal in the page's language (CommandError carries the Chinese text)."""
    return t(f"error.{exc.code}", _lang(request), **exc.params)


def _day_label(d: date, lang: str, today: date) -> str:
    when = t("booking.today", lang) if d == today else (t("booking.tomorrow", lang) if (d - today).days == 1 else t(f"booking.wd{d.weekday()}", lang))
    return t("booking.day_label", lang, month=d.month, day=d.day, when=when)


@router.get("/book", response_class=HTMLResponse)
def services_page(request: Request) -> HTMLResponse:
    book = book_of(request)
    cfg = book.cfg
    deps = {d.id: d.name for d in cfg.departments}
    lang = _lang(request)
    items = [{"code": b.service.code, "name": local_name(b.service, lang), "department": deps.get(b.service.department, ""), "slot_min": b.rule.slot_min}
             for b in book.bookable_services()]
    return _render(request, "book_services.html", items=items)


def _form_page(request: Request, code: str, day_text: str | None, status: int = 200, error: str = "", name: str = "", chosen: str = "") -> HTMLResponse:
    book = book_of(request)
    try:
        b = book.bookable(code)
    except CommandError as exc:
        return _render(request, "book_message.html", status=404, headline=_msg(request, exc), detail="")
    days = book.days(code)
    try:
        day = parse_day(day_text) if day_text else None
    except CommandError:
        day = None
    if day not in days:
        # the first day that still has a free place, so the citizen sees slots at once
        day = next((d for d in days if any(p.bookable and p.free for p in book.slots(code, d))), days[0] if days else None)
    places = [p for p in book.slots(code, day) if p.bookable or p.free == 0 and p.slot.start >= book.now()] if day else []
    # grouped under 上午 / 中午 / 下午 like the hall's opening hours, so a slot is found at a glance
    groups: list[tuple[str, list]] = []
    for span_name in ("morning", "lunch", "afternoon"):
        span = getattr(b.queue.hours, span_name)
        members = [p for p in places if span is not None and span.contains(p.slot.start.time())]
        if members:
            groups.append((span_name, members))
    return _render(
        request, "book_form.html", status=status, service=b.service, rule=b.rule, days=days, day=day, groups=groups,
        error=error, name=name, chosen=chosen,
    )


@router.get("/book/qr.png")
def poster_qr(request: Request) -> Response:
    """The booking page's QR code, for posters at the entrance, the windows and the kiosk
    (the admin page shows it to print). Points at hall.public_url when set."""
    buf = io.BytesIO()
    segno.make(f"{public_base(request)}/book", error="m").save(buf, kind="png", scale=8, border=4)
    return Response(buf.getvalue(), media_type="image/png", headers={"Cache-Control": "no-cache"})


@router.get("/book/{code}", response_class=HTMLResponse)
def form_page(code: str, request: Request, day: str | None = None) -> HTMLResponse:
    return _form_page(request, code, day)


@router.post("/book/{code}")
async def submit(code: str, request: Request) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    # the database work runs on the thread pool: a write waiting for SQLite's lock must not stall the event loop
    return await run_in_threadpool(_submit, request, code, form)


def _submit(request: Request, code: str, form: dict[str, str]) -> Response:
    day_text, start_text, name = form.get("day", ""), form.get("start", ""), form.get("name", "")
    try:
        check_rate(request)
        book = book_of(request)
        book.bookable(code)
        if not start_text:
            raise CommandError(422, "appointment_pick_slot")
        day, start = parse_day(day_text), parse_start(start_text)
        hashed, masked_id, masked_name = identity_from(request, form.get("id_number", ""), name)
        appt = book.book(code, day, start, hashed, masked_id, masked_name, "phone")
    except CommandError as exc:
        # the number the citizen typed is not sent back; the name and the chosen slot are
        return _form_page(request, code, day_text[:10], status=exc.status, error=_msg(request, exc), name=name[:30], chosen=start_text[:5])
    lang = "?lang=en" if _lang(request) == "en" else ""
    return RedirectResponse(f"/b/{quote(appt.token or '')}{lang}", status_code=303)


def _booking_page(request: Request, token: str, status: int = 200, error: str = "") -> HTMLResponse:
    book = book_of(request)
    appt = book.by_token(token)
    if appt is None:
        return _render(request, "book_message.html", status=404, headline=t("booking.unknown", _lang(request)), detail=t("booking.unknown_detail", _lang(request)))
    tz = request.app.state.clock.tz
    try:
        service = book.cfg.service(appt.service)
    except StopIteration:
        service = None
    policy = book.cfg.policy
    return _render(
        request, "book_done.html", status=status, appt=appt, state=book.state(appt), service=service, token=token,
        start=appt.slot_start.astimezone(tz), end=appt.slot_end.astimezone(tz), early=policy.appointment_early_min,
        late=policy.appointment_late_min, can_cancel=appt.status == "booked" and book.now() < appt.slot_start,
        error=error,
    )


@router.get("/b/{token}", response_class=HTMLResponse)
def booking_page(token: str, request: Request) -> HTMLResponse:
    return _booking_page(request, token)


@router.post("/b/{token}/cancel")
def cancel(token: str, request: Request) -> Response:
    book = book_of(request)
    appt = book.by_token(token)
    if appt is None:
        return _booking_page(request, token)
    try:
        book.cancel(appt)
    except CommandError as exc:
        return _booking_page(request, token, status=exc.status, error=_msg(request, exc))
    lang = "?lang=en" if _lang(request) == "en" else ""
    return RedirectResponse(f"/b/{quote(token)}{lang}", status_code=303)


# ---- the manager's console: who is coming today -----------------------------------------------
@router.get("/admin/appointments", include_in_schema=False)
def admin_list(request: Request, day: str | None = None, notice: str = "", error: str = "") -> Response:
    sess = page_session(request, "admin")
    if isinstance(sess, Response):
        return sess
    book = book_of(request)
    svc = request.app.state.service
    try:
        d = parse_day(day) if day else svc.today()
    except CommandError:
        d = svc.today()
    rows = book.day_list(d)
    names = {s.code: s.name for s in book.cfg.services}
    tz = request.app.state.clock.tz
    now = book.now()
    items = [{"appt": a, "state": book.state(a), "service_name": names.get(a.service, a.service),
              "start": a.slot_start.astimezone(tz), "end": a.slot_end.astimezone(tz),
              "cancellable": a.status == "booked" and now < a.slot_start} for a in rows]
    counts = {k: sum(1 for i in items if i["state"] == k) for k in ("booked", "checked_in", "missed", "cancelled")}
    return page(request, "admin_appointments.html", sess, nav="appointments", day=d, today=svc.today(), items=items,
                counts=counts, prev_day=d.fromordinal(d.toordinal() - 1), next_day=d.fromordinal(d.toordinal() + 1),
                notice=notice[:200], error=error[:200])


@router.post("/admin/appointments/{appt_id}/cancel", include_in_schema=False)
async def admin_cancel(appt_id: int, request: Request) -> Response:
    """The manager cancels for a citizen who telephones (the place is free again at once)."""
    sess, _form = await form_session(request, "admin")
    return await run_in_threadpool(_admin_cancel, request, sess.username, appt_id)


def _admin_cancel(request: Request, username: str, appt_id: int) -> Response:
    book = book_of(request)
    state = request.app.state
    try:
        appt = book.cancel(book.get(appt_id))
    except CommandError as exc:
        return RedirectResponse(f"/admin/appointments?error={quote(exc.message)}", status_code=303)
    tz = state.clock.tz
    audit.record(state.db, state.clock.now(), username, "appointment.cancel", appointment=appt.id, service=appt.service,
                 slot=f"{appt.day} {appt.slot_start.astimezone(tz):%H:%M}")
    notice = t("appt_admin.cancelled", slot=f"{appt.slot_start.astimezone(tz):%H:%M}", name=appt.masked_name)
    return RedirectResponse(f"/admin/appointments?day={appt.day.isoformat()}&notice={quote(notice)}", status_code=303)
