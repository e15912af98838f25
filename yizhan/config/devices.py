"""Kiosk device configuration (owned by kiosk/devices). Addresses follow DESIGN.md:
a printer is usb://VID:PID, serial:///dev/ttyUSB0?baudrate=9600, tcp://HOST:9100 or
file:///dev/usb/lp0; a serial ID-card module is a port path; a PC/SC reader is named
by (part of) its reader name; `simulator` anywhere selects the simulator."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field


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
