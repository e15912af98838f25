"""Password hashing (argon2id) and the lock-out rule."""

from __future__ import annotations

from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MAX_FAILURES = 5  # wrong passwords in a row before the account locks
LOCK_FOR = timedelta(minutes=15)
MIN_LENGTH = 8

_hasher = PasswordHasher()
# Verified against when the user does not exist, so an unknown name costs the same time as a wrong password.
_DUMMY = _hasher.hash("yizhan-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)


def password_problem(password: str) -> str | None:
    """A message key when the password is too weak, else None."""
    if len(password) < MIN_LENGTH:
        return "users.password_short"
    if password.isdigit() or password.isalpha():
        return "users.password_mixed"
    return None
