"""The serial SAM ID-card module (GA/T 467) over pyserial: find, select, read; photo dropped.

A corrupt or missing reply is asked for once more; a port that vanishes (USB-serial pulled) is reopened
on the next read and logged once when lost and once when back.
"""

from __future__ import annotations

import logging
import termios
import threading
import time
from collections.abc import Callable
from typing import Protocol

import serial

from kiosk.devices.base import (
    CardReader,
    DeviceError,
    DeviceState,
    DeviceTimeout,
    DeviceUnavailable,
    Identity,
    NoCard,
    ProtocolError,
    SamFault,
)
from kiosk.devices.idcard import sam_protocol as sp
from kiosk.devices.idcard import textblock

logger = logging.getLogger(__name__)

# a pulled USB-serial adapter shows up as any of these, depending on the call that notices first
PORT_ERRORS = (serial.SerialException, OSError, termios.error)

NAMES = {sp.FIND_CARD: "find", sp.SELECT_CARD: "select", sp.READ_BASE: "read", sp.SAM_STATUS: "sam-status",
         sp.SAM_ID: "sam-id", sp.RESET_SAM: "reset"}


class SerialLike(Protocol):
    timeout: float | None

    def write(self, data: bytes) -> int | None: ...
    def read(self, size: int = 1) -> bytes: ...
    @property
    def in_waiting(self) -> int: ...
    def reset_input_buffer(self) -> None: ...
    def close(self) -> None: ...


class SamSerialReader(CardReader):
    def __init__(
        self,
        port: str,
        baudrate: int = 115200,
        *,
        serial_factory: Callable[[], SerialLike] | None = None,
        poll_interval: float = 0.3,
        command_timeout: float = 0.6,
        read_timeout: float = 3.5,
    ) -> None:
        self.port = port
        self.baudrate = baudrate
        self._factory = serial_factory or (lambda: serial.Serial(port, baudrate, timeout=0.05, write_timeout=1))
        self.poll_interval = poll_interval
        self.command_timeout = command_timeout
        self.read_timeout = read_timeout
        self._ser: SerialLike | None = None
        self._decoder = sp.FrameDecoder()
        self._state = DeviceState.DISCONNECTED
        self._lost = False
        self._lock = threading.RLock()
        self._cancel = threading.Event()
        self.retries = 0  # frames asked for again (diagnostics and tests)

    # -- port supervision ------------------------------------------------------------------
    @property
    def state(self) -> DeviceState:
        return self._state

    def _open(self) -> SerialLike:
        if self._ser is not None:
            return self._ser
        try:
            self._ser = self._factory()
        except PORT_ERRORS as exc:
            self._mark_lost(exc)
            raise DeviceUnavailable(f"ID-card module {self.port}: {exc}") from exc
        self._decoder.clear()
        if self._lost:
            logger.info("ID-card module %s is back", self.port)
            self._lost = False
        self._state = DeviceState.READY
        return self._ser

    def _mark_lost(self, exc: BaseException) -> None:
        if not self._lost:
            logger.warning("ID-card module %s lost: %s", self.port, exc)
            self._lost = True
        self._state = DeviceState.DISCONNECTED
        self._drop_port()

    def _drop_port(self) -> None:
        if self._ser is not None:
            try:
                self._ser.close()
            except Exception:  # closing a vanished port can fail in many ways; it is gone either way
                pass
            self._ser = None

    def close(self) -> None:
        with self._lock:
            self._drop_port()
            self._state = DeviceState.DISCONNECTED

    def cancel(self) -> None:
        """Ends a waiting read() early (the kiosk left the card screen)."""
        self._cancel.set()

    # -- exchanges ---------------------------------------------------------------------------
    def _transact(self, cmd: tuple[int, int], timeout: float) -> sp.Frame | None:
        ser = self._open()
        try:
            ser.reset_input_buffer()
            self._decoder.clear()
            ser.write(sp.command(cmd))
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                # one byte with the port's short timeout, then whatever else has arrived: no waiting for 4 kB
                chunk = ser.read(1)
                if chunk:
                    chunk += ser.read(ser.in_waiting)
                if chunk:
                    frames = self._decoder.feed(chunk)
                    if frames:
                        return frames[0]
        except PORT_ERRORS as exc:
            self._mark_lost(exc)
            raise DeviceUnavailable(f"ID-card module {self.port}: {exc}") from exc
        return None

    def exchange(self, cmd: tuple[int, int], timeout: float | None = None) -> sp.Frame:
        """One command and its reply; a corrupt or missing reply is retried once."""
        timeout = self.command_timeout if timeout is None else timeout
        name = NAMES.get(cmd, f"{cmd[0]:02X}{cmd[1]:02X}")
        for attempt in (1, 2):
            frame = self._transact(cmd, timeout)
            if frame is not None and frame.ok and len(frame.payload) >= 3:
                return frame
            if attempt == 1:
                self.retries += 1
                logger.info("ID-card module %s: %s reply %s, asking again", self.port, name,
                            "missing" if frame is None else "corrupt")
        if frame is None:
            raise DeviceTimeout(f"ID-card module {self.port}: no reply to {name}")
        raise ProtocolError(f"ID-card module {self.port}: corrupt reply to {name} twice")

    def _checked(self, cmd: tuple[int, int], timeout: float | None = None) -> sp.Frame:
        frame = self.exchange(cmd, timeout)
        err = sp.error_for(frame.sw3, NAMES.get(cmd, ""))
        if err is not None:
            raise err
        return frame

    def check_sam(self) -> None:
        with self._lock:
            try:
                self._checked(sp.SAM_STATUS)
            except SamFault:
                self._state = DeviceState.ERROR
                raise

    def sam_id(self) -> str:
        with self._lock:
            return self._checked(sp.SAM_ID).data.hex()

    # -- the card ----------------------------------------------------------------------------
    def read(self, timeout: float) -> Identity:
        deadline = time.monotonic() + max(0.0, timeout)
        self._cancel.clear()
        with self._lock:
            self._open()
            self._state = DeviceState.BUSY
            try:
                while True:
                    frame = self.exchange(sp.FIND_CARD)
                    err = sp.error_for(frame.sw3, "find")
                    if err is None:
                        break
                    if not isinstance(err, NoCard):
                        raise err
                    left = deadline - time.monotonic()
                    if left <= 0 or self._cancel.wait(min(self.poll_interval, left)):
                        raise NoCard("no card on the reader")
                self._checked(sp.SELECT_CARD)
                frame = self._checked(sp.READ_BASE, self.read_timeout)
                message = sp.split_base_message(frame.data)
                identity = textblock.parse(message.text)
                self._state = DeviceState.READY
                return identity
            except SamFault:
                self._state = DeviceState.ERROR
                raise
            except DeviceError:
                if self._state is DeviceState.BUSY:
                    self._state = DeviceState.READY
                raise


