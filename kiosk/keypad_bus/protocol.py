"""The keypad bus frame format (docs/keypads.md) — pure: bytes in, frames/events out.

    A5 | ADDR | SEQ | CMD | LEN | PAYLOAD[LEN] | CRC16-MODBUS lo hi   (CRC over ADDR..PAYLOAD)

ADDR 1…247 is a device, 0 the broadcast (no device answers it except ASK, in slots).
A device answers a command with CMD | 0x80 and the same SEQ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

SOF = 0xA5
MAX_PAYLOAD = 32
HEADER = 5  # SOF ADDR SEQ CMD LEN
OVERHEAD = HEADER + 2


class Cmd(IntEnum):
    POLL = 0x01  # → STATUS: kind, flags[, event]
    ASK = 0x02  # broadcast: slots, slot_ms; a device with an event sends EVENT in its slot
    ACK = 0x03  # event_seq: the master has the event (no answer)
    SHOW = 0x04  # ASCII text for the number display → SHOW_OK
    PROMPT = 0x05  # timeout_s, ticket ASCII: light up and ask for a rating → PROMPT_OK
    CANCEL = 0x06  # stop asking → CANCEL_OK
    STATUS = 0x81
    EVENT = 0x82
    SHOW_OK = 0x84
    PROMPT_OK = 0x85
    CANCEL_OK = 0x86


class Kind(IntEnum):
    KEYPAD = 1  # 评价器
    CALLER = 2  # 叫号器


class Key(IntEnum):
    NEXT = 0x0C
    RECALL = 0x0D
    SKIP = 0x0E
    PAUSE = 0x12
    TRANSFER = 0x13
    FINISH = 0x14


KEY_NAMES = {Key.NEXT: "call-next", Key.RECALL: "recall", Key.SKIP: "skip", Key.PAUSE: "pause",
             Key.TRANSFER: "transfer", Key.FINISH: "finish"}

EV_KEY = 0x10
EV_RATING = 0x20
NO_ARG = 0xFFFF

RATING_WORDS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}


def crc16_modbus(data: bytes) -> int:
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


@dataclass(frozen=True)
class Frame:
    addr: int
    seq: int
    cmd: int
    payload: bytes = b""

    def encode(self) -> bytes:
        if len(self.payload) > MAX_PAYLOAD:
            raise ValueError("payload too long")
        body = bytes([self.addr, self.seq & 0xFF, self.cmd, len(self.payload)]) + self.payload
        crc = crc16_modbus(body)
        return bytes([SOF]) + body + bytes([crc & 0xFF, crc >> 8])


def frame_bytes(payload_len: int) -> int:
    return OVERHEAD + payload_len


def wire_seconds(nbytes: int, baudrate: int) -> float:
    """8N1: ten bit times per byte."""
    return nbytes * 10 / baudrate


@dataclass(frozen=True)
class Event:
    addr: int
    seq: int  # the device's event number (repeats of one event carry the same)
    type: int
    code: int
    arg: int = NO_ARG

    def payload(self) -> bytes:
        return bytes([self.seq & 0xFF, self.type, self.code, self.arg >> 8, self.arg & 0xFF])

    @classmethod
    def parse(cls, addr: int, p: bytes) -> "Event":
        if len(p) < 5:
            raise ValueError("short event")
        return cls(addr, p[0], p[1], p[2], (p[3] << 8) | p[4])

    def describe(self) -> str:
        if self.type == EV_KEY:
            name = KEY_NAMES.get(self.code, f"key 0x{self.code:02X}")  # type: ignore[call-overload]
            return f"{self.addr:3d} 叫号器 {name}" + ("" if self.arg == NO_ARG else f" {self.arg}")
        if self.type == EV_RATING:
            return f"{self.addr:3d} 评价器 {self.code} {RATING_WORDS.get(self.code, '?')}"
        return f"{self.addr:3d} event type 0x{self.type:02X} code 0x{self.code:02X}"


@dataclass
class Decoder:
    """Finds frames in a byte stream. Garbage and frames failing the CRC (noise, two devices
    talking at once) are dropped and counted; decoding resynchronises on the next A5."""

    buf: bytearray = field(default_factory=bytearray)
    crc_errors: int = 0
    garbage_bytes: int = 0

    def feed(self, data: bytes) -> list[Frame]:
        self.buf += data
        out: list[Frame] = []
        while True:
            start = self.buf.find(SOF)
            if start < 0:
                self.garbage_bytes += len(self.buf)
                self.buf.clear()
                return out
            if start:
                self.garbage_bytes += start
                del self.buf[:start]
            if len(self.buf) < HEADER:
                return out
            n = self.buf[4]
            if n > MAX_PAYLOAD:
                self.garbage_bytes += 1
                del self.buf[:1]
                continue
            total = OVERHEAD + n
            if len(self.buf) < total:
                return out
            body = bytes(self.buf[1:HEADER + n])
            crc = self.buf[HEADER + n] | (self.buf[HEADER + n + 1] << 8)
            if crc16_modbus(body) != crc:
                self.crc_errors += 1
                del self.buf[:1]  # the real start may be inside
                continue
            out.append(Frame(body[0], body[1], body[2], body[4:]))
            del self.buf[:total]

    def reset(self) -> None:
        self.buf.clear()
