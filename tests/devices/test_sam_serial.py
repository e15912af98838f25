"""The serial SAM reader against the simulated module on a pseudo-terminal: real pyserial, real bytes."""

import logging
import os

import pytest

from kiosk.devices import base
from kiosk.devices.base import CardType, DeviceState
from kiosk.devices.idcard import sam_protocol as sp
from kiosk.devices.idcard.sam_reader import SamSerialReader, SimulatedCardReader
from kiosk.devices.idcard.sam_simulator import SamSimulatorPort


@pytest.mark.parametrize(
    "kind, card_type",
    [("resident", CardType.RESIDENT), ("hk_macau_taiwan", CardType.HK_MACAU_TAIWAN),
     ("foreign_2017", CardType.FOREIGN_PERMANENT), ("foreign_2023", CardType.FOREIGN_PERMANENT)],
)
def test_reads_every_card_type(sam, sam_reader, cards, kind, card_type):
    sam.module.place(cards[kind])
    ident = sam_reader.read(2)
    assert ident.card_type is card_type
    assert sam.module.commands[-3:] == [sp.FIND_CARD, sp.SELECT_CARD, sp.READ_BASE]
    assert sam_reader.state is DeviceState.READY


def test_no_card_waits_then_says_so(sam, sam_reader):
    with pytest.raises(base.NoCard):
        sam_reader.read(0.2)
    assert sam.module.commands.count(sp.FIND_CARD) >= 2  # it kept looking until the deadline


def test_card_placed_while_waiting_is_read(sam, sam_reader, cards):
    import threading

    placed = threading.Timer(0.15, sam.module.place, args=(cards["resident"],))
    placed.start()
    try:
        assert sam_reader.read(5).name == "张三丰"
    finally:
        placed.cancel()


def test_same_card_is_not_read_twice_until_lifted(sam, sam_reader, cards):
    sam.module.place(cards["resident"])
    sam_reader.read(1)
    with pytest.raises(base.NoCard):
        sam_reader.read(0.1)
    sam.module.lift()
    sam.module.place(cards["resident"])
    assert sam_reader.read(1).card_type is CardType.RESIDENT


@pytest.mark.parametrize("sw3", sorted(k for k, (_, cls) in sp.STATUS.items() if cls is not None))
@pytest.mark.parametrize("cmd", [sp.SELECT_CARD, sp.READ_BASE])
def test_every_status_code_reaches_the_kiosk_as_its_error(sam, sam_reader, cards, sw3, cmd):
    sam.module.place(cards["resident"])
    sam.module.faults.status[cmd] = sw3
    with pytest.raises(sp.STATUS[sw3][1]) as info:
        sam_reader.read(1)
    assert f"SW3={sw3:02X}" in str(info.value)


def test_find_card_errors_other_than_no_card_are_raised(sam, sam_reader, cards):
    sam.module.place(cards["resident"])
    sam.module.faults.status[sp.FIND_CARD] = 0x60
    with pytest.raises(base.SamFault):
        sam_reader.read(1)
    assert sam_reader.state is DeviceState.ERROR


def test_a_corrupt_frame_is_asked_for_once_more(sam, sam_reader, cards):
    sam.module.place(cards["resident"])
    sam.module.faults.corrupt_replies = 1
    assert sam_reader.read(1).name == "张三丰"
    assert sam_reader.retries == 1


def test_a_frame_corrupt_twice_is_an_error(sam, sam_reader, cards):
    sam.module.place(cards["resident"])
    sam.module.faults.corrupt_replies = 2
    with pytest.raises(base.ProtocolError):
        sam_reader.read(1)


def test_corrupt_read_reply_is_retried(sam, sam_reader, cards):
    sam.module.place(cards["resident"])
    sam.module.faults.status.clear()
    # find and select answer cleanly; the long read reply is the one that comes back damaged
    sam_reader.exchange(sp.FIND_CARD)
    sam_reader.exchange(sp.SELECT_CARD)
    sam.module.faults.corrupt_replies = 1
    frame = sam_reader.exchange(sp.READ_BASE, 2)
    assert frame.sw3 == 0x90 and len(frame.data) == 4 + 256 + 1024


def test_card_lifted_mid_read(sam, sam_reader, cards):
    sam.module.place(cards["resident"])
    sam.module.faults.lift_during_read = True
    with pytest.raises(base.CardRemoved):
        sam_reader.read(1)


def test_card_lifted_mid_frame(sam, sam_reader, cards):
    sam.module.place(cards["resident"])
    sam.module.faults.truncate_read = True
    with pytest.raises(base.CardRemoved):  # half a frame, the retry finds the card gone (SW3 41)
        sam_reader.read(1)


def test_silent_module_times_out(sam, sam_reader, cards):
    sam.module.place(cards["resident"])
    sam.module.faults.silent_replies = 2
    with pytest.raises(base.DeviceTimeout):
        sam_reader.read(1)


def test_one_lost_reply_is_survived(sam, sam_reader, cards):
    sam.module.place(cards["resident"])
    sam.module.faults.silent_replies = 1
    assert sam_reader.read(1).name == "张三丰"


def test_garbage_and_a_module_reset_are_survived(sam, sam_reader, cards):
    sam.module.place(cards["resident"])
    sam_reader.exchange(sp.FIND_CARD)
    sam_reader.exchange(sp.SELECT_CARD)
    sam.module.reset()  # rebooted: the selection is gone, boot noise on the line
    sam.module.faults.garbage = b"\x00\xffBOOT v2.1\r\n\xaa\xaa"
    assert sam_reader.read(1).name == "张三丰"


def test_port_that_vanishes_is_reopened(tmp_path, cards, caplog):
    link = str(tmp_path / "ttyIDCARD")
    first = SamSimulatorPort(link=link)
    reader = SamSerialReader(link, command_timeout=1.0, poll_interval=0.05)
    try:
        first.module.place(cards["resident"])
        assert reader.read(1).name == "张三丰"
        first.close()  # USB-serial adapter pulled
        with caplog.at_level(logging.WARNING), pytest.raises((base.DeviceUnavailable, base.DeviceTimeout)):
            reader.read(0.2)
        with pytest.raises(base.DeviceUnavailable):
            reader.read(0.2)
        assert reader.state is DeviceState.DISCONNECTED
        lost = [r for r in caplog.records if "lost" in r.getMessage()]
        assert len(lost) == 1  # logged once, not on every attempt
        second = SamSimulatorPort(link=link)  # plugged back (a new pty behind the same path)
        try:
            second.module.place(cards["foreign_2023"])
            with caplog.at_level(logging.INFO):
                assert reader.read(1).card_type is CardType.FOREIGN_PERMANENT
            assert any("is back" in r.getMessage() for r in caplog.records)
        finally:
            second.close()
    finally:
        reader.close()
        first.close()
        if os.path.islink(link):
            os.unlink(link)


def test_sam_status_and_id(sam, sam_reader):
    sam_reader.check_sam()
    assert len(sam_reader.sam_id()) == 32
    sam.module.faults.status[sp.SAM_STATUS] = 0x66
    with pytest.raises(base.SamFault):
        sam_reader.check_sam()


def test_simulated_reader_backend_speaks_the_same_bytes():
    reader = SimulatedCardReader()
    with pytest.raises(base.NoCard):
        reader.read(0)
    reader.place_sample("hk_macau_taiwan")
    assert reader.read(1).card_type is CardType.HK_MACAU_TAIWAN
    assert reader.module.commands[-3:] == [sp.FIND_CARD, sp.SELECT_CARD, sp.READ_BASE]
