"""社保卡 APDUs as published (research §1.8), and the record parsing, against the virtual card's applet."""

from datetime import date

import pytest

from kiosk.devices.base import CardType, ProtocolError
from kiosk.devices.idcard import social_security as ss
from kiosk.devices.idcard.vpcd_card import SocialSecurityCard


def test_apdus_match_the_published_table():
    assert ss.SELECT_SSSE == bytes.fromhex("00A404000F7378312E73682EC9E7BBE1B1A3D5CF")
    assert ss.SELECT_EF05 == bytes.fromhex("00A4020002EF05")
    assert ss.SELECT_EF06 == bytes.fromhex("00A4020002EF06")
    table = {0x01: "00B2010012", 0x05: "00B2050006", 0x06: "00B2060006", 0x07: "00B207000B"}
    for rec, (_, n) in ss.EF05.items():
        assert ss.read_record(rec, n) == bytes.fromhex(table[rec])
    table = {0x08: "00B2080014", 0x09: "00B2090020", 0x0A: "00B20A0003", 0x0B: "00B20B0003", 0x0D: "00B20D0006"}
    for rec, (_, n) in ss.EF06.items():
        assert ss.read_record(rec, n) == bytes.fromhex(table[rec])


def transmit_for(applet):
    def transmit(apdu: bytes):
        r = applet.apdu(apdu)
        return r[:-2], r[-2], r[-1]

    return transmit


def test_reads_identity():
    card = SocialSecurityCard("欧阳娜娜", "11010519491231002X", card_number="A98765432",
                              issued=date(2021, 3, 1), valid_to=date(2031, 3, 1))
    t = transmit_for(card)
    assert ss.select_application(t)
    ident = ss.read_identity(t)
    assert ident.card_type is CardType.SOCIAL_SECURITY and ident.name == "欧阳娜娜"
    assert ident.valid_from == date(2021, 3, 1) and ident.card_number == "A98765432"


class T0Card(SocialSecurityCard):
    """Answers like a T=0 card: 61xx (data waiting) or 6Cxx (wrong Le) first."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.waiting = b""

    def apdu(self, c: bytes) -> bytes:
        if c[1] == 0xC0:
            out, self.waiting = self.waiting, b""
            return out + b"\x90\x00"
        r = super().apdu(c)
        if c[1] == 0xB2 and r.endswith(b"\x90\x00"):
            if c[4] != len(r) - 2:
                return bytes([0x6C, len(r) - 2])
            self.waiting = r[:-2]
            return bytes([0x61, len(self.waiting)])
        return r


def test_t0_get_response_and_wrong_le_are_handled():
    card = T0Card("李四", "440308200501101519")
    card.files[0xEF06][0x09] = "李四".encode("gbk")  # a card that stores the name unpadded: Le 0x20 is wrong
    t = transmit_for(card)
    assert ss.select_application(t)
    assert ss.read_identity(t).masked_name == "李*"


def test_not_a_social_security_card():
    from kiosk.devices.idcard.vpcd_card import UnknownCard

    assert not ss.select_application(transmit_for(UnknownCard()))


def test_malformed_record():
    with pytest.raises(ProtocolError):
        ss.tlv_value(b"\x09\x20abc", 0x09)
