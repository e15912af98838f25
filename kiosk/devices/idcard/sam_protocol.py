"""GA/T 467 host↔SAM framing. Pure: bytes in, frames and errors out.

    AA AA AA 96 69 | LEN_H LEN_L | CMD PARA [DATA] | CHK     host → module
    AA AA AA 96 69 | LEN_H LEN_L | SW1 SW2 SW3 [DATA] | CHK  module → host
LEN counts every byte after the length field including CHK; CHK is the XOR of LEN_H..last data byte.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.devices.base import (
    CardAuthFailed,
    CardError,
    CardRemoved,
    DeviceError,
    NoCard,
    ProtocolError,
    SamFault,
    UnsupportedCard,
)

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER_LEN = 7
MAX_LEN = 4096  # the longest real reply (text + photo + fingerprints) is 2 314 bytes

# (CMD, PARA)
RESET_SAM = (0x10, 0xFF)
SAM_STATUS = (0x11, 0xFF)
SAM_ID = (0x12, 0xFF)
FIND_CARD = (0x20, 0x01)
SELECT_CARD = (0x20, 0x02)
READ_BASE = (0x30, 0x01)
READ_BASE_FP = (0x30, 0x10)
READ_APPEND_ADDRESS = (0x30, 0x03)

SW_OK = 0x90
SW_FOUND = 0x9F
SW_NO_CONTENT = 0x91

# SW3 → (Chinese meaning as printed in module manuals, error class or None for success)
STATUS: dict[int, tuple[str, type[DeviceError] | None]] = {
    0x90: ("操作成功", None),
    0x9F: ("寻找证/卡成功", None),
    0x91: ("证/卡中此项无内容", None),
    0x10: ("接收数据校验和错", ProtocolError),
    0x11: ("接收数据长度错", ProtocolError),
    0x21: ("接收数据命令错", ProtocolError),
    0x23: ("越权操作", ProtocolError),
    0x24: ("无法识别的错误", ProtocolError),
    0x31: ("证/卡认证SAM失败", CardAuthFailed),
    0x32: ("SAM认证证/卡失败", CardAuthFailed),
    0x33: ("信息验证错误", CardAuthFailed),
    0x40: ("无法识别的卡类型", UnsupportedCard),
    0x41: ("读证/卡操作失败", CardRemoved),
    0x47: ("取随机数失败", CardError),
    0x60: ("SAM自检失败", SamFault),
    0x66: ("SAM未经授权", SamFault),
    0x80: ("寻找证/卡失败", NoCard),
    0x81: ("选取证/卡失败", CardRemoved),
}


def checksum(body: bytes) -> int:
    c = 0
    for b in body:
        c ^= b
    return c


def _frame(payload: bytes) -> bytes:
    body = (len(payload) + 1).to_bytes(2, "big") + payload
    return PREAMBLE + body + bytes([checksum(body)])


def command(cmd: tuple[int, int], data: bytes = b"") -> bytes:
    return _frame(bytes(cmd) + data)


def reply(sw3: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    return _frame(bytes([sw1, sw2, sw3]) + data)


@dataclass(frozen=True)
class Frame:
    payload: bytes  # everything between the length field and CHK
    ok: bool  # checksum matched

    # replies
    @property
    def sw3(self) -> int:
        return self.payload[2]

    @property
    def data(self) -> bytes:
        return self.payload[3:]

    # commands (seen by the simulator)
    @property
    def cmd(self) -> tuple[int, int]:
        return (self.payload[0], self.payload[1])

    @property
    def cmd_data(self) -> bytes:
        return self.payload[2:]


class FrameDecoder:
    """Turns a byte stream into frames. Garbage before a preamble (a module booting, line noise) is skipped;
    an impossible length is treated as garbage so one bad byte cannot swallow the next frames."""

    def __init__(self, min_payload: int = 2) -> None:
        self._buf = bytearray()
        self._min = min_payload
        self.skipped = 0

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        frames: list[Frame] = []
        while True:
            i = self._buf.find(PREAMBLE)
            if i < 0:
                keep = len(PREAMBLE) - 1  # a preamble may be split across reads
                drop = max(0, len(self._buf) - keep)
                # keep only a tail that could begin a preamble
                while drop < len(self._buf) and not PREAMBLE.startswith(bytes(self._buf[drop:])):
                    drop += 1
                self.skipped += drop
                del self._buf[:drop]
                return frames
            if i:
                self.skipped += i
                del self._buf[:i]
            if len(self._buf) < HEADER_LEN:
                return frames
            n = int.from_bytes(self._buf[5:7], "big")
            if n < self._min + 1 or n > MAX_LEN:
                self.skipped += 1
                del self._buf[:1]
                continue
            if len(self._buf) < HEADER_LEN + n:
                return frames
            body = bytes(self._buf[5:HEADER_LEN + n - 1])
            chk = self._buf[HEADER_LEN + n - 1]
            frames.append(Frame(payload=body[2:], ok=checksum(body) == chk))
            del self._buf[:HEADER_LEN + n]

    def pending(self) -> int:
        return len(self._buf)

    def clear(self) -> None:
        self._buf.clear()


def error_for(sw3: int, command_name: str = "") -> DeviceError | None:
    """None for a success status, else the error to raise (with the module's own words)."""
    meaning, cls = STATUS.get(sw3, (f"未知状态码 {sw3:02X}", ProtocolError))
    if cls is None:
        return None
    where = f"{command_name}: " if command_name else ""
    return cls(f"{where}SW3={sw3:02X} {meaning}")


@dataclass(frozen=True)
class BaseMessage:
    text: bytes  # 256 bytes UCS-2
    photo_len: int  # the photo itself is dropped here, never kept
    fingerprint_len: int = 0


def split_base_message(data: bytes, with_fingerprint: bool = False) -> BaseMessage:
    """Data of a 30 01 / 30 10 reply (after SW1..SW3): lengths, text, photo (discarded), fingerprints."""
    head = 6 if with_fingerprint else 4
    if len(data) < head:
        raise ProtocolError("read reply too short")
    text_len = int.from_bytes(data[0:2], "big")
    photo_len = int.from_bytes(data[2:4], "big")
    fp_len = int.from_bytes(data[4:6], "big") if with_fingerprint else 0
    if with_fingerprint and fp_len == 0xFFFF:  # modules without a fingerprint reader
        fp_len = 0
    if text_len != 256 or len(data) < head + text_len + photo_len + fp_len:
        raise ProtocolError(f"read reply lengths do not add up (text {text_len}, photo {photo_len}, data {len(data)})")
    return BaseMessage(text=bytes(data[head:head + text_len]), photo_len=photo_len, fingerprint_len=fp_len)
