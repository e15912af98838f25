"""Personal data rules (PIPL): ID numbers only as keyed hash plus masked form, names masked."""

from __future__ import annotations

import hashlib
import hmac


def id_hash(id_number: str, key: bytes) -> str:
    """Keyed hash of an ID number, for limits and look-ups; never reversible without the key."""
    normalized = id_number.strip().upper().encode("ascii", "ignore")
    return hmac.new(key, normalized, hashlib.sha256).hexdigest()


def mask_id(id_number: str) -> str:
    """6201**********1234: first 4 and last 4 kept (DESIGN.md)."""
    s = id_number.strip()
    if len(s) <= 8:
        return "*" * len(s)
    return s[:4] + "*" * (len(s) - 8) + s[-4:]


def mask_name(name: str) -> str:
    """张* for Chinese names (surname kept); for Latin names the first letter of each word."""
    s = name.strip()
    if not s:
        return ""
    if s.isascii():
        return " ".join(w[0] + "*" * (len(w) - 1) for w in s.split())
    if len(s) == 1:
        return s
    # Two-character compound surnames (欧阳, 司马…) are rare; keeping one character is always safe.
    return s[0] + "*" * (len(s) - 1)
