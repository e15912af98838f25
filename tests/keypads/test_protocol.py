"""The frame format, pure: bytes in, frames out."""

from kiosk.keypad_bus.protocol import EV_KEY, Cmd, Decoder, Event, Frame, Key, crc16_modbus


def test_crc16_modbus_check_value():
    assert crc16_modbus(b"123456789") == 0x4B37  # the catalogued CRC-16/MODBUS check value


def test_frame_layout():
    raw = Frame(5, 7, Cmd.SHOW, b"A012").encode()
    assert raw[:6] == bytes([0xA5, 5, 7, 0x04, 4]) + b"A"
    crc = crc16_modbus(raw[1:-2])
    assert raw[-2:] == bytes([crc & 0xFF, crc >> 8])


def test_decoder_finds_frames_split_anywhere_and_drops_garbage():
    frames = [Frame(1, 1, Cmd.POLL), Frame(2, 9, Cmd.EVENT, Event(2, 3, EV_KEY, Key.NEXT).payload())]
    stream = b"\x00\xff\xa5" + frames[0].encode() + b"noise" + frames[1].encode()
    dec = Decoder()
    got = []
    for i in range(0, len(stream), 3):
        got += dec.feed(stream[i:i + 3])
    assert got == frames
    assert dec.garbage_bytes >= 7


def test_corrupt_frame_is_counted_and_the_next_one_still_decodes():
    bad = bytearray(Frame(3, 1, Cmd.POLL).encode())
    bad[3] ^= 0x40
    dec = Decoder()
    assert dec.feed(bytes(bad) + Frame(4, 2, Cmd.POLL).encode()) == [Frame(4, 2, Cmd.POLL)]
    assert dec.crc_errors == 1


def test_collision_of_two_frames_decodes_to_nothing():
    a = Frame(1, 5, Cmd.EVENT, Event(1, 1, EV_KEY, Key.NEXT).payload()).encode()
    b = Frame(5, 5, Cmd.EVENT, Event(5, 1, EV_KEY, Key.RECALL).payload()).encode()
    dec = Decoder()
    assert dec.feed(bytes(x | y for x, y in zip(a, b))) == []


def test_event_text_for_a_technician():
    assert "非常满意" in Event(12, 1, 0x20, 5).describe()
    assert "call-next" in Event(1, 1, EV_KEY, Key.NEXT).describe()