class LoopbackSerial:
    """A pyserial-like port wired straight to an in-process SamModule: the simulator backend sends the same
    bytes as the real module without a pty."""

    def __init__(self, module: "object", baudrate: int = 115200) -> None:
        self._module = module
        self._buf = bytearray()
        self._cond = threading.Condition()
        self.timeout: float | None = 0.05
        self.baudrate = baudrate

    def write(self, data: bytes) -> int:
        out = self._module.receive(data)  # type: ignore[attr-defined]
        with self._cond:
            self._buf += out
            self._cond.notify_all()
        return len(data)

    def read(self, size: int = 1) -> bytes:
        with self._cond:
            if not self._buf:
                self._cond.wait(self.timeout)
            out = bytes(self._buf[:size])
            del self._buf[:size]
            return out

    @property
    def in_waiting(self) -> int:
        return len(self._buf)

    def reset_input_buffer(self) -> None:
        with self._cond:
            self._buf.clear()

    def close(self) -> None:
        pass


class SimulatedCardReader(SamSerialReader):
    """The `simulator` reader: the SAM state machine in-process. `place(card)` / `lift()` play the citizen."""

    def __init__(self, module: "object | None" = None) -> None:
        from kiosk.devices.idcard.sam_simulator import SamModule

        self.module = module or SamModule()
        super().__init__("simulator", serial_factory=lambda: LoopbackSerial(self.module), poll_interval=0.1)

    def place(self, text_block: bytes) -> None:
        self.module.place(text_block)  # type: ignore[attr-defined]

    def place_sample(self, kind: str = "resident") -> None:
        from kiosk.devices.idcard.sam_simulator import sample_cards

        self.place(sample_cards()[kind])

    def lift(self) -> None:
        self.module.lift()  # type: ignore[attr-defined]


__all__ = ["SamSerialReader", "SimulatedCardReader", "LoopbackSerial"]
