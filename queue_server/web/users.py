"""Console accounts: admins and clerks, argon2 passwords, lock-out after repeated failures."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, update

from yizhan.settings import read_secret

from queue_server.db.engine import Database
from queue_server.db.tables import User
from queue_server.web.passwords import LOCK_FOR, MAX_FAILURES, hash_password, needs_rehash, password_problem, verify_password

logger = logging.getLogger(__name__)

ROLES = ("admin", "clerk")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{2,32}$")


class UserError(Exception):
    """A refused account change; `key` is a message key of the console catalogue."""

    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(key)


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    error: str | None = None  # message key
    params: dict | None = None


def create_user(db: Database, now: datetime, username: str, password: str, role: str,
                display_name: str = "", window: str | None = None) -> User:
    username = username.strip()
    if not USERNAME_RE.match(username):
        raise UserError("users.bad_username")
    if role not in ROLES:
        raise UserError("users.bad_role")
    problem = password_problem(password)
    if problem:
        raise UserError(problem)
    with db.write() as s:
        if s.scalar(select(User.id).where(func.lower(User.username) == username.lower())) is not None:
            raise UserError("users.exists", username=username)
        user = User(username=username, display_name=display_name.strip()[:64], role=role,
                    window=(window or None) if role == "clerk" else None,
                    password_hash=hash_password(password), created_at=now)
        s.add(user)
        s.flush()
        return user


def list_users(db: Database) -> list[User]:
    with db.read() as s:
        return list(s.scalars(select(User).order_by(User.role, User.username)))


def get_user(db: Database, user_id: int) -> User | None:
    with db.read() as s:
        return s.get(User, user_id)


def authenticate(db: Database, now: datetime, username: str, password: str) -> LoginResult:
    """Checks a password; counts failures and locks the account after MAX_FAILURES in a row."""
    with db.read() as s:
        user = s.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    if user is None or not user.active:
        verify_password(None, password)  # same cost as a real check
        return LoginResult(None, "login.bad_credentials")
    if user.locked_until is not None and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        return LoginResult(None, "login.locked", {"minutes": minutes})
    if not verify_password(user.password_hash, password):
        with db.write() as s:
            row = s.get(User, user.id)
            row.failed_attempts += 1
            if row.failed_attempts >= MAX_FAILURES:
                row.locked_until = now + LOCK_FOR
                row.failed_attempts = 0
                logger.warning("console account %s locked after %d failed logins", row.username, MAX_FAILURES)
                return LoginResult(None, "login.locked", {"minutes": int(LOCK_FOR.total_seconds() // 60)})
            left = MAX_FAILURES - row.failed_attempts
        return LoginResult(None, "login.bad_credentials_left", {"left": left})
    with db.write() as s:
        row = s.get(User, user.id)
        row.failed_attempts = 0
        row.locked_until = None
        if needs_rehash(row.password_hash):
            row.password_hash = hash_password(password)
        s.flush()
        return LoginResult(row)


def set_password(db: Database, user_id: int, password: str) -> None:
    problem = password_problem(password)
    if problem:
        raise UserError(problem)
    with db.write() as s:
        s.execute(update(User).where(User.id == user_id).values(password_hash=hash_password(password), failed_attempts=0, locked_until=None))


def update_user(db: Database, user_id: int, *, display_name: str | None = None, window: str | None = None,
                active: bool | None = None, unlock: bool = False) -> User:
    with db.write() as s:
        user = s.get(User, user_id)
        if user is None:
            raise UserError("users.not_found")
        if display_name is not None:
            user.display_name = display_name.strip()[:64]
        if window is not None and user.role == "clerk":
            user.window = window or None
        if active is not None:
            if not active and user.role == "admin":
                others = s.scalar(select(func.count()).select_from(User).where(User.role == "admin", User.active.is_(True), User.id != user_id)) or 0
                if others == 0:
                    raise UserError("users.last_admin")
            user.active = active
        if unlock:
            user.failed_attempts = 0
            user.locked_until = None
        s.flush()
        return user


def ensure_first_admin(db: Database, now: datetime, state_dir: Path) -> None:
    """A hall with no admin account gets one named `admin`: its password comes from
    YIZHAN_ADMIN_PASSWORD or the systemd credential `admin_password`; on a development
    hall without either it is generated into <state dir>/secrets/admin_password."""
    with db.read() as s:
        if s.scalar(select(User.id).where(User.role == "admin").limit(1)) is not None:
            return
    password = read_secret("admin_password", state_dir).decode()
    try:
        create_user(db, now, "admin", password, "admin", display_name="管理员")
    except UserError as exc:
        if exc.key == "users.exists":
            return  # another server process created it at the same moment
        logger.error("initial admin not created: the password from YIZHAN_ADMIN_PASSWORD is too weak (%s)", exc.key)
        return
    logger.info("created the first console account 'admin' (password from YIZHAN_ADMIN_PASSWORD, "
                "the admin_password credential or %s)", state_dir / "secrets" / "admin_password")
