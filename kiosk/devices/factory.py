"""Builds the kiosk's devices from its configuration (yizhan/config/devices.py)."""

from __future__ import annotations

from kiosk.devices.base import CardReader, TicketPrinter
from yizhan.config.devices import KioskConfig, PcscReader, PrinterConfig, SerialSamReader, SimulatedReader


def build_card_reader(cfg: SerialSamReader | PcscReader | SimulatedReader) -> CardReader:
    if isinstance(cfg, SerialSamReader):
        from kiosk.devices.idcard.sam_reader import SamSerialReader

        return SamSerialReader(cfg.port, cfg.baudrate)
    if isinstance(cfg, PcscReader):
        from kiosk.devices.idcard.pcsc_reader import PcscCardReader

        return PcscCardReader(cfg.reader)
    from kiosk.devices.idcard.sam_reader import SimulatedCardReader

    return SimulatedCardReader()


def build_card_readers(kiosk: KioskConfig) -> list[CardReader]:
    """One reader per configured entry, in order (a kiosk often has the SAM module and a PC/SC slot)."""
    return [build_card_reader(c) for c in kiosk.card_readers]


def build_kiosk_reader(kiosk: KioskConfig) -> CardReader:
    """All the kiosk's readers as one CardReader (a single reader is returned as it is)."""
    readers = build_card_readers(kiosk)
    if len(readers) == 1:
        return readers[0]
    from kiosk.devices.idcard.combined import CombinedCardReader

    return CombinedCardReader(readers)


def build_printer(cfg: PrinterConfig, lang: str = "zh_CN") -> TicketPrinter:
    from kiosk.devices.printer.printer import EscposTicketPrinter

    return EscposTicketPrinter(
        cfg.address,
        paper_mm=cfg.paper_mm,
        encoding=cfg.encoding,
        native_qr=cfg.native_qr,
        status_timeout=cfg.status_timeout_s,
        print_timeout=cfg.print_timeout_s,
        lang=lang,
    )
