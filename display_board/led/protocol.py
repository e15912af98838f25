"""The yizhan LED frame format (pure: values in, bytes out, and back).

LED controllers share no protocol, so yizhan defines one (docs/display.md):

    A5 5A | VER | ADDR | SEQ | CMD | LEN lo hi | PAYLOAD[LEN] | CRC lo hi

VER is 0x01. ADDR 1–247 is one board on the bus, 0 is broadcast (no reply).
SEQ is echoed by the reply so a late answer is never taken for a new one.
CRC is CRC16/MODBUS (poly 0xA001 reflected, init 0xFFFF) over VER..PAYLOAD.
Text is GBK (a superset of GB2312, which is what LED font chips hold).
A board answers every addressed frame with CMD | 0x80 and one status byte.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum

MAGIC = b"\xa5\x5a"
VERSION = 0x01
BROADCAST = 0
MAX_PAYLOAD = 1024
HEADER_LEN = 2 + 1 + 1 + 1 + 1 + 2  # magic, ver, addr, seq, cmd, len
ENCODING = "gbk"
ALL_LINES = 0xFF


class Cmd(IntEnum):
    TEXT = 0x01  # line, colour, effect, text: show text on one line
    CLEAR = 0x02  # line (0xFF = all lines)
    BRIGHTNESS = 0x03  # level 0–15
    SCROLL = 0x04  # line, colour, speed (columns per second), text: a marquee line
    PING = 0x05  # empty: "are you there"


REPLY = 0x80


class Status(IntEnum):
    OK = 0
    BAD_COMMAND = 1
    BAD_LINE = 2
    BAD_PAYLOAD = 3


class Colour(IntEnum):
    RED = 1
    GREEN = 2
    YELLOW = 3


class Effect(IntEnum):
    STATIC = 0
    FLASH = 1


def crc16_modbus(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


class FrameError(ValueError):
    """Bytes that are not a valid frame."""


@dataclass(frozen=True)
class Frame:
    address: int
    seq: int
    cmd: int
    payload: bytes = b""

    def encode(self) -> bytes:
        if not 0 <= self.address <= 255 or not 0 <= self.seq <= 255 or not 0 <= self.cmd <= 255:
            raise FrameError("address, seq and cmd are single bytes")
        if len(self.payload) > MAX_PAYLOAD:
            raise FrameError(f"payload of {len(self.payload)} bytes exceeds {MAX_PAYLOAD}")
        body = struct.pack("<BBBBH", VERSION, self.address, self.seq, self.cmd, len(self.payload)) + self.payload
        return MAGIC + body + struct.pack("<H", crc16_modbus(body))

    @property
    def is_reply(self) -> bool:
        return bool(self.cmd & REPLY)


def _text(text: str) -> bytes:
    # Characters outside GBK (rare names, emoji) become '?' rather than failing the whole line.
    return text.encode(ENCODING, errors="replace")


def text_frame(address: int, seq: int, line: int, text: str, colour: Colour = Colour.RED, effect: Effect = Effect.STATIC) -> Frame:
    return Frame(address, seq, Cmd.TEXT, bytes([line, colour, effect]) + _text(text))


def scroll_frame(address: int, seq: int, line: int, text: str, colour: Colour = Colour.GREEN, speed: int = 8) -> Frame:
    return Frame(address, seq, Cmd.SCROLL, bytes([line, colour, max(1, min(speed, 255))]) + _text(text))


def clear_frame(address: int, seq: int, line: int = ALL_LINES) -> Frame:
    return Frame(address, seq, Cmd.CLEAR, bytes([line]))


def brightness_frame(address: int, seq: int, level: int) -> Frame:
    return Frame(address, seq, Cmd.BRIGHTNESS, bytes([max(0, min(level, 15))]))


def ping_frame(address: int, seq: int) -> Frame:
    return Frame(address, seq, Cmd.PING)


def reply_frame(request: Frame, status: Status = Status.OK) -> Frame:
    return Frame(request.address, request.seq, request.cmd | REPLY, bytes([status]))


@dataclass(frozen=True)
class TextCommand:
    line: int
    colour: Colour
    text: str
    effect: Effect = Effect.STATIC
    scroll: bool = False
    speed: int = 0


def decode_text(frame: Frame) -> TextCommand:
    """The line, colour and text of a TEXT or SCROLL frame."""
    if frame.cmd not in (Cmd.TEXT, Cmd.SCROLL) or len(frame.payload) < 3:
        raise FrameError(f"not a text frame: cmd 0x{frame.cmd:02x}, {len(frame.payload)} bytes")
    line, colour, third = frame.payload[0], frame.payload[1], frame.payload[2]
    try:
        text = frame.payload[3:].decode(ENCODING)
        col = Colour(colour)
    except (UnicodeDecodeError, ValueError) as exc:
        raise FrameError(f"bad text payload: {exc}") from None
    if frame.cmd == Cmd.SCROLL:
        return TextCommand(line, col, text, scroll=True, speed=third)
    try:
        effect = Effect(third)
    except ValueError:
        raise FrameError(f"unknown effect {third}") from None
    return TextCommand(line, col, text, effect=effect)


@dataclass
class FrameParser:
    """Turns a byte stream into frames; skips noise and frames with a bad CRC (counted)."""

    buffer: bytearray = field(default_factory=bytearray)
    discarded: int = 0  # bytes thrown away while looking for a frame
    bad_frames: int = 0

    def feed(self, data: bytes) -> list[Frame]:
        self.buffer += data
        frames: list[Frame] = []
        while True:
            start = self.buffer.find(MAGIC)
            if start < 0:
                # Keep a trailing 0xA5: it may be the first half of the next magic.
                keep = 1 if self.buffer.endswith(MAGIC[:1]) else 0
                self.discarded += len(self.buffer) - keep
                del self.buffer[: len(self.buffer) - keep]
                return frames
            if start:
                self.discarded += start
                del self.buffer[:start]
            if len(self.buffer) < HEADER_LEN:
                return frames
            ver, addr, seq, cmd, length = struct.unpack_from("<BBBBH", self.buffer, 2)
            if ver != VERSION or length > MAX_PAYLOAD:
                self._skip_one()
                continue
            total = HEADER_LEN + length + 2
            if len(self.buffer) < total:
                return frames
            body = bytes(self.buffer[2 : HEADER_LEN + length])
            (crc,) = struct.unpack_from("<H", self.buffer, HEADER_LEN + length)
            if crc != crc16_modbus(body):
                self.bad_frames += 1
                self._skip_one()
                continue
            frames.append(Frame(addr, seq, cmd, body[6:]))
            del self.buffer[:total]

    def _skip_one(self) -> None:
        self.discarded += 1
        del self.buffer[:1]


def decode_all(data: bytes) -> list[Frame]:
    return FrameParser().feed(data)
