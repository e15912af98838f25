"""The LED frame format: CRC16/MODBUS, GBK text, and a parser that survives noise."""

from __future__ import annotations

import pytest

from display_board.led.protocol import (
    Cmd, Colour, Effect, Frame, FrameError, FrameParser, crc16_modbus, decode_all, decode_text,
    scroll_frame, text_frame, clear_frame, brightness_frame, reply_frame, Status,
)


def test_crc16_modbus_check_value():
    # The catalogue check value of CRC-16/MODBUS.
    assert crc16_modbus(b"123456789") == 0x4B37


def test_text_frame_bytes_are_as_documented():
    raw = text_frame(5, 7, 1, "请A012号", Colour.RED, Effect.FLASH).encode()
    payload = bytes([1, 1, 1]) + "请A012号".encode("gbk")
    assert raw[:2] == b"\xa5\x5a"
    assert raw[2:8] == bytes([0x01, 5, 7, Cmd.TEXT, len(payload), 0])
    assert raw[8:-2] == payload
    crc = crc16_modbus(raw[2:-2])
    assert raw[-2:] == bytes([crc & 0xFF, crc >> 8])


@pytest.mark.parametrize("text", ["请A012号到5号窗口", "综合受理等候12人", "暂停服务", "请稍候", ""])
def test_frames_decode_back_to_the_intended_text(text):
    for frame in (text_frame(3, 200, 2, text, Colour.YELLOW), scroll_frame(3, 201, 3, text, Colour.GREEN, 12)):
        (back,) = decode_all(frame.encode())
        cmd = decode_text(back)
        assert (back.address, back.seq, cmd.line, cmd.text) == (3, frame.seq, frame.payload[0], text)
    assert decode_text(decode_all(scroll_frame(1, 1, 0, text).encode())[0]).scroll


def test_parser_finds_frames_in_noise_split_anywhere():
    frames = [text_frame(1, i, 0, f"A{i:03d}") for i in range(5)] + [clear_frame(2, 9), brightness_frame(3, 10, 8)]
    stream = b"\x00\xff\xa5garbage\xa5" + b"".join(f.encode() for f in frames) + b"\xa5"
    parser = FrameParser()
    got = []
    for i in range(0, len(stream), 3):  # a serial line delivers odd-sized chunks
        got += parser.feed(stream[i : i + 3])
    assert got == frames
    assert parser.discarded > 0


def test_a_corrupted_frame_is_skipped_and_the_next_one_still_read():
    good = text_frame(1, 1, 0, "A001").encode()
    bad = bytearray(text_frame(1, 2, 0, "A002").encode())
    bad[10] ^= 0x55
    parser = FrameParser()
    got = parser.feed(bytes(bad) + good)
    assert [decode_text(f).text for f in got] == ["A001"]
    assert parser.bad_frames == 1


def test_characters_outside_gbk_do_not_break_the_line():
    (frame,) = decode_all(text_frame(1, 1, 0, "请😀号").encode())
    assert decode_text(frame).text == "请?号"


def test_reply_and_bad_payloads():
    req = text_frame(9, 42, 0, "A001")
    reply = reply_frame(req, Status.BAD_LINE)
    assert reply.is_reply and reply.seq == 42 and reply.cmd == Cmd.TEXT | 0x80 and reply.payload == b"\x02"
    with pytest.raises(FrameError):
        decode_text(Frame(1, 1, Cmd.TEXT, b"\x00\x09\x00abc"))  # colour 9 does not exist
    with pytest.raises(FrameError):
        Frame(1, 1, Cmd.TEXT, b"x" * 2000).encode()
