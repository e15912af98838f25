"""Kiosk device configuration (owned by kiosk/devices). Addresses follow DESIGN.md:
a printer is usb://VID:PID, serial:///dev/ttyUSB0?baudrate=9600, tcp://HOST:9100 or
file:///dev/usb/lp0; a serial ID-card module is a port path; a PC/SC reader is named
by (part of) its reader name; `simulator` anywhere selects the simulator."""

from __future__ import annotations

import re
from typing import Annotated, Literal, Union
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator


def check_printer_address(address: str) -> str:
    """The address unchanged, or ValueError saying which documented form it breaks."""
    a = address.strip()
    if a in ("simulator", "simulator://"):
        return a
    u = urlsplit(a)
    query = parse_qs(u.query)
    if u.scheme == "tcp":
        if not u.hostname:
            raise ValueError("tcp:// needs a host, e.g. tcp://192.168.1.50:9100")
        try:
            u.port
        except ValueError as exc:
            raise ValueError("tcp:// port must be a number") from exc
    elif u.scheme == "serial":
        if not u.path:
            raise ValueError("serial:// needs a device path, e.g. serial:///dev/ttyUSB0?baudrate=9600")
        if any(not v.isdigit() for v in query.get("baudrate", [])):
            raise ValueError("baudrate must be a number")
    elif u.scheme == "file":
        if not u.path:
            raise ValueError("file:// needs a path, e.g. file:///dev/usb/lp0")
    elif u.scheme == "usb":
        if not re.fullmatch(r"[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}", u.netloc or u.path.lstrip("/")):
            raise ValueError("usb:// needs VID:PID in hex, e.g. usb://0416:5011")
    else:
        raise ValueError("use usb://VID:PID, serial:///dev/ttyUSB0?baudrate=9600, tcp://HOST:9100, file:///dev/usb/lp0 or simulator")
    return a


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SerialSamReader(_Strict):
    type: Literal["serial_sam"]
    port: str = Field(description="serial port path, e.g. /dev/ttyUSB0")
    baudrate: int = 115200


class PcscReader(_Strict):
    type: Literal["pcsc"]
    reader: str = Field("", description="(part of) the PC/SC reader name; empty = first reader holding a card")


class SimulatedReader(_Strict):
    type: Literal["simulator"]


CardReaderConfig = Annotated[Union[SerialSamReader, PcscReader, SimulatedReader], Field(discriminator="type")]


class PrinterConfig(_Strict):
    address: str = Field("simulator", description="usb://VID:PID | serial:///dev/ttyUSB0?baudrate=9600 | tcp://HOST:9100 | file:///dev/usb/lp0 | simulator")
    paper_mm: Literal[58, 80] = 80
    encoding: Literal["gb18030", "gbk"] = "gb18030"
    native_qr: bool = Field(True, description="False for printers without GS ( k: the QR is sent as a raster image")
    status_timeout_s: float = Field(1.0, gt=0, le=10)
    print_timeout_s: float = Field(20.0, gt=0, le=120, description="longest a ticket may take to come out")

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        return check_printer_address(v)


class CameraConfig(_Strict):
    source: str = Field("simulator", description="camera index (0), video URL or file, image folder, or simulator")
    width: int = 1920
    height: int = 1080


class KioskConfig(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    name: str = ""
    orientation: Literal["portrait", "landscape"] = "portrait"
    card_readers: list[CardReaderConfig] = Field(default_factory=lambda: [SimulatedReader(type="simulator")])
    printer: PrinterConfig = PrinterConfig()
    camera: CameraConfig | None = None
    idle_timeout_s: int = Field(60, ge=10, le=600)
    elder_idle_timeout_s: int = Field(120, ge=10, le=900)
