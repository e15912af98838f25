"""PC/SC against the real stack: pcscd + vsmartcard's vpcd driver + a virtual card speaking vpcd's protocol."""

import logging
from datetime import date

import pytest

from kiosk.devices import base
from kiosk.devices.base import CardType, DeviceState
from kiosk.devices.idcard import social_security as ss
from kiosk.devices.idcard.pcsc_reader import IdCardNeedsSam, PcscCardReader
from kiosk.devices.idcard.vpcd_card import ContactlessIdCard, SocialSecurityCard, UnknownCard, VpcdCard
from tests.devices.pcsc_stack import wait_for, wait_slot_settled_empty

pytestmark = pytest.mark.pcsc


@pytest.fixture
def reader(pcsc):
    r = PcscCardReader(pcsc.reader)
    wait_for(lambda: r.state is DeviceState.READY, 10, "the reader")
    yield r
    r.close()


@pytest.fixture
def insert(pcsc):
    cards: list[VpcdCard] = []

    def put(applet):
        card = VpcdCard(applet, pcsc.port)
        card.insert()
        cards.append(card)
        return card

    yield put
    for card in cards:
        card.remove()
    # pcscd polls vpcd: a card swapped faster than its poll looks like the same card, so let it see the slot empty
    wait_slot_settled_empty(pcsc.reader)


def test_reads_the_social_security_card(reader, insert):
    card = insert(SocialSecurityCard("王建国", "11010519491231002X", card_number="A98765432",
                                     issued=date(2021, 3, 1), valid_to=date(2031, 3, 1)))
    ident = reader.read(10)
    assert ident.card_type is CardType.SOCIAL_SECURITY
    assert ident.name == "王建国" and ident.id_number == "11010519491231002X"
    assert ident.masked_name == "王**" and ident.sex == "女" and ident.birth_date == date(1949, 12, 31)
    assert ident.card_number == "A98765432" and ident.valid_to == date(2031, 3, 1)
    assert ident.card_uid == "0A1B2C3D"
    assert card.apdus[1] == ss.SELECT_SSSE  # the application was selected by its name


def test_a_card_is_read_once_per_placing(reader, insert, pcsc):
    card = insert(SocialSecurityCard("李四", "440308200501101519"))
    reader.read(10)
    with pytest.raises(base.NoCard):
        reader.read(0.3)
    card.remove()
    wait_slot_settled_empty(pcsc.reader)
    wait_for(lambda: not reader._cards, 10, "the card to leave")
    insert(SocialSecurityCard("李四", "440308200501101519"))
    assert reader.read(10).masked_name == "李*"


def test_resident_id_card_on_a_plain_reader_is_recognised(reader, insert):
    insert(ContactlessIdCard(bytes.fromhex("1122334455667788")))
    with pytest.raises(IdCardNeedsSam) as info:
        reader.read(10)
    assert info.value.message_key == "card.id_on_pcsc" and isinstance(info.value, base.UnsupportedCard)
    assert info.value.card_uid == "1122334455667788"


def test_unknown_card_is_unsupported(reader, insert):
    insert(UnknownCard())
    with pytest.raises(base.UnsupportedCard) as info:
        reader.read(10)
    assert info.value.atr.startswith("3B8F")


def test_invalid_id_number_on_the_card(reader, insert):
    insert(SocialSecurityCard("王五", "110105194912310021"))
    with pytest.raises(base.InvalidIdNumber):
        reader.read(10)


def test_card_lifted_mid_read(reader, insert):
    insert(SocialSecurityCard("李四", "440308200501101519", remove_after=4))
    with pytest.raises(base.CardRemoved):
        reader.read(10)


def test_no_card(reader):
    with pytest.raises(base.NoCard):
        reader.read(0.3)


def test_unknown_reader_name_is_unavailable(pcsc):
    r = PcscCardReader("No Such Reader")
    try:
        assert r.state is DeviceState.DISCONNECTED
        with pytest.raises(base.DeviceUnavailable):
            r.read(0.2)
    finally:
        r.close()


# pyscard objects created against the stopped pcscd complain when garbage-collected; that is expected here
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_reader_unplugged_and_plugged_back(pcsc, insert, caplog):
    if not pcsc.owned:
        pytest.skip("a pcscd we did not start cannot be restarted to unplug its reader")
    r = PcscCardReader(pcsc.reader)
    try:
        wait_for(lambda: r.state is DeviceState.READY, 10, "the reader")
        with caplog.at_level(logging.INFO):
            pcsc.unplug()
            wait_for(lambda: r.state is DeviceState.DISCONNECTED, 10, "the reader to go")
            with pytest.raises(base.DeviceUnavailable):
                r.read(0.1)
            pcsc.replug()
            wait_for(lambda: r.state is DeviceState.READY, 10, "the reader to come back")
        assert sum("lost" in rec.getMessage() for rec in caplog.records) == 1
        assert any("is back" in rec.getMessage() for rec in caplog.records)
        insert(SocialSecurityCard("王建国", "11010519491231002X"))
        assert r.read(10).card_type is CardType.SOCIAL_SECURITY  # same object, no restart
    finally:
        r.close()
