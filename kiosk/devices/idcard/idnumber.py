"""Citizen ID numbers (GB 11643-1999): check digit (ISO 7064 MOD 11-2), birth date, sex. Pure."""

from __future__ import annotations

import re
from datetime import date

from kiosk.devices.base import InvalidIdNumber

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # 2^(17-i) mod 11
CHECK_CHARS = "10X98765432"
_ID18 = re.compile(r"^\d{17}[\dX]$")
# 外国人永久居留身份证 (2017): 3-letter nationality, 12 digits; its check digit rule is not public, so only the form is checked.
_FOREIGN_2017 = re.compile(r"^[A-Z]{3}\d{12}$")


def check_digit(first17: str) -> str:
    if not re.fullmatch(r"\d{17}", first17):
        raise InvalidIdNumber(f"need 17 digits, got {len(first17)} characters")
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def normalize(id_number: str) -> str:
    return id_number.strip().upper().replace("x", "X")


def validate(id_number: str) -> str:
    """The normalised 18-character number, or InvalidIdNumber (form, check digit or birth date wrong)."""
    s = normalize(id_number)
    if not _ID18.match(s):
        raise InvalidIdNumber("ID number must be 17 digits and a check character")
    if check_digit(s[:17]) != s[17]:
        raise InvalidIdNumber("ID number check digit does not match")
    birth_date(s)  # an impossible date is as wrong as a bad check digit
    return s


def birth_date(id_number: str) -> date:
    s = normalize(id_number)
    try:
        return date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError as exc:
        raise InvalidIdNumber("ID number holds no valid birth date") from exc


def sex(id_number: str) -> str:
    """男 for an odd sequence digit, 女 for an even one (GB 11643)."""
    return "男" if int(normalize(id_number)[16]) % 2 else "女"


def validate_foreign_2017(permit_number: str) -> str:
    s = normalize(permit_number)
    if not _FOREIGN_2017.match(s):
        raise InvalidIdNumber("permanent residence permit number must be 3 letters and 12 digits")
    return s


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
