"""The window clerk's console (/console), the login pages, and the consoles' shared setup
(session hook, change feed, first admin account, static files)."""

from __future__ import annotations

import hmac
import logging
import secrets
from contextlib import asynccontextmanager
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from yizhan.config import ConfigError, load_config
from yizhan.i18n import t

from queue_server.api.auth import may_act_on_window, require
from queue_server.domain.model import PauseReason
from queue_server.service import CommandError
from queue_server.tokens import Principal
from queue_server.web import sessions, users
from queue_server.web.feed import ChangeFeed, Change
from queue_server.web.live import console_state, stream
from queue_server.web.render import HERE, page

logger = logging.getLogger(__name__)

router = APIRouter()
prefix = ""


# ---- helpers shared with admin.py -----------------------------------------------------------
def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def page_session(request: Request, *roles: str) -> sessions.ConsoleSession | Response:
    """The session for a page, or the response to send instead (login page, or 403 page)."""
    sess = sessions.from_request(request)
    if sess is None:
        # A browser goes to the login page; a script gets the API's JSON 401.
        if "text/html" in request.headers.get("accept", ""):
            return login_redirect(request)
        raise CommandError(401, "unauthorized")
    if sess.role not in roles:
        return page(request, "forbidden.html", sess, status=403)
    return sess


async def form_session(request: Request, *roles: str) -> tuple[sessions.ConsoleSession, dict[str, str]]:
    """For HTML form posts: the session, its role and the CSRF field, or a CommandError."""
    sess = sessions.from_request(request)
    if sess is None:
        raise CommandError(401, "unauthorized")
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    if not hmac.compare_digest(form.get("csrf_token", ""), sess.csrf):
        raise CommandError(403, "csrf")
    if sess.role not in roles:
        raise CommandError(403, "forbidden")
    return sess, form


def _safe_next(target: str | None) -> str | None:
    # Only local paths: a login link must not send the user to another site.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _home(sess: sessions.ConsoleSession) -> str:
    if sess.role == "admin":
        return "/admin"
    return "/console" if sess.window else "/console/window"


