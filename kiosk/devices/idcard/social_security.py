"""The Chinese social security card (社会保障卡) basic data over ISO 7816 APDUs. Pure given a `transmit`.

SELECT the SSSE application ("sx1.sh." + GBK 社会保障), then records of EF05 (card) and EF06 (person);
every record answers `tag len value`. Names are GBK. Only the PIN-free basic data is read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from kiosk.devices.base import CardType, Identity, InvalidIdNumber, ProtocolError
from kiosk.devices.idcard import idnumber

Transmit = Callable[[bytes], tuple[bytes, int, int]]

SSSE_AID = b"sx1.sh." + "社会保障".encode("gbk")
SELECT_SSSE = bytes([0x00, 0xA4, 0x04, 0x00, len(SSSE_AID)]) + SSSE_AID
SELECT_EF05 = bytes.fromhex("00A4020002EF05")
SELECT_EF06 = bytes.fromhex("00A4020002EF06")
GET_DATA_UID = bytes.fromhex("FFCA000000")  # PC/SC part 3: the reader answers with the chip's UID
ID_CARD_UID = bytes.fromhex("0036000008")  # resident ID card: 8-byte chip serial

# EF05 card file and EF06 person file: record → (field, value length)
EF05 = {0x01: ("card_id", 16), 0x05: ("issued", 4), 0x06: ("valid_to", 4), 0x07: ("card_number", 9)}
EF06 = {0x08: ("id_number", 18), 0x09: ("name", 30), 0x0A: ("sex", 1), 0x0B: ("nation", 1), 0x0D: ("birth", 4)}


def read_record(record: int, length: int) -> bytes:
    return bytes([0x00, 0xB2, record, 0x00, length + 2])


def exchange(transmit: Transmit, apdu: bytes) -> tuple[bytes, int, int]:
    """One command with the T=0 fix-ups: 61xx → GET RESPONSE, 6Cxx → same command with the right Le."""
    data, sw1, sw2 = transmit(apdu)
    if sw1 == 0x6C:
        data, sw1, sw2 = transmit(apdu[:-1] + bytes([sw2]))
    while sw1 == 0x61:
        more, sw1, sw2 = transmit(bytes([0x00, 0xC0, 0x00, 0x00, sw2]))
        data += more
    return data, sw1, sw2


def ok(sw1: int, sw2: int) -> bool:
    return (sw1, sw2) == (0x90, 0x00)


def tlv_value(resp: bytes, record: int) -> bytes:
    if len(resp) < 2 or resp[0] != record or resp[1] > len(resp) - 2:
        raise ProtocolError(f"social security record {record:02X} malformed")
    return resp[2:2 + resp[1]]


def _bcd_date(b: bytes) -> date | None:
    s = b.hex()
    if len(s) < 8 or not s[:8].isdigit() or s[:8] == "00000000":
        return None
    try:
        return date(int(s[0:4]), int(s[4:6]), int(s[6:8]))
    except ValueError:
        return None


def select_application(transmit: Transmit) -> bool:
    _, sw1, sw2 = exchange(transmit, SELECT_SSSE)
    return ok(sw1, sw2)


def _read_file(transmit: Transmit, select: bytes, records: dict[int, tuple[str, int]]) -> dict[str, bytes]:
    _, sw1, sw2 = exchange(transmit, select)
    if not ok(sw1, sw2):
        raise ProtocolError(f"social security file not selectable ({sw1:02X}{sw2:02X})")
    out: dict[str, bytes] = {}
    for rec, (name, length) in records.items():
        data, sw1, sw2 = exchange(transmit, read_record(rec, length))
        if ok(sw1, sw2):
            out[name] = tlv_value(data, rec)
    return out


def read_identity(transmit: Transmit) -> Identity:
    """Assumes the SSSE application is selected (select_application returned True)."""
    card = _read_file(transmit, SELECT_EF05, EF05)
    person = _read_file(transmit, SELECT_EF06, EF06)
    if "id_number" not in person or "name" not in person:
        raise ProtocolError("social security card without ID number or name")
    number = idnumber.validate(person["id_number"].decode("ascii", errors="replace"))
    name = person["name"].replace(b"\x00", b" ").decode("gbk", errors="replace").strip()
    born = _bcd_date(person.get("birth", b""))
    if born is not None and born != idnumber.birth_date(number):
        raise InvalidIdNumber("birth date on the card differs from the ID number")
    sex = {b"1": "男", b"2": "女"}.get(person.get("sex", b"")[:1], "")
    return Identity(
        card_type=CardType.SOCIAL_SECURITY,
        name=name,
        id_number=number,
        sex=sex,
        birth_date=born or idnumber.birth_date(number),
        valid_from=_bcd_date(card.get("issued", b"")),
        valid_to=_bcd_date(card.get("valid_to", b"")),
        card_number=card.get("card_number", b"").decode("ascii", errors="replace").strip(),
    )
