"""Printer transports chosen by address (DESIGN.md): python-escpos backends for writing, timed reads for status.

    usb://VID:PID[?in_ep=0x82&out_ep=0x01]   serial:///dev/ttyUSB0?baudrate=9600
    tcp://HOST[:9100]                         file:///dev/usb/lp0        simulator
"""

from __future__ import annotations

import logging
import os
import select
import socket
import stat
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from kiosk.devices.base import PrinterOffline
from yizhan.config.devices import check_printer_address

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrinterAddress:
    scheme: str  # usb | serial | tcp | file | simulator
    target: str = ""  # host, device path or VID:PID
    port: int = 0
    options: dict[str, str] = field(default_factory=dict)


def parse_address(address: str) -> PrinterAddress:
    """ValueError with the reason when the address is not one of the documented forms."""
    a = check_printer_address(address)
    if a in ("simulator", "simulator://"):
        return PrinterAddress("simulator")
    u = urlsplit(a)
    opts = {k: v[-1] for k, v in parse_qs(u.query).items()}
    if u.scheme == "tcp":
        if not u.hostname:
            raise ValueError("tcp:// needs a host")
        return PrinterAddress("tcp", u.hostname, u.port or 9100, opts)
    if u.scheme == "serial":
        if not u.path:
            raise ValueError("serial:// needs a device path")
        if "baudrate" in opts and not opts["baudrate"].isdigit():
            raise ValueError("baudrate must be a number")
        return PrinterAddress("serial", u.path, 0, opts)
    if u.scheme == "file":
        if not u.path:
            raise ValueError("file:// needs a path")
        return PrinterAddress("file", u.path, 0, opts)
    if u.scheme == "usb":
        ids = (u.netloc or u.path.lstrip("/")).split(":")
        if len(ids) != 2:
            raise ValueError("usb:// needs VID:PID in hex, e.g. usb://0416:5011")
        try:
            int(ids[0], 16), int(ids[1], 16)
        except ValueError as exc:
            raise ValueError("usb:// VID and PID are hex numbers") from exc
        return PrinterAddress("usb", u.netloc or u.path.lstrip("/"), 0, opts)
    raise ValueError(f"unknown printer address form: {address!r}")


class Transport(ABC):
    can_read = True

    @abstractmethod
    def open(self) -> None: ...

    @abstractmethod
    def write(self, data: bytes) -> None: ...

    @abstractmethod
    def read(self, timeout: float) -> bytes:
        """Bytes that arrive within `timeout` seconds (at most 16), b"" when none came."""

    def drain(self) -> None:
        """Drops stale bytes (a late answer to an earlier query)."""
        while self.read(0.0):
            pass

    @abstractmethod
    def close(self) -> None: ...


class _EscposTransport(Transport):
    """Wraps a python-escpos printer object; its `_raw` writes, its `device` is read with our timeout."""

    def __init__(self, printer: object) -> None:
        self.p = printer
        self._open = False

    def open(self) -> None:
        if self._open:
            return
        try:
            self.p.open()  # type: ignore[attr-defined]
        except Exception as exc:  # python-escpos wraps every backend's failure differently
            raise PrinterOffline(f"cannot open printer: {exc}") from exc
        if getattr(self.p, "device", None) is None:
            raise PrinterOffline("cannot open printer")
        self._open = True

    def write(self, data: bytes) -> None:
        self.open()
        try:
            self.p._raw(data)  # type: ignore[attr-defined]
        except Exception as exc:
            self.close()
            raise PrinterOffline(f"write failed: {exc}") from exc

    def close(self) -> None:
        if self._open:
            try:
                self.p.close()  # type: ignore[attr-defined]
            except Exception:  # already gone
                pass
        self._open = False


class TcpTransport(_EscposTransport):
    def __init__(self, host: str, port: int, connect_timeout: float) -> None:
        from escpos.printer import Network

        super().__init__(Network(host, port=port, timeout=connect_timeout))

    def read(self, timeout: float) -> bytes:
        self.open()
        sock: socket.socket = self.p.device  # type: ignore[attr-defined]
        try:
            r, _, _ = select.select([sock], [], [], max(0.0, timeout))
            if not r:
                return b""
            data = sock.recv(16)
        except OSError as exc:
            self.close()
            raise PrinterOffline(f"connection lost: {exc}") from exc
        if not data:
            self.close()
            raise PrinterOffline("printer closed the connection")
        return data


class SerialTransport(_EscposTransport):
    def __init__(self, path: str, baudrate: int) -> None:
        from escpos.printer import Serial

        super().__init__(Serial(path, baudrate=baudrate, timeout=0.05, dsrdtr=False))

    def read(self, timeout: float) -> bytes:
        self.open()
        dev = self.p.device  # type: ignore[attr-defined]
        try:
            dev.timeout = max(0.0, timeout)
            return dev.read(16)
        except Exception as exc:
            self.close()
            raise PrinterOffline(f"serial port lost: {exc}") from exc


class UsbTransport(_EscposTransport):
    def __init__(self, ids: str, options: dict[str, str]) -> None:
        from escpos.printer import Usb

        vid, pid = (int(x, 16) for x in ids.split(":"))
        kw = {k: int(options[k], 0) for k in ("in_ep", "out_ep") if k in options}
        super().__init__(Usb(vid, pid, timeout=5000, **kw))

    def read(self, timeout: float) -> bytes:
        import usb.core

        self.open()
        try:
            return bytes(self.p.device.read(self.p.in_ep, 16, max(1, int(timeout * 1000))))  # type: ignore[attr-defined]
        except usb.core.USBTimeoutError:
            return b""
        except usb.core.USBError as exc:
            self.close()
            raise PrinterOffline(f"USB printer lost: {exc}") from exc


class FileTransport(_EscposTransport):
    """A device node such as /dev/usb/lp0 (read back for status when the driver allows), or a plain file
    that captures the bytes (no status channel: `can_read` is False)."""

    def __init__(self, path: str) -> None:
        from escpos.printer import File

        super().__init__(File(path))
        self.path = path
        self._rfd: int | None = None
        try:
            self.can_read = stat.S_ISCHR(os.stat(path).st_mode)
        except OSError:
            self.can_read = False

    def read(self, timeout: float) -> bytes:
        if not self.can_read:
            return b""
        self.open()
        try:
            if self._rfd is None:
                self._rfd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
            r, _, _ = select.select([self._rfd], [], [], max(0.0, timeout))
            return os.read(self._rfd, 16) if r else b""
        except BlockingIOError:
            return b""
        except OSError as exc:
            self.close()
            raise PrinterOffline(f"printer device lost: {exc}") from exc

    def close(self) -> None:
        if self._rfd is not None:
            os.close(self._rfd)
            self._rfd = None
        super().close()


def open_transport(address: str, connect_timeout: float = 2.0) -> Transport:
    a = parse_address(address)
    if a.scheme == "tcp":
        return TcpTransport(a.target, a.port, connect_timeout)
    if a.scheme == "serial":
        return SerialTransport(a.target, int(a.options.get("baudrate", "9600")))
    if a.scheme == "usb":
        return UsbTransport(a.target, a.options)
    if a.scheme == "file":
        return FileTransport(a.target)
    from kiosk.devices.printer.simulator import PrinterModel, SimulatedTransport

    return SimulatedTransport(PrinterModel())