# ---- login / logout --------------------------------------------------------------------------
def _login_page(request: Request, error: str | None = None, status: int = 200, username: str = "") -> Response:
    nonce = secrets.token_urlsafe(24)
    resp = page(request, "login.html", None, status=status, login_csrf=nonce, error=error, username=username,
                next=_safe_next(request.query_params.get("next")) or "")
    resp.set_cookie(sessions.LOGIN_COOKIE, nonce, httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/login")
    return resp


@router.get("/login", include_in_schema=False)
def login_form(request: Request) -> Response:
    sess = sessions.from_request(request)
    if sess is not None:
        return RedirectResponse(_home(sess), status_code=303)
    return _login_page(request)


@router.post("/login", include_in_schema=False)
async def login(request: Request) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    cookie = request.cookies.get(sessions.LOGIN_COOKIE, "")
    if not cookie or not hmac.compare_digest(form.get("login_csrf", ""), cookie):
        return _login_page(request, t("login.expired_form"), status=400)
    state = request.app.state
    now = state.clock.now()
    username = form.get("username", "")[:64]
    result = users.authenticate(state.db, now, username, form.get("password", ""))
    if result.user is None:
        return _login_page(request, t(result.error, **(result.params or {})), status=401, username=username)
    token = sessions.start(state.db, now, result.user)
    target = _safe_next(form.get("next"))
    if result.user.role == "clerk" and not result.user.window:
        target = "/console/window"
    elif target is None or (result.user.role == "clerk" and target.startswith("/admin")):
        target = "/admin" if result.user.role == "admin" else "/console"
    resp = RedirectResponse(target, status_code=303)
    resp.set_cookie(sessions.COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                    max_age=int(sessions.MAX_AGE.total_seconds()), path="/")
    resp.delete_cookie(sessions.LOGIN_COOKIE, path="/login")
    logger.info("console login: %s (%s)", result.user.username, result.user.role)
    return resp


@router.post("/logout", include_in_schema=False)
async def logout(request: Request) -> Response:
    if sessions.from_request(request) is not None:
        sess, _form = await form_session(request, "admin", "clerk")
        sessions.end(request.app.state.db, request.app.state.clock.now(), sess)
    elif "text/html" not in request.headers.get("accept", ""):
        raise CommandError(401, "unauthorized")
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(sessions.COOKIE, path="/")
    return resp


# ---- the window console ----------------------------------------------------------------------
def _console_window(request: Request, sess: sessions.ConsoleSession, window: str | None) -> str | None:
    if sess.role == "clerk":
        return sess.window
    cfg = request.app.state.service.cfg
    ids = [w.id for w in cfg.windows]
    return window if window in ids else None


@router.get("/console", include_in_schema=False)
def console_page(request: Request, window: str | None = None) -> Response:
    sess = page_session(request, "clerk", "admin")
    if isinstance(sess, Response):
        return sess
    if sess.role == "clerk" and not sess.window:
        return RedirectResponse("/console/window", status_code=303)
    wid = _console_window(request, sess, window)
    if wid is None:
        return RedirectResponse("/console/window", status_code=303)
    cfg = request.app.state.service.cfg
    return page(request, "console.html", sess, window=cfg.window(wid), bound=bool(sess.user_window),
                pause_reasons=[r.value for r in PauseReason])


@router.get("/console/window", include_in_schema=False)
def pick_window(request: Request) -> Response:
    sess = page_session(request, "clerk", "admin")
    if isinstance(sess, Response):
        return sess
    if sess.role == "clerk" and sess.user_window:
        return RedirectResponse("/console", status_code=303)
    svc = request.app.state.service
    return page(request, "pick_window.html", sess, windows=svc.windows_live(), cfg=svc.cfg)


@router.post("/console/window", include_in_schema=False)
async def choose_window(request: Request) -> Response:
    sess, form = await form_session(request, "clerk", "admin")
    wid = form.get("window", "")
    if wid not in {w.id for w in request.app.state.service.cfg.windows}:
        raise CommandError(404, "unknown_window", window=wid)
    if sess.role == "admin":
        return RedirectResponse(f"/console?window={quote(wid)}", status_code=303)
    if sess.user_window and sess.user_window != wid:
        raise CommandError(403, "other_window", window=wid)
    sessions.set_window(request.app.state.db, sess, wid)
    return RedirectResponse("/console", status_code=303)


def _window_for(request: Request, p: Principal, window: str | None) -> str:
    wid = p.window if p.role == "clerk" else window
    if not wid:
        raise CommandError(422, "window_required")
    if wid not in {w.id for w in request.app.state.service.cfg.windows}:
        raise CommandError(404, "unknown_window", window=wid)
    may_act_on_window(request, p, wid)
    return wid


@router.get("/console/state", include_in_schema=False)
def console_json(request: Request, window: str | None = Query(None, max_length=8), p: Principal = Depends(require("clerk", "admin"))) -> dict:
    return console_state(request.app.state.service, _window_for(request, p, window))


@router.get("/console/events", include_in_schema=False)
def console_events(request: Request, window: str | None = Query(None, max_length=8), p: Principal = Depends(require("clerk", "admin"))) -> Response:
    svc = request.app.state.service
    wid = _window_for(request, p, window)
    watched = {f"/window/{wid}/state"} | {f"/queue/{q}/state" for q in svc.cfg.window(wid).queues}

    def relevant(c: Change) -> bool:
        return any(c.topic.endswith(suffix) for suffix in watched) or (c.topic.endswith("/call") and c.payload.get("window") == wid)

    return stream(request, lambda: console_state(svc, wid), relevant)


# ---- setup -----------------------------------------------------------------------------------
def setup(app: FastAPI) -> None:
    state = app.state
    app.mount("/assets/console", StaticFiles(directory=HERE / "static"), name="console-assets")
    state.session_principal = sessions.session_principal

    def reload_from_file() -> None:
        settings = state.settings
        if settings is None:
            return
        try:
            cfg = load_config(settings.config_dir)
        except ConfigError:
            logger.error("configuration changed by another server is invalid; keeping the running one")
            return
        state.service.reload_config(cfg)
        logger.info("configuration reloaded (changed by another server process)")

    state.change_feed = ChangeFeed(state.db, on_config_change=reload_from_file)
    if state.settings is not None:
        users.ensure_first_admin(state.db, state.clock.now(), state.settings.state_dir)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a):  # type: ignore[no-untyped-def]
        state.change_feed.start()
        try:
            async with inner(a) as maybe_state:
                yield maybe_state
        finally:
            await state.change_feed.stop()

    app.router.lifespan_context = lifespan
