"""The thin serial transport: pyserial's serial_for_url, reopened after a pulled cable.

`pace=True` makes a write last as long as the bytes take on the wire at the
configured baud rate; a pty or loop:// has no baud rate, so the simulator and the
benchmark use it to model the line honestly. On a real port `flush()` waits for
the UART instead.
"""

from __future__ import annotations

import logging
import time

import serial

from yizhan.i18n import t

logger = logging.getLogger(__name__)


class SerialTransport:
    def __init__(self, url: str, baudrate: int = 9600, pace: bool = False) -> None:
        self.url = url
        self.baudrate = baudrate
        self.pace = pace
        self._ser: serial.SerialBase | None = None
        self._lost = False
        self.reopens = 0

    @property
    def is_open(self) -> bool:
        return self._ser is not None

    def open(self) -> bool:
        """Opens the port if needed; False (logged once) while it is missing."""
        if self._ser is not None:
            return True
        try:
            self._ser = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=0)
        except (serial.SerialException, OSError) as exc:
            if not self._lost:
                logger.warning(t("keypads.log.port_lost", port=self.url, detail=str(exc)))
                self._lost = True
            return False
        if self._lost:
            logger.warning(t("keypads.log.port_back", port=self.url))
            self._lost = False
            self.reopens += 1
        return True

    def _drop(self, exc: BaseException) -> None:
        if not self._lost:
            logger.warning(t("keypads.log.port_lost", port=self.url, detail=str(exc)))
            self._lost = True
        try:
            if self._ser is not None:
                self._ser.close()
        except (serial.SerialException, OSError):
            pass
        self._ser = None

    def write(self, data: bytes) -> bool:
        if not self.open():
            return False
        try:
            assert self._ser is not None
            t0 = time.monotonic()
            self._ser.write(data)
            self._ser.flush()
            if self.pace:
                rest = len(data) * 10 / self.baudrate - (time.monotonic() - t0)
                if rest > 0:
                    time.sleep(rest)  # the bytes are still on the wire
            return True
        except (serial.SerialException, OSError) as exc:
            self._drop(exc)
            return False

    def read(self, timeout: float) -> bytes:
        """Whatever arrives within `timeout` seconds (may be b"")."""
        if not self.open():
            time.sleep(min(timeout, 0.2))
            return b""
        assert self._ser is not None
        try:
            self._ser.timeout = timeout
            first = self._ser.read(1)
            if not first:
                return b""
            self._ser.timeout = 0
            return first + self._ser.read(4096)
        except (serial.SerialException, OSError, TypeError) as exc:
            # pyserial raises TypeError/OSError from a pty whose other side vanished
            self._drop(exc)
            return b""

    def discard_input(self) -> None:
        if self._ser is not None:
            try:
                self._ser.reset_input_buffer()
            except (serial.SerialException, OSError) as exc:
                self._drop(exc)

    def close(self) -> None:
        if self._ser is not None:
            try:
                self._ser.close()
            except (serial.SerialException, OSError):
                pass
            self._ser = None
