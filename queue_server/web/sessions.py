"""Console sessions. A session is a row in the `tokens` table (device `session:<user id>`), so
every server process on one database accepts it and logging out revokes it everywhere. The
browser holds the token in an HttpOnly, SameSite=Strict cookie; the CSRF token is an HMAC of the
session token, so it needs no storage and a page from another site cannot know it."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request
from sqlalchemy import select, update

from queue_server.db.engine import Database
from queue_server.db.tables import Token, User
from queue_server.service import CommandError
from queue_server.tokens import Principal

COOKIE = "yz_session"
LOGIN_COOKIE = "yz_login"  # double-submit token of the login form (before there is a session)
CSRF_HEADER = "x-csrf-token"
MAX_AGE = timedelta(hours=12)  # one working day; then log in again
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
PREFIX = "session:"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_for(session_token: str) -> str:
    return hmac.new(session_token.encode(), b"yizhan-csrf", hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ConsoleSession:
    token: str
    token_id: int
    user_id: int
    username: str
    name: str
    role: str
    window: str | None
    user_window: str | None  # the window the account is bound to (None = picks one at login)
    created_at: datetime

    @property
    def csrf(self) -> str:
        return csrf_for(self.token)

    def principal(self) -> Principal:
        return Principal(role=self.role, name=self.name, window=self.window, token_id=self.token_id, user_id=self.user_id)


def start(db: Database, now: datetime, user: User) -> str:
    token = "yzs_" + secrets.token_urlsafe(32)
    with db.write() as s:
        s.add(Token(token_hash=_hash(token), role=user.role, window=user.window if user.role == "clerk" else None,
                    device=f"{PREFIX}{user.id}", name=user.display_name or user.username, created_at=now, last_used_at=now))
    return token


def resolve(db: Database, now: datetime, token: str | None) -> ConsoleSession | None:
    if not token or not token.startswith("yzs_"):
        return None
    with db.read() as s:
        row = s.execute(
            select(Token, User).join(User, Token.device == (PREFIX + User.id.cast(Token.device.type)))
            .where(Token.token_hash == _hash(token), Token.revoked_at.is_(None))
        ).first()
    if row is None:
        return None
    tok, user = row
    if not user.active or tok.created_at + MAX_AGE < now or user.role != tok.role:
        return None
    return ConsoleSession(token=token, token_id=tok.id, user_id=user.id, username=user.username,
                          name=user.display_name or user.username, role=user.role, window=tok.window,
                          user_window=user.window, created_at=tok.created_at)


def set_window(db: Database, session: ConsoleSession, window: str) -> None:
    with db.write() as s:
        s.execute(update(Token).where(Token.id == session.token_id).values(window=window))


def end(db: Database, now: datetime, session: ConsoleSession) -> None:
    with db.write() as s:
        s.execute(update(Token).where(Token.id == session.token_id, Token.revoked_at.is_(None)).values(revoked_at=now))


def end_all_for_user(db: Database, now: datetime, user_id: int) -> None:
    with db.write() as s:
        s.execute(update(Token).where(Token.device == f"{PREFIX}{user_id}", Token.revoked_at.is_(None)).values(revoked_at=now))


def active_sessions(db: Database, now: datetime) -> list[tuple[Token, User]]:
    """Who is logged in: sessions neither ended nor expired."""
    with db.read() as s:
        rows = s.execute(
            select(Token, User).join(User, Token.device == (PREFIX + User.id.cast(Token.device.type)))
            .where(Token.revoked_at.is_(None), Token.created_at > now - MAX_AGE)
            .order_by(Token.created_at)
        ).all()
    return [(t, u) for t, u in rows if u.active]


def from_request(request: Request) -> ConsoleSession | None:
    cached = getattr(request.state, "console_session", False)
    if cached is not False:
        return cached
    state = request.app.state
    sess = resolve(state.db, state.clock.now(), request.cookies.get(COOKIE))
    request.state.console_session = sess
    return sess


def session_principal(request: Request) -> Principal | None:
    """The hook queue_server.api.auth calls for requests without a bearer token. Changing state
    with a cookie needs the CSRF token in the X-CSRF-Token header."""
    sess = from_request(request)
    if sess is None:
        return None
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent, sess.csrf):
            raise CommandError(403, "csrf")
    if sess.role == "clerk" and not sess.window:
        raise CommandError(403, "no_window_chosen")
    return sess.principal()
