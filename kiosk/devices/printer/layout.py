"""Ticket and 一次性告知 sheet layouts for 80 mm and 58 mm paper. Pure: values in, ESC/POS bytes out.

Nothing personal is printed but the masked name the hall chose to print (TicketPrint carries no full name).
"""

from __future__ import annotations

import math

from kiosk.devices.base import GuidePrint, TicketPrint
from kiosk.devices.printer.escpos import COLUMNS, EscPos, text_width, wrap
from yizhan.i18n import t


def _title(p: EscPos, s: str, cols: int) -> None:
    """Centred, as large as fits: double width and height, else double height."""
    w = 2 if text_width(s) * 2 <= cols else 1
    p.size(w, 2)
    for line in wrap(s, cols // w):
        p.line(line)
    p.size(1, 1)


def _para(p: EscPos, s: str, cols: int, indent: int = 0) -> None:
    for line in wrap(s, cols, indent):
        p.line(line)


def _items(p: EscPos, label: str, items: list[str], sep: str, cols: int) -> None:
    """A label and a list that breaks between items, not inside one ("12号窗口" stays whole)."""
    line = label
    for k, item in enumerate(items):
        piece = item + (sep if k < len(items) - 1 else "")
        if text_width(line) + text_width(piece.rstrip()) > cols and line.strip():
            p.line(line.rstrip())
            line = " " * text_width(label)
        line += piece
    p.line(line.rstrip())


def _rule(p: EscPos, cols: int) -> None:
    p.line("-" * cols)


def ticket_bytes(ticket: TicketPrint, *, paper_mm: int = 80, encoding: str = "gb18030",
                 native_qr: bool = True, lang: str = "zh_CN") -> bytes:
    cols = COLUMNS[paper_mm]
    p = EscPos(encoding).init().align("center")
    _title(p, ticket.hall_name, cols)
    _rule(p, cols)
    p.line(t("printer.ticket.your_number", lang))
    big = 6 if paper_mm == 80 else 5
    while big > 2 and text_width(ticket.number) * big > cols:
        big -= 1
    p.bold(True).size(big, big).line(ticket.number).size(1, 1).bold(False)
    p.bold(True).size(1, 2)
    _para(p, ticket.service_name, cols)
    p.size(1, 1).bold(False)
    _rule(p, cols)
    p.align("left")
    _para(p, t("printer.ticket.queue", lang, name=ticket.queue_name), cols, 2)
    if ticket.windows:
        _items(p, t("printer.ticket.windows", lang, windows=""), ticket.windows,
               t("printer.ticket.window_sep", lang), cols)
    p.size(1, 2)
    if ticket.ahead > 0:
        p.line(t("printer.ticket.ahead", lang, n=ticket.ahead))
    else:
        p.line(t("printer.ticket.none_ahead", lang))
    p.size(1, 1)
    if ticket.ahead > 0 and ticket.estimated_wait_s > 0:
        p.line(t("printer.ticket.wait", lang, minutes=max(1, math.ceil(ticket.estimated_wait_s / 60))))
    if ticket.masked_name:
        p.line(t("printer.ticket.name", lang, name=ticket.masked_name))
    p.line(t("printer.ticket.issued", lang, time=ticket.issued_at.strftime("%Y-%m-%d %H:%M:%S")))
    if ticket.qr_url:
        p.align("center").feed(1)
        module = 8 if paper_mm == 80 else 6
        if native_qr:
            p.qr_native(ticket.qr_url, module=module, ec="M").raw(b"\n")
        else:
            p.qr_raster(ticket.qr_url, module=module, ec="M")
        p.line(t("printer.ticket.qr_hint", lang))
    if ticket.notice:
        p.align("left")
        _rule(p, cols)
        _para(p, ticket.notice, cols)
    p.align("left").cut()
    return p.bytes()


def guide_bytes(guide: GuidePrint, *, paper_mm: int = 80, encoding: str = "gb18030", lang: str = "zh_CN") -> bytes:
    cols = COLUMNS[paper_mm]
    p = EscPos(encoding).init().align("center")
    _title(p, guide.hall_name, cols)
    p.bold(True)
    _title(p, t("printer.guide.title", lang), cols)
    p.bold(False)
    _rule(p, cols)
    p.align("left")
    _para(p, t("printer.guide.service", lang, name=guide.service_name), cols, 2)
    _para(p, t("printer.guide.code", lang, code=guide.service_code), cols, 2)
    if guide.service_class:
        _para(p, t("printer.guide.class", lang, name=guide.service_class), cols, 2)
    _para(p, t("printer.guide.promised", lang, days=guide.promised_days), cols, 2)
    _para(p, t("printer.guide.fees", lang, fees=guide.fees or t("printer.guide.no_fee", lang)), cols, 2)
    _para(p, t("printer.guide.online_yes" if guide.online else "printer.guide.online_no", lang), cols, 2)
    _rule(p, cols)
    p.bold(True).line(t("printer.guide.materials", lang)).bold(False)
    for i, item in enumerate(guide.materials, 1):
        head = f"{i}. "
        _para(p, head + item, cols, len(head))
    _rule(p, cols)
    _para(p, t("printer.guide.promise", lang), cols)
    p.line(t("printer.guide.printed", lang, time=guide.printed_at.strftime("%Y-%m-%d %H:%M")))
    p.cut()
    return p.bytes()
