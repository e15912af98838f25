"""Printer status bytes. Pure.

DLE EOT n replies carry fixed bits (bit1 = 1, bit4 = 1, bit0 = 0, bit7 = 0), so they can be told apart from
a GS r 1 reply (bit4 = 0) arriving on the same line.
  n=1 printer:      bit3 offline
  n=2 offline cause: bit2 cover open, bit3 feed button, bit5 stopped by paper end, bit6 error
  n=4 paper sensor: 0x0C near end, 0x60 paper end
GS r 1 (answered when the printer reaches it): bits 0-1 near end, bits 2-3 paper end.
"""

from __future__ import annotations

from kiosk.devices.base import PaperLevel, PrinterStatus


def is_realtime_reply(b: int) -> bool:
    return b & 0x93 == 0x12


def is_gs_r_reply(b: int) -> bool:
    return b & 0xF0 == 0


def from_realtime(printer: int, offline_cause: int, paper: int) -> PrinterStatus:
    for b in (printer, offline_cause, paper):
        if not is_realtime_reply(b):
            return PrinterStatus(online=False, error=f"bad status byte {b:02X}")
    level = PaperLevel.OK
    if paper & 0x60 or offline_cause & 0x20:
        level = PaperLevel.OUT
    elif paper & 0x0C:
        level = PaperLevel.LOW
    cover = bool(offline_cause & 0x04)
    errors = []
    if offline_cause & 0x40:
        errors.append("error")
    return PrinterStatus(online=not (printer & 0x08), paper=level, cover_open=cover, error=",".join(errors))


def realtime_bytes(*, online: bool = True, paper: PaperLevel = PaperLevel.OK, cover_open: bool = False,
                   error: bool = False) -> tuple[int, int, int]:
    """The three bytes a printer in this state answers (used by the simulator)."""
    stopped = paper is PaperLevel.OUT or cover_open or error or not online
    b1 = 0x12 | (0x08 if stopped else 0)
    b2 = 0x12 | (0x04 if cover_open else 0) | (0x20 if paper is PaperLevel.OUT else 0) | (0x40 if error else 0)
    b4 = 0x12 | {PaperLevel.OK: 0, PaperLevel.LOW: 0x0C, PaperLevel.OUT: 0x6C}[paper]
    return b1, b2, b4


def gs_r_byte(paper: PaperLevel) -> int:
    return {PaperLevel.OK: 0x00, PaperLevel.LOW: 0x03, PaperLevel.OUT: 0x0F}[paper]
