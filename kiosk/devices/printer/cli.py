"""`yizhan devices print-test` and `yizhan devices printer-status`."""

from __future__ import annotations

import argparse
import os
import sys

from kiosk.devices.base import DeviceError, PrinterStatus, TicketPrint
from yizhan.clock import clock_from_env
from yizhan.i18n import t


def _printer(args: argparse.Namespace):
    from kiosk.devices.printer.printer import EscposTicketPrinter

    return EscposTicketPrinter(args.printer, paper_mm=args.paper_mm, encoding=args.encoding,
                               native_qr=not args.raster_qr, status_timeout=args.timeout)


def _common(prog: str, text: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog=prog, description=text)
    ap.add_argument("--printer", required=True, metavar="ADDR",
                    help="usb://VID:PID | serial:///dev/ttyUSB0?baudrate=9600 | tcp://HOST:9100 | file:///dev/usb/lp0")
    ap.add_argument("--paper-mm", type=int, choices=[58, 80], default=80)
    ap.add_argument("--encoding", choices=["gb18030", "gbk"], default="gb18030")
    ap.add_argument("--raster-qr", action="store_true", help="QR 以图像打印（打印机不支持 GS ( k 时）")
    ap.add_argument("--timeout", type=float, default=1.0, help="状态查询超时秒数 / status timeout")
    return ap


def _bad_address(args: argparse.Namespace) -> bool:
    from yizhan.config.devices import check_printer_address

    try:
        check_printer_address(args.printer)
        return False
    except ValueError:
        print(t("devices.cli.bad_address", address=args.printer), file=sys.stderr)
        return True


def sample_ticket() -> TicketPrint:
    server = os.environ.get("YIZHAN_SERVER_URL", "http://127.0.0.1:8080").rstrip("/")
    return TicketPrint(
        hall_name=t("devices.test.hall"),
        number="T001",
        service_name=t("devices.test.service"),
        queue_name=t("devices.test.queue"),
        windows=[t("devices.test.window")],
        ahead=3,
        estimated_wait_s=600,
        issued_at=clock_from_env().now(),
        qr_url=f"{server}/t/print-test",
        notice=t("devices.test.notice"),
    )


def print_test_main(argv: list[str]) -> int:
    from kiosk.devices.cli import error_text
    from kiosk.devices.printer.layout import ticket_bytes

    ap = _common("yizhan devices print-test", "打印测试号票 / print a sample ticket")
    ap.add_argument("--preview", metavar="PNG", help="同时保存预览图 / also save a preview image")
    args = ap.parse_args(argv)
    if _bad_address(args):
        return 2
    data = ticket_bytes(sample_ticket(), paper_mm=args.paper_mm, encoding=args.encoding, native_qr=not args.raster_qr)
    if args.preview:
        from kiosk.devices.printer.preview import save_preview

        save_preview(data, args.preview, args.paper_mm, args.encoding)
    printer = _printer(args)
    try:
        printer.print_raw("test", data)
    except DeviceError as exc:
        print(error_text(exc), file=sys.stderr)
        return 1
    finally:
        printer.close()
    print(t("devices.cli.printed"))
    return 0


def status_lines(s: PrinterStatus) -> list[str]:
    yes, no, unknown = t("devices.cli.yes"), t("devices.cli.no"), t("devices.cli.unknown")
    known = s.online or s.error in ("", "error")  # no answer: paper and cover are unknown, never "OK"
    paper = t(f"devices.cli.paper_{s.paper.value}") if known else unknown
    cover = t("devices.cli.cover_open" if s.cover_open else "devices.cli.cover_closed") if known else unknown
    lines = [
        t("devices.cli.status_online", value=yes if s.online else no),
        t("devices.cli.status_paper", value=paper),
        t("devices.cli.status_cover", value=cover),
    ]
    if s.error:
        lines.append(" ".join(s.error.split()))
    return lines


def printer_status_main(argv: list[str]) -> int:
    from kiosk.devices.cli import error_text
    from kiosk.devices.printer.printer import EscposTicketPrinter

    args = _common("yizhan devices printer-status", "打印机状态 / printer status").parse_args(argv)
    if _bad_address(args):
        return 2
    printer = _printer(args)
    try:
        s = printer.status()
    finally:
        printer.close()
    print("\n".join(status_lines(s)))
    err = EscposTicketPrinter.error_for(s)
    if err is not None:
        print(error_text(err), file=sys.stderr)
        return 1
    return 0
