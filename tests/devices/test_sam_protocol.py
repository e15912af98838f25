import pytest

from kiosk.devices import base
from kiosk.devices.idcard import sam_protocol as sp


@pytest.mark.parametrize(
    "cmd, frame",
    [
        (sp.RESET_SAM, "AAAAAA96690003 10FF EC"),
        (sp.SAM_STATUS, "AAAAAA96690003 11FF ED"),
        (sp.SAM_ID, "AAAAAA96690003 12FF EE"),
        (sp.FIND_CARD, "AAAAAA96690003 2001 22"),
        (sp.SELECT_CARD, "AAAAAA96690003 2002 21"),
        (sp.READ_BASE, "AAAAAA96690003 3001 32"),
        (sp.READ_BASE_FP, "AAAAAA96690003 3010 23"),
        (sp.READ_APPEND_ADDRESS, "AAAAAA96690003 3003 30"),
    ],
)
def test_command_frames_match_the_module_manuals(cmd, frame):
    assert sp.command(cmd) == bytes.fromhex(frame.replace(" ", ""))


def test_reply_frames_match_the_module_manuals():
    assert sp.reply(0x9F, bytes(4)) == bytes.fromhex("AAAAAA9669000800009F0000000097")
    assert sp.reply(0x80) == bytes.fromhex("AAAAAA966900040000 80 84".replace(" ", ""))
    assert sp.reply(0x90, bytes(8)) == bytes.fromhex("AAAAAA9669000C00009000000000000000009C")
    assert sp.command((0x61, 0xFF), b"\x50") == bytes.fromhex("AAAAAA9669000461FF50CA")


def test_decoder_skips_garbage_and_handles_split_frames():
    d = sp.FrameDecoder()
    stream = b"\x00\xff\xaa\x96" + sp.reply(0x90) + b"noise\xaa\xaa" + sp.reply(0x9F, bytes(4))
    frames = []
    for i in range(0, len(stream), 3):
        frames += d.feed(stream[i:i + 3])
    assert [f.sw3 for f in frames] == [0x90, 0x9F]
    assert all(f.ok for f in frames)
    assert d.skipped > 0


def test_decoder_flags_a_bad_checksum():
    bad = bytearray(sp.reply(0x90, bytes(8)))
    bad[-2] ^= 1
    (frame,) = sp.FrameDecoder().feed(bytes(bad))
    assert not frame.ok


def test_impossible_length_does_not_swallow_the_next_frame():
    d = sp.FrameDecoder()
    frames = d.feed(sp.PREAMBLE + b"\xff\xff" + sp.reply(0x90))
    assert [f.sw3 for f in frames] == [0x90]


EXPECTED = {
    0x10: base.ProtocolError, 0x11: base.ProtocolError, 0x21: base.ProtocolError, 0x23: base.ProtocolError,
    0x24: base.ProtocolError, 0x31: base.CardAuthFailed, 0x32: base.CardAuthFailed, 0x33: base.CardAuthFailed,
    0x40: base.UnsupportedCard, 0x41: base.CardRemoved, 0x47: base.CardError, 0x60: base.SamFault,
    0x66: base.SamFault, 0x80: base.NoCard, 0x81: base.CardRemoved,
}


@pytest.mark.parametrize("sw3", sorted(sp.STATUS))
def test_every_status_code_has_a_meaning(sw3):
    err = sp.error_for(sw3, "read")
    if sw3 in (0x90, 0x9F, 0x91):
        assert err is None
    else:
        assert type(err) is EXPECTED[sw3]
        assert f"SW3={sw3:02X}" in str(err) and sp.STATUS[sw3][0] in str(err)


def test_unknown_status_code_is_a_protocol_error():
    assert isinstance(sp.error_for(0x55), base.ProtocolError)


def test_split_base_message_drops_the_photo(cards):
    from kiosk.devices.idcard.sam_simulator import PHOTO

    data = b"\x01\x00\x04\x00" + cards["resident"] + PHOTO
    msg = sp.split_base_message(data)
    assert msg.text == cards["resident"] and msg.photo_len == 1024
    assert not hasattr(msg, "photo")
