from datetime import date

import pytest

from kiosk.devices.base import CardType, InvalidIdNumber, UnsupportedCard
from kiosk.devices.idcard import textblock
from kiosk.devices.idcard.textblock import encode, parse, resident_block


def test_resident_card_fields(cards):
    ident = parse(cards["resident"])
    assert ident.card_type is CardType.RESIDENT
    assert ident.name == "张三丰" and ident.id_number == "11010519491231002X"
    assert ident.sex == "女" and ident.birth_date == date(1949, 12, 31)
    assert ident.valid_from == date(2015, 1, 1) and ident.valid_to is None  # 长期
    assert str(ident) == "resident 张** 1101**********002X"
    assert "张三丰" not in repr(ident) and "11010519491231002X" not in repr(ident)


def test_hk_macau_taiwan_permit(cards):
    ident = parse(cards["hk_macau_taiwan"])
    assert ident.card_type is CardType.HK_MACAU_TAIWAN
    assert ident.id_number.startswith("81") and ident.masked_id == "8100**********0021"
    assert textblock.decode(cards["hk_macau_taiwan"]).fields["pass_number"] == "H12345678"


def test_foreign_permanent_2017(cards):
    ident = parse(cards["foreign_2017"])
    assert ident.card_type is CardType.FOREIGN_PERMANENT
    assert ident.name == "史密斯" and ident.id_number == "USA110080101234"
    assert ident.nationality == "USA" and ident.birth_date == date(1980, 1, 1) and ident.sex == "男"


def test_foreign_permanent_2017_without_chinese_name_uses_english():
    block = encode("I", {"name_en": "SMITH JOHN", "sex": "1", "id": "USA110080101234", "nationality": "USA",
                         "birth": "19800101", "valid_from": "20170601", "valid_to": "20270601"})
    assert parse(block).masked_name == "S**** J***"


def test_foreign_permanent_2023(cards):
    ident = parse(cards["foreign_2023"])
    assert ident.card_type is CardType.FOREIGN_PERMANENT
    assert ident.id_number == "911156199003150025" and ident.nationality == "DEU" and ident.sex == "女"


def test_unknown_flag_is_unsupported(cards):
    block = bytearray(cards["resident"])
    block[248:250] = "Z".encode("utf-16-le")
    with pytest.raises(UnsupportedCard):
        parse(bytes(block))


def test_bad_check_digit_on_card():
    with pytest.raises(InvalidIdNumber):
        parse(resident_block("王五", "110105194912310021"))


def test_birth_field_must_match_number():
    block = encode(" ", {"name": "王五", "sex": "2", "birth": "19500101", "id": "11010519491231002X"})
    with pytest.raises(InvalidIdNumber):
        parse(block)


def test_hmt_permit_needs_81_82_83():
    with pytest.raises(InvalidIdNumber):
        parse(resident_block("陈大文", "11010519491231002X", flag="J"))
