"""Health of the kiosk's devices and of its link to the server, as the citizen and the hall see it.

A change is logged once (lost / back) and reported to the server as the kiosk's device
status (`POST /api/v1/devices/<kiosk>/status`, republished retained on MQTT).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kiosk.devices.base import (
    CardReader,
    DeviceError,
    DeviceState,
    PaperLevel,
    PrinterStatus,
    TicketPrinter,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Part:
    ok: bool
    detail: str  # a message key (kiosk.part.*) — readable in the console via the catalogue
    warn: bool = False  # works, but needs attention soon (paper low)

    def as_json(self) -> dict:
        return {"ok": self.ok, "detail": self.detail}


def printer_part(printer: TicketPrinter | None) -> tuple[Part, PrinterStatus | None]:
    """Asks the printer; blocking (DLE EOT with a timeout), so called on a worker thread."""
    if printer is None:
        return Part(False, "printer.absent"), None
    try:
        st = printer.status()
    except DeviceError as exc:
        return Part(False, exc.message_key), None
    if not st.online:
        return Part(False, "printer.offline"), st
    if st.cover_open:
        return Part(False, "printer.cover_open"), st
    if st.paper is PaperLevel.OUT:
        return Part(False, "printer.paper_out"), st
    if st.paper is PaperLevel.LOW:
        return Part(True, "printer.paper_low", warn=True), st
    return Part(True, "ok"), st


def reader_part(reader: CardReader | None) -> Part | None:
    """None = not known yet (a serial reader stays DISCONNECTED until its first read opens the port)."""
    if reader is None:
        return Part(False, "card.reader_absent")
    try:
        state = reader.state
    except DeviceError as exc:
        return Part(False, exc.message_key)
    if state is DeviceState.ERROR:
        return Part(False, "device.error")
    if state is DeviceState.DISCONNECTED:
        return None
    return Part(True, "ok")


class HealthBook:
    """Current parts; tells whether something changed since the last report."""

    def __init__(self) -> None:
        self.parts: dict[str, Part] = {}
        self.server_ok: bool | None = None
        self._reported: dict[str, Part] | None = None

    def set(self, name: str, part: Part) -> None:
        old = self.parts.get(name)
        if old is not None and old.ok != part.ok:
            if part.ok:
                logger.info("%s is back (%s)", name, part.detail)
            else:
                logger.warning("%s lost: %s", name, part.detail)
        elif old is None and not part.ok:
            logger.warning("%s not ready: %s", name, part.detail)
        self.parts[name] = part

    def set_server(self, ok: bool) -> bool:
        """Returns True when the state changed."""
        changed = self.server_ok is not ok
        if changed:
            if ok:
                logger.info("queue server reachable%s", "" if self.server_ok is None else " again")
            else:
                logger.warning("queue server unreachable")
        self.server_ok = ok
        return changed

    def ok(self, name: str) -> bool:
        p = self.parts.get(name)
        return p is None or p.ok

    def detail(self, name: str) -> str:
        p = self.parts.get(name)
        return "" if p is None else p.detail

    def needs_report(self) -> bool:
        return self._reported != self.parts

    def report_body(self) -> dict:
        return {name: p.as_json() for name, p in sorted(self.parts.items())}

    def mark_reported(self, parts: dict[str, Part]) -> None:
        self._reported = parts
