"""A supervised line to LED controllers: serial (RS-485/RS-232) or TCP, one request at a time.

Several boards may share the line (RS-485 multi-drop): each request names an
address and waits for that board's reply. A port that vanishes or a board that
answers nonsense is logged once when it goes and once when it returns.
"""

from __future__ import annotations

import logging
import termios
import threading
import time
from typing import Callable
from urllib.parse import parse_qs, urlparse

import serial

from display_board.led.protocol import BROADCAST, REPLY, Frame, FrameParser, Status

logger = logging.getLogger(__name__)


class LinkDown(Exception):
    """The port is gone (unplugged, TCP peer away)."""


class NoAnswer(Exception):
    """The board did not give a valid reply in time (silent, or nonsense on the line)."""


def serial_url(address: str) -> tuple[str, dict]:
    """Maps a hall.yaml address onto a pyserial URL and its options.

    serial:///dev/ttyUSB0?baudrate=9600  /dev/ttyUSB0  tcp://10.0.0.5:5005
    """
    if address.startswith("tcp://"):
        u = urlparse(address)
        return f"socket://{u.hostname}:{u.port}", {}
    if address.startswith("serial://"):
        u = urlparse(address)
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        opts: dict = {"baudrate": int(q.get("baudrate", 9600))}
        if "parity" in q:
            opts["parity"] = q["parity"][:1].upper()
        return u.path, opts
    if address.startswith("/"):
        return address, {"baudrate": 9600}
    raise ValueError(f"无法识别的LED地址 {address!r}；例如 serial:///dev/ttyUSB1?baudrate=9600 或 tcp://192.168.1.50:5005")


class Link:
    def __init__(self, address: str, name: str, *, reply_timeout: float = 0.5) -> None:
        self.address = address
        self.name = name
        self.url, self.options = serial_url(address)
        self.reply_timeout = reply_timeout
        self._port: serial.SerialBase | None = None
        self._parser = FrameParser()
        self._seq = 0
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def open(self) -> None:
        try:
            self._port = serial.serial_for_url(self.url, timeout=0.02, write_timeout=2, **self.options)
        except (serial.SerialException, OSError, ValueError, termios.error) as exc:
            self._port = None
            raise LinkDown(f"{self.address}: {exc}") from None
        self._parser = FrameParser()

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError):
                pass

    def next_seq(self) -> int:
        self._seq = (self._seq + 1) % 256
        return self._seq

    def request(self, make: Callable[[int], Frame]) -> Frame | None:
        """Sends the frame built for the next sequence number; returns the board's reply
        (None for broadcast). Raises LinkDown or NoAnswer."""
        with self._lock:
            if self._port is None:
                raise LinkDown(f"{self.address}: not open")
            frame = make(self.next_seq())
            try:
                self._port.reset_input_buffer()
                self._port.write(frame.encode())
                self._port.flush()
                if frame.address == BROADCAST:
                    return None
                deadline = time.monotonic() + self.reply_timeout
                while time.monotonic() < deadline:
                    data = self._port.read(256)
                    if not data:
                        continue
                    for reply in self._parser.feed(data):
                        if reply.address == frame.address and reply.seq == frame.seq and reply.cmd == frame.cmd | REPLY:
                            return reply
            except (serial.SerialException, OSError, termios.error) as exc:
                self.close()
                raise LinkDown(f"{self.address}: {exc}") from None
            noise = self._parser.discarded + self._parser.bad_frames
            raise NoAnswer(
                f"{self.address}: 地址 {frame.address} 无有效应答" + (f"（收到 {noise} 字节无法识别的数据）" if noise else "")
            )


def reply_status(reply: Frame | None) -> Status:
    if reply is None or not reply.payload:
        return Status.OK
    try:
        return Status(reply.payload[0])
    except ValueError:
        return Status.BAD_PAYLOAD
