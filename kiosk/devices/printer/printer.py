"""The ticket printer (TicketPrinter) over any transport: status before and after every print, reprint.

After the ticket's cut we send GS r 1, which the printer answers only once it has reached it — i.e. once
the ticket is out. While waiting we poll DLE EOT 2 (answered at once): paper end or an open cover during
the print fails the job. No answer at all is never taken for "paper OK".
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from kiosk.devices.base import (
    CoverOpen,
    DeviceState,
    GuidePrint,
    PaperLevel,
    PaperOut,
    PrinterError,
    PrinterNoAnswer,
    PrinterOffline,
    PrinterStatus,
    TicketPrint,
    TicketPrinter,
)
from kiosk.devices.printer import layout
from kiosk.devices.printer import status as st
from kiosk.devices.printer.escpos import CLEAR_BUFFER, GS_R_PAPER, RT_OFFLINE_CAUSE, RT_PAPER, RT_PRINTER, dle_eot
from kiosk.devices.printer.transport import Transport, open_transport

logger = logging.getLogger(__name__)

class NothingToReprint(PrinterError):
    message_key = "printer.nothing_to_reprint"
    retryable = False


# kind ("ticket" | "guide" | "reprint" | "test"), printed?, the error when not
PrintListener = Callable[[str, bool, "PrinterError | None"], None]


class EscposTicketPrinter(TicketPrinter):
    def __init__(
        self,
        address: str,
        *,
        paper_mm: int = 80,
        encoding: str = "gb18030",
        native_qr: bool = True,
        status_timeout: float = 1.0,
        print_timeout: float = 20.0,
        lang: str = "zh_CN",
        transport: Transport | None = None,
    ) -> None:
        self.address = address
        self.paper_mm = paper_mm
        self.encoding = encoding
        self.native_qr = native_qr
        self.status_timeout = status_timeout
        self.print_timeout = print_timeout
        self.lang = lang
        self._transport = transport or open_transport(address, connect_timeout=max(status_timeout, 1.0))
        self._lock = threading.RLock()
        self._last: tuple[str, bytes] | None = None
        self._listeners: list[PrintListener] = []
        self._lost = False
        self.state = DeviceState.DISCONNECTED
        self.last_status: PrinterStatus | None = None

    @property
    def simulated_model(self):
        """The PrinterModel behind the `simulator` address (kiosk --simulate shows what was printed), else None."""
        return getattr(self._transport, "model", None)

    # -- supervision ------------------------------------------------------------------------
    def add_listener(self, listener: PrintListener) -> None:
        """Called after every job, printed or not, so the kiosk can tell the server (no ghost tickets)."""
        self._listeners.append(listener)

    def _went(self, exc: BaseException) -> None:
        if not self._lost:
            logger.warning("printer %s lost: %s", self.address, exc)
            self._lost = True
        self.state = DeviceState.DISCONNECTED

    def _back(self) -> None:
        if self._lost:
            logger.info("printer %s is back", self.address)
            self._lost = False

    # -- status -----------------------------------------------------------------------------
    def _ask(self, n: int) -> int | None:
        self._transport.write(dle_eot(n))
        deadline = time.monotonic() + self.status_timeout
        while True:
            left = deadline - time.monotonic()
            data = self._transport.read(max(0.0, left))
            for b in data:
                if st.is_realtime_reply(b):
                    return b
            if left <= 0:
                return None

    def status(self) -> PrinterStatus:
        with self._lock:
            try:
                if not self._transport.can_read:
                    self._transport.open()
                    self._back()
                    result = PrinterStatus(online=True, error="no status channel")
                else:
                    self._transport.drain()
                    replies = [self._ask(n) for n in (RT_PRINTER, RT_OFFLINE_CAUSE, RT_PAPER)]
                    if any(r is None for r in replies):
                        result = PrinterStatus(online=False, error="no answer")
                        self._went(PrinterNoAnswer("no answer to DLE EOT"))
                    else:
                        result = st.from_realtime(*replies)  # type: ignore[arg-type]
                        self._back()
            except PrinterOffline as exc:
                self._went(exc)
                result = PrinterStatus(online=False, error=str(exc))
            self.last_status = result
            if result.can_print:
                self.state = DeviceState.READY
            elif result.online:
                self.state = DeviceState.ERROR
            return result

    @staticmethod
    def error_for(status: PrinterStatus) -> PrinterError | None:
        if status.cover_open:
            return CoverOpen("cover open")
        if status.paper is PaperLevel.OUT:
            return PaperOut("paper out")
        if not status.online:
            if status.error == "no answer":
                return PrinterNoAnswer("printer does not answer")
            return PrinterOffline(status.error or "offline")
        return None

    # -- printing ---------------------------------------------------------------------------
    def _wait_done(self) -> None:
        """Waits for the GS r 1 answer that follows the job, watching for paper end / cover open meanwhile."""
        deadline = time.monotonic() + self.print_timeout
        next_poll = time.monotonic() + min(0.3, self.status_timeout)
        last_rt: float = time.monotonic()
        while True:
            now = time.monotonic()
            if now >= deadline:
                raise PrinterNoAnswer("printer did not confirm the ticket")
            data = self._transport.read(min(0.05, deadline - now))
            for b in data:
                if st.is_realtime_reply(b):
                    last_rt = time.monotonic()
                    if b & 0x04:
                        raise CoverOpen("cover opened during the print")
                    if b & 0x20:
                        raise PaperOut("paper ran out during the print")
                elif st.is_gs_r_reply(b):
                    return
            if time.monotonic() >= next_poll:
                if time.monotonic() - last_rt > self.status_timeout + 0.3:
                    raise PrinterNoAnswer("printer stopped answering during the print")
                self._transport.write(dle_eot(RT_OFFLINE_CAUSE))
                next_poll = time.monotonic() + 0.3

    def _drop_rest(self) -> None:
        """DLE ENQ 2: asks the printer to drop the unprinted rest, so a half ticket does not come out
        after the paper is reloaded (printers that ignore it print the rest; staff tear it off)."""
        try:
            self._transport.write(CLEAR_BUFFER)
        except PrinterError:
            pass

    def _job(self, kind: str, data: bytes) -> None:
        with self._lock:
            error: PrinterError | None = None
            try:
                before = self.status()
                error = self.error_for(before)
                if error is None:
                    self.state = DeviceState.BUSY
                    try:
                        if self._transport.can_read:
                            self._transport.write(data + GS_R_PAPER)
                            self._wait_done()
                        else:
                            self._transport.write(data)
                    except PrinterError as exc:
                        error = exc
                        self._drop_rest()
                    if error is not None and not isinstance(error, (PaperOut, CoverOpen)):
                        error = self.error_for(self.status()) or error
                    elif error is None:
                        self.status()  # paper low after this ticket shows up at once
            except PrinterError as exc:
                error = exc
            if error is None:
                self._last = (kind, data)
                self.state = DeviceState.READY
            else:
                logger.warning("printer %s: %s not printed: %s", self.address, kind, error)
                self.state = DeviceState.ERROR
            for listener in self._listeners:
                try:
                    listener(kind, error is None, error)
                except Exception:
                    logger.exception("print listener failed")
            if error is not None:
                raise error

    def print_ticket(self, ticket: TicketPrint) -> None:
        self._job("ticket", layout.ticket_bytes(ticket, paper_mm=self.paper_mm, encoding=self.encoding,
                                                native_qr=self.native_qr, lang=self.lang))

    def print_guide(self, guide: GuidePrint) -> None:
        self._job("guide", layout.guide_bytes(guide, paper_mm=self.paper_mm, encoding=self.encoding, lang=self.lang))

    def reprint_last(self) -> None:
        if self._last is None:
            raise NothingToReprint("nothing to reprint")
        self._job("reprint", self._last[1])

    def print_raw(self, kind: str, data: bytes) -> None:
        """A prepared job (print-test), with the same status checks."""
        self._job(kind, data)

    def close(self) -> None:
        with self._lock:
            self._transport.close()
            self.state = DeviceState.DISCONNECTED


def print_status_payload(error: PrinterError | None) -> dict[str, object]:
    """Body for POST /api/v1/tickets/{id}/print-status (the kiosk reports failed prints to the server)."""
    return {"printed": error is None, "error": "" if error is None else error.message_key}
