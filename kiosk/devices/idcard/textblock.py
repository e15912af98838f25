"""The 256-byte text block a SAM module returns (UCS-2 little-endian, space padded). Pure.

Layouts by the card-type flag at byte 248 (character 124), GA/T 467 and the vendor SDKs:
space = 居民身份证, 'J' = 港澳台居民居住证, 'I' = 外国人永久居留身份证 (2017), 'Y' = the same card (2023).
Offsets below are in UCS-2 characters (byte offset / 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kiosk.devices.base import CardType, Identity, InvalidIdNumber, ProtocolError, UnsupportedCard
from kiosk.devices.idcard import idnumber

TEXT_LEN = 256
FLAG_AT = 124

# name: (start, length) in characters
RESIDENT = {"name": (0, 15), "sex": (15, 1), "nation": (16, 2), "birth": (18, 8), "address": (26, 35),
            "id": (61, 18), "authority": (79, 15), "valid_from": (94, 8), "valid_to": (102, 8)}
HMT = {**{k: v for k, v in RESIDENT.items() if k != "nation"}, "pass_number": (110, 9), "issue_count": (119, 2)}
FOREIGN_2017 = {"name_en": (0, 60), "sex": (60, 1), "id": (61, 15), "nationality": (76, 3), "name": (79, 15),
                "valid_from": (94, 8), "valid_to": (102, 8), "birth": (110, 8), "version": (118, 2),
                "authority": (120, 4)}
FOREIGN_2023 = {"name": (0, 15), "sex": (15, 1), "renewals": (16, 2), "birth": (18, 8), "name_en": (26, 35),
                "id": (61, 18), "valid_from": (94, 8), "valid_to": (102, 8), "name_en2": (110, 11),
                "nationality": (121, 3)}
LAYOUTS = {" ": RESIDENT, "J": HMT, "I": FOREIGN_2017, "Y": FOREIGN_2023}
SEX = {"1": "男", "2": "女"}  # GB/T 2261.1; 0 unknown, 9 unstated → ""
LONG_TERM = "长期"


@dataclass(frozen=True)
class CardText:
    """Every field of the block, decoded; held only in memory long enough to build an Identity."""

    flag: str
    fields: dict[str, str]


def decode(block: bytes) -> CardText:
    if len(block) != TEXT_LEN:
        raise ProtocolError(f"text block is {len(block)} bytes, expected {TEXT_LEN}")
    try:
        text = block.decode("utf-16-le")
    except UnicodeDecodeError as exc:
        raise ProtocolError("text block is not UCS-2") from exc
    flag = text[FLAG_AT]
    if flag in ("\x00",):
        flag = " "
    layout = LAYOUTS.get(flag)
    if layout is None:
        raise UnsupportedCard(f"unknown card-type flag {flag!r}")
    fields = {k: text[a:a + n].replace("\x00", " ").strip() for k, (a, n) in layout.items()}
    return CardText(flag, fields)


def _day(s: str) -> date | None:
    if not s or s == LONG_TERM:
        return None
    try:
        return date(int(s[0:4]), int(s[4:6]), int(s[6:8]))
    except ValueError as exc:
        raise ProtocolError("a date field on the card is not a date") from exc  # no value: it is personal data


def to_identity(card: CardText) -> Identity:
    """The typed identity; the ID number is validated and must agree with the birth date on the card."""
    f = card.fields
    if card.flag == "I":
        number = idnumber.validate_foreign_2017(f["id"])
        name = f["name"] or f["name_en"]
        kind = CardType.FOREIGN_PERMANENT
    else:
        number = idnumber.validate(f["id"])
        name = f["name"]
        if card.flag == "Y":
            name = name or (f["name_en"] + f["name_en2"]).strip()
            kind = CardType.FOREIGN_PERMANENT
        elif card.flag == "J":
            if number[:2] not in ("81", "82", "83"):
                raise InvalidIdNumber("residence permit number must start 81/82/83")
            kind = CardType.HK_MACAU_TAIWAN
        else:
            kind = CardType.RESIDENT
    born = _day(f["birth"])
    if card.flag != "I" and born is not None and born != idnumber.birth_date(number):
        raise InvalidIdNumber("birth date on the card differs from the ID number")
    if not name:
        raise ProtocolError("card text has no name")
    return Identity(
        card_type=kind,
        name=name,
        id_number=number,
        sex=SEX.get(f["sex"], ""),
        birth_date=born,
        valid_from=_day(f["valid_from"]),
        valid_to=_day(f["valid_to"]),
        nationality=f.get("nationality", ""),
    )


def parse(block: bytes) -> Identity:
    return to_identity(decode(block))


# ---- encoding (simulators and tests build card contents with the same layouts) -------------
def encode(flag: str, values: dict[str, str]) -> bytes:
    layout = LAYOUTS[flag]
    chars = [" "] * (TEXT_LEN // 2)
    for key, value in values.items():
        start, length = layout[key]
        if len(value) > length:
            raise ValueError(f"{key} longer than {length} characters")
        chars[start:start + length] = list(value.ljust(length))
    chars[FLAG_AT] = flag
    return "".join(chars).encode("utf-16-le")


def resident_block(name: str, id_number: str, *, sex: str = "", nation: str = "01", address: str = "",
                   authority: str = "", valid_from: str = "", valid_to: str = "", flag: str = " ",
                   **extra: str) -> bytes:
    sex = sex or ("1" if int(id_number[16]) % 2 else "2")
    values = {"name": name, "sex": sex, "birth": id_number[6:14], "address": address, "id": id_number,
              "authority": authority, "valid_from": valid_from, "valid_to": valid_to, **extra}
    if flag == " ":
        values["nation"] = nation
    return encode(flag, values)
