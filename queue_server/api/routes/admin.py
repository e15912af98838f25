"""The hall manager's console (/admin): live dashboard, configuration, statistics, users, tokens."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from yizhan.i18n import t

from queue_server import stats
from queue_server.api.auth import require
from queue_server.api.routes.console import form_session, page_session
from queue_server.db.tables import Ticket, Token
from queue_server.domain.hours import hours_text, is_working_day
from queue_server.domain.model import OPEN_STATES
from queue_server.service import CommandError
from queue_server.tokens import ROLES as TOKEN_ROLES
from queue_server.tokens import Principal, create_token, revoke_token
from queue_server.web import audit, charts, sessions, users
from queue_server.web.config_edit import ConfigEditor, EditError, EditResult
from queue_server.web.live import dashboard_state, stream
from queue_server.web.render import page

logger = logging.getLogger(__name__)

router = APIRouter()
prefix = ""
ADMIN = require("admin")
SERVICE_CLASSES = ("即收即办", "当日办结", "限时办结", "代办服务")


def _alert_s(request: Request) -> int:
    # A queue whose oldest ticket has waited half the hall's max wait gets a red alert.
    return request.app.state.service.cfg.policy.max_wait_min * 30


def _notice_redirect(path: str, notice: str) -> RedirectResponse:
    path, _, fragment = path.partition("#")
    sep = "&" if "?" in path else "?"
    return RedirectResponse(f"{path}{sep}notice={quote(notice)}" + (f"#{fragment}" if fragment else ""), status_code=303)


# ---- dashboard -------------------------------------------------------------------------------
@router.get("/admin", include_in_schema=False)
def dashboard(request: Request) -> Response:
    sess = page_session(request, "admin")
    if isinstance(sess, Response):
        return sess
    return page(request, "admin_dashboard.html", sess, nav="dashboard", alert_min=_alert_s(request) // 60)


@router.get("/admin/state", include_in_schema=False)
def dashboard_json(request: Request, _p: Principal = Depends(ADMIN)) -> dict:
    return dashboard_state(request.app.state.service, _alert_s(request))


@router.get("/admin/events", include_in_schema=False)
def dashboard_events(request: Request, _p: Principal = Depends(ADMIN)) -> Response:
    svc = request.app.state.service
    alert = _alert_s(request)
    return stream(request, lambda: dashboard_state(svc, alert), lambda c: "/ticket/" not in c.topic)


# ---- configuration ---------------------------------------------------------------------------
def _editor(request: Request) -> ConfigEditor | None:
    settings = request.app.state.settings
    return ConfigEditor(settings.config_file) if settings is not None else None


CALENDAR_AHEAD_DAYS = 21  # three weeks: a long holiday and the make-up Saturday around it


def _days_off(request: Request) -> list[dict]:
    """The days the hall does not work from today on, and why (闭厅 is the hall's own)."""
    svc = request.app.state.service
    cal, today = svc.cfg.calendar, svc.today()
    out = []
    for i in range(CALENDAR_AHEAD_DAYS):
        d = today + timedelta(days=i)
        if not is_working_day(d, cal):
            why = "closed" if d in cal.holidays else ("weekend" if d.weekday() >= 5 else "holiday")
            out.append({"day": d, "label": t("config.day_label", month=d.month, day=d.day, weekday=t(f"booking.wd{d.weekday()}")),
                        "why": why})
    return out


def _config_page(request: Request, sess: sessions.ConsoleSession, *, notice: str = "", problems: list[str] | None = None,
                 failed: str | None = None, status: int = 200, template: str = "admin_config.html", **extra: object) -> Response:
    svc = request.app.state.service
    return page(request, template, sess, status=status, nav="config", cfg=svc.cfg, hours_text=hours_text, notice=notice,
                editable=_editor(request) is not None, problems=problems or [], failed=failed,
                days_off=_days_off(request), ahead=CALENDAR_AHEAD_DAYS, **extra)


@router.get("/admin/config", include_in_schema=False)
def config_page(request: Request, notice: str = "") -> Response:
    sess = page_session(request, "admin")
    if isinstance(sess, Response):
        return sess
    return _config_page(request, sess, notice=notice)


def _apply(request: Request, sess: sessions.ConsoleSession, what: str, key: str, edit) -> EditResult | list[str]:  # type: ignore[no-untyped-def]
    editor = _editor(request)
    if editor is None:
        return [t("config.not_editable")]
    try:
        result = edit(editor)
    except EditError as exc:
        return exc.problems
    state = request.app.state
    state.service.reload_config(result.cfg)
    if result.changes:
        audit.record(state.db, state.clock.now(), sess.username, f"config.{what}", key=key, changes=result.changes)
        logger.info("configuration: %s %s changed by %s (%s)", what, key, sess.username, ", ".join(result.changes))
    return result


def _config_failed(request: Request, sess: sessions.ConsoleSession, problems: list[str], failed: str, template: str = "admin_config.html", **extra: object) -> Response:
    return _config_page(request, sess, problems=problems, failed=failed, status=422, template=template, **extra)


@router.post("/admin/config/queues/{queue_id}", include_in_schema=False)
async def save_queue(queue_id: str, request: Request) -> Response:
    sess, form = await form_session(request, "admin")
    svc = request.app.state.service
    new_id = form.get("prefix", "").strip().upper()
    if new_id and new_id != queue_id:
        with svc.db.read() as s:
            open_count = s.scalar(select(func.count()).select_from(Ticket).where(
                Ticket.day == svc.today(), Ticket.queue == queue_id, Ticket.state.in_([x.value for x in OPEN_STATES]))) or 0
        if open_count:
            return _config_failed(request, sess, [t("config.prefix_busy", queue=queue_id, count=open_count)], f"q-{queue_id}")
    result = _apply(request, sess, "queue", queue_id, lambda e: e.edit_queue(queue_id, form))
    if isinstance(result, list):
        return _config_failed(request, sess, result, f"q-{queue_id}")
    return _notice_redirect(f"/admin/config#q-{new_id or queue_id}", t("config.saved_queue", queue=new_id or queue_id) if result.changes else t("config.unchanged"))


@router.post("/admin/config/calendar", include_in_schema=False)
async def save_calendar(request: Request) -> Response:
    sess, form = await form_session(request, "admin")
    result = _apply(request, sess, "calendar", "calendar", lambda e: e.edit_calendar({k: form[k] for k in ("holidays", "workdays") if k in form}))
    if isinstance(result, list):
        return _config_failed(request, sess, result, "calendar")
    return _notice_redirect("/admin/config#calendar", t("config.saved_calendar") if result.changes else t("config.unchanged"))


@router.post("/admin/config/windows/{window_id}", include_in_schema=False)
async def save_window(window_id: str, request: Request) -> Response:
    sess, form = await form_session(request, "admin")
    result = _apply(request, sess, "window", window_id, lambda e: e.edit_window(window_id, form))
    if isinstance(result, list):
        return _config_failed(request, sess, result, f"w-{window_id}")
    return _notice_redirect(f"/admin/config#w-{window_id}", t("config.saved_window", window=window_id) if result.changes else t("config.unchanged"))


@router.get("/admin/services", include_in_schema=False)
def services_page(request: Request, notice: str = "", q: str = "") -> Response:
    sess = page_session(request, "admin")
    if isinstance(sess, Response):
        return sess
    cfg = request.app.state.service.cfg
    items = [s for s in cfg.services if not q or q.lower() in (s.code + s.name).lower() or q.upper() == s.queue]
    return page(request, "admin_services.html", sess, nav="services", cfg=cfg, services=items, q=q, notice=notice)


@router.get("/admin/services/{code}", include_in_schema=False)
def service_page(code: str, request: Request, notice: str = "") -> Response:
    sess = page_session(request, "admin")
    if isinstance(sess, Response):
        return sess
    cfg = request.app.state.service.cfg
    service = next((s for s in cfg.services if s.code == code), None)
    if service is None:
        raise CommandError(404, "unknown_service", code=code)
    return page(request, "admin_service.html", sess, nav="services", cfg=cfg, s=service, classes=SERVICE_CLASSES,
                notice=notice, problems=[], editable=_editor(request) is not None)


@router.post("/admin/services/{code}", include_in_schema=False)
async def save_service(code: str, request: Request) -> Response:
    sess, form = await form_session(request, "admin")
    result = _apply(request, sess, "service", code, lambda e: e.edit_service(code, form))
    if isinstance(result, list):
        cfg = request.app.state.service.cfg
        service = cfg.service(code)
        return page(request, "admin_service.html", sess, status=422, nav="services", cfg=cfg, s=service, classes=SERVICE_CLASSES,
                    notice="", problems=result, editable=True)
    return _notice_redirect(f"/admin/services/{quote(code)}", t("config.saved_service", code=code) if result.changes else t("config.unchanged"))


# ---- statistics ------------------------------------------------------------------------------
def _period(request: Request, period: str, day: str | None) -> stats.Period:
    if period not in stats.PERIODS:
        raise CommandError(422, "bad_period")
    if day:
        try:
            when = date.fromisoformat(day)
        except ValueError:
            raise CommandError(422, "bad_date", value=day) from None
    else:
        when = request.app.state.service.today()
    return stats.period_for(period, when)


def _report(request: Request, p: stats.Period) -> dict:
    svc = request.app.state.service
    return stats.compute(svc.db, svc.cfg, p, svc.clock.tz, today=svc.today(), now=svc.now())


@router.get("/admin/stats", include_in_schema=False)
def stats_page(request: Request, period: str = "day", day: str | None = Query(None, alias="date"), notice: str = "") -> Response:
    sess = page_session(request, "admin")
    if isinstance(sess, Response):
        return sess
    p = _period(request, period, day)
    report = _report(request, p)
    return page(request, "admin_stats.html", sess, nav="stats", r=report, p=p, notice=notice,
                wait_chart=charts.hourly_bars(report["hourly"], "avg_wait_s", t("stats.chart_wait"), t("stats.unit_min"), scale=60),
                issued_chart=charts.hourly_bars(report["hourly"], "issued", t("stats.chart_issued"), t("stats.unit_tickets"), color="#0a7d3b"),
                sat_chart=charts.satisfaction_bars(report["satisfaction"]))


@router.get("/admin/stats.json", include_in_schema=False)
def stats_json(request: Request, period: str = "day", day: str | None = Query(None, alias="date"), _p: Principal = Depends(ADMIN)) -> dict:
    return _report(request, _period(request, period, day))


@router.get("/admin/stats.csv", include_in_schema=False)
def stats_csv(request: Request, period: str = "day", day: str | None = Query(None, alias="date"), _p: Principal = Depends(ADMIN)) -> Response:
    p = _period(request, period, day)
    name = f"yizhan-stats-{p.kind}-{p.start.isoformat()}.csv"
    return Response(stats.to_csv(_report(request, p)), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/admin/stats.xlsx", include_in_schema=False)
def stats_xlsx(request: Request, period: str = "day", day: str | None = Query(None, alias="date"), _p: Principal = Depends(ADMIN)) -> Response:
    p = _period(request, period, day)
    name = f"yizhan-stats-{p.kind}-{p.start.isoformat()}.xlsx"
    return Response(stats.to_xlsx(_report(request, p)), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/admin/followups/{followup_id}/close", include_in_schema=False)
async def close_followup(followup_id: int, request: Request) -> Response:
    sess, form = await form_session(request, "admin")
    note = form.get("note", "").strip()
    back = form.get("back", "/admin/stats")
    back = back if back.startswith("/admin/") else "/admin/stats"
    if not note:
        return _notice_redirect(back, t("followup.note_required"))
    state = request.app.state
    f = stats.close_followup(state.db, followup_id, state.clock.now(), sess.name, note)
    if f is None:
        return _notice_redirect(back, t("followup.not_open"))
    audit.record(state.db, state.clock.now(), sess.username, "followup.close", followup=followup_id, note=note[:200])
    return _notice_redirect(back, t("followup.closed", id=followup_id))


# ---- users and tokens ------------------------------------------------------------------------
def _users_page(request: Request, sess: sessions.ConsoleSession, notice: str = "", error: str = "", status: int = 200) -> Response:
    state = request.app.state
    now = state.clock.now()
    online: dict[int, int] = {}
    for tok, user in sessions.active_sessions(state.db, now):
        online[user.id] = online.get(user.id, 0) + 1
    return page(request, "admin_users.html", sess, status=status, nav="users", users=users.list_users(state.db), online=online, now=now,
                cfg=state.service.cfg, notice=notice, error=error)


@router.get("/admin/users", include_in_schema=False)
def users_page(request: Request, notice: str = "") -> Response:
    sess = page_session(request, "admin")
    if isinstance(sess, Response):
        return sess
    return _users_page(request, sess, notice)


@router.post("/admin/users", include_in_schema=False)
async def add_user(request: Request) -> Response:
    sess, form = await form_session(request, "admin")
    state = request.app.state
    window = form.get("window") or None
    if window and window not in {w.id for w in state.service.cfg.windows}:
        return _users_page(request, sess, error=t("error.unknown_window", window=window), status=422)
    try:
        user = users.create_user(state.db, state.clock.now(), form.get("username", ""), form.get("password", ""), form.get("role", ""),
                                 form.get("display_name", ""), window)
    except users.UserError as exc:
        return _users_page(request, sess, error=t(exc.key, **exc.params), status=422)
    audit.record(state.db, state.clock.now(), sess.username, "user.add", user=user.username, role=user.role, window=user.window)
    return _notice_redirect("/admin/users", t("users.added", username=user.username))


@router.post("/admin/users/{user_id}", include_in_schema=False)
async def change_user(user_id: int, request: Request) -> Response:
    sess, form = await form_session(request, "admin")
    state = request.app.state
    now = state.clock.now()
    op = form.get("op", "")
    try:
        if op == "password":
            users.set_password(state.db, user_id, form.get("password", ""))
            sessions.end_all_for_user(state.db, now, user_id)
        elif op == "disable":
            if user_id == sess.user_id:
                raise users.UserError("users.not_self")
            users.update_user(state.db, user_id, active=False)
            sessions.end_all_for_user(state.db, now, user_id)
        elif op == "enable":
            users.update_user(state.db, user_id, active=True)
        elif op == "unlock":
            users.update_user(state.db, user_id, unlock=True)
        elif op == "logout":
            sessions.end_all_for_user(state.db, now, user_id)
        elif op == "edit":
            window = form.get("window", "")
            if window and window not in {w.id for w in state.service.cfg.windows}:
                raise users.UserError("users.bad_window", window=window)
            users.update_user(state.db, user_id, display_name=form.get("display_name"), window=window)
        else:
            raise CommandError(422, "invalid_request", t("error.validation", detail=op))
    except users.UserError as exc:
        return _users_page(request, sess, error=t(exc.key, **exc.params), status=422)
    target = users.get_user(state.db, user_id)
    audit.record(state.db, now, sess.username, f"user.{op}", user=target.username if target else user_id)
    return _notice_redirect("/admin/users", t(f"users.done_{op}", username=target.username if target else ""))


def _tokens_page(request: Request, sess: sessions.ConsoleSession, notice: str = "", new_token: str = "", error: str = "", status: int = 200) -> Response:
    state = request.app.state
    with state.db.read() as s:
        rows = list(s.scalars(select(Token).where((Token.device.is_(None)) | (~Token.device.like(f"{sessions.PREFIX}%"))).order_by(Token.revoked_at.is_not(None), Token.id.desc())))
    return page(request, "admin_tokens.html", sess, status=status, nav="tokens", tokens=rows, roles=[r for r in TOKEN_ROLES],
                cfg=state.service.cfg, notice=notice, new_token=new_token, error=error)


@router.get("/admin/tokens", include_in_schema=False)
def tokens_page(request: Request, notice: str = "") -> Response:
    sess = page_session(request, "admin")
    if isinstance(sess, Response):
        return sess
    return _tokens_page(request, sess, notice)


@router.post("/admin/tokens", include_in_schema=False)
async def add_token(request: Request) -> Response:
    sess, form = await form_session(request, "admin")
    state = request.app.state
    role, window, device, name = form.get("role", ""), form.get("window") or None, form.get("device", "").strip() or None, form.get("name", "").strip()
    if device and device.startswith(sessions.PREFIX):
        return _tokens_page(request, sess, error=t("tokens.bad_device"), status=422)
    if window and window not in {w.id for w in state.service.cfg.windows}:
        return _tokens_page(request, sess, error=t("error.unknown_window", window=window), status=422)
    try:
        token = create_token(state.db, state.clock.now(), role, window, device, name[:64])
    except ValueError:
        return _tokens_page(request, sess, error=t("tokens.bad_role"), status=422)
    audit.record(state.db, state.clock.now(), sess.username, "token.add", role=role, window=window, device=device, name=name[:64])
    # Shown once: only its hash is stored.
    return _tokens_page(request, sess, notice=t("tokens.created"), new_token=token)


@router.post("/admin/tokens/{token_id}/revoke", include_in_schema=False)
async def revoke(token_id: int, request: Request) -> Response:
    sess, _form = await form_session(request, "admin")
    state = request.app.state
    ok = revoke_token(state.db, token_id, state.clock.now())
    if ok:
        audit.record(state.db, state.clock.now(), sess.username, "token.revoke", token=token_id)
    return _notice_redirect("/admin/tokens", t("tokens.revoked" if ok else "tokens.already_revoked", id=token_id))


@router.get("/admin/audit", include_in_schema=False)
def audit_page(request: Request) -> Response:
    sess = page_session(request, "admin")
    if isinstance(sess, Response):
        return sess
    state = request.app.state
    return page(request, "admin_audit.html", sess, nav="audit", rows=audit.recent(state.db, 200), tz=state.clock.tz)
