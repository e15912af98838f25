"""The printer driver against the simulated printer over real TCP (and a pty, and a file)."""

import logging
import os
import socket
import threading
import tty

import pytest

from kiosk.devices import base
from kiosk.devices.base import PaperLevel, PrinterStatus
from kiosk.devices.printer import status as st
from kiosk.devices.printer.decoder import decode, qr_payloads, text_of
from kiosk.devices.printer.layout import ticket_bytes
from kiosk.devices.printer.printer import EscposTicketPrinter, NothingToReprint, print_status_payload
from kiosk.devices.printer.samples import GUIDE, TICKET
from kiosk.devices.printer.simulator import PrinterModel
from kiosk.devices.printer.transport import parse_address


# ---- status bytes -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "bytes3, expect",
    [
        ((0x12, 0x12, 0x12), PrinterStatus(online=True)),
        ((0x12, 0x12, 0x1E), PrinterStatus(online=True, paper=PaperLevel.LOW)),
        ((0x1A, 0x32, 0x72), PrinterStatus(online=False, paper=PaperLevel.OUT)),
        ((0x1A, 0x16, 0x12), PrinterStatus(online=False, cover_open=True)),
        ((0x1A, 0x52, 0x12), PrinterStatus(online=False, error="error")),
        ((0x00, 0x12, 0x12), PrinterStatus(online=False, error="bad status byte 00")),
    ],
)
def test_status_bytes(bytes3, expect):
    assert st.from_realtime(*bytes3) == expect


@pytest.mark.parametrize("paper", list(PaperLevel))
@pytest.mark.parametrize("cover", [False, True])
def test_simulator_status_bytes_round_trip(paper, cover):
    s = st.from_realtime(*st.realtime_bytes(paper=paper, cover_open=cover))
    assert s.paper is paper and s.cover_open is cover
    assert s.can_print is (paper is not PaperLevel.OUT and not cover)


def test_gs_r_and_dle_eot_replies_cannot_be_confused():
    for paper in PaperLevel:
        assert st.is_gs_r_reply(st.gs_r_byte(paper)) and not st.is_realtime_reply(st.gs_r_byte(paper))
        for b in st.realtime_bytes(paper=paper):
            assert st.is_realtime_reply(b) and not st.is_gs_r_reply(b)


# ---- addresses ----------------------------------------------------------------------------
def test_addresses():
    assert parse_address("tcp://10.0.0.5").port == 9100
    assert parse_address("tcp://10.0.0.5:9101").target == "10.0.0.5"
    a = parse_address("serial:///dev/ttyUSB0?baudrate=19200")
    assert (a.scheme, a.target, a.options["baudrate"]) == ("serial", "/dev/ttyUSB0", "19200")
    assert parse_address("usb://0416:5011").target == "0416:5011"
    assert parse_address("file:///dev/usb/lp0").target == "/dev/usb/lp0"
    assert parse_address("simulator").scheme == "simulator"
    for bad in ("lpt1", "tcp://", "usb://xyz", "serial://?baudrate=9600", "serial:///dev/ttyS0?baudrate=fast"):
        with pytest.raises(ValueError):
            parse_address(bad)


# ---- printing over TCP ----------------------------------------------------------------------
def test_prints_a_ticket(printer, printer_sim):
    results = []
    printer.add_listener(lambda kind, ok, err: results.append((kind, ok, err)))
    assert printer.status().can_print
    printer.print_ticket(TICKET)
    assert len(printer_sim.model.jobs) == 1
    ops = decode(printer_sim.model.jobs[0])
    assert qr_payloads(ops) == [TICKET.qr_url] and "A012" in text_of(ops)
    assert printer_sim.model.jobs[0] == ticket_bytes(TICKET)  # exactly the layout's bytes
    assert results == [("ticket", True, None)]
    assert printer.state is base.DeviceState.READY


def test_paper_out_before_printing(printer, printer_sim):
    printer_sim.model.set_paper(0)
    results = []
    printer.add_listener(lambda kind, ok, err: results.append((ok, type(err))))
    with pytest.raises(base.PaperOut):
        printer.print_ticket(TICKET)
    assert printer_sim.model.jobs == [] and printer_sim.model.unprinted == 0  # nothing was even sent
    assert results == [(False, base.PaperOut)]
    assert print_status_payload(base.PaperOut()) == {"printed": False, "error": "printer.paper_out"}


def test_paper_runs_out_during_the_print(printer, printer_sim):
    printer_sim.model.set_paper(300)  # a few lines left on the roll
    results = []
    printer.add_listener(lambda kind, ok, err: results.append((ok, type(err))))
    with pytest.raises(base.PaperOut):
        printer.print_ticket(TICKET)
    assert printer_sim.model.jobs == []  # the ticket never completed
    assert results == [(False, base.PaperOut)]
    assert printer.status().paper is PaperLevel.OUT
    # staff reload paper: the rest of the failed ticket was dropped (DLE ENQ 2), no half ticket comes out
    printer_sim.model.set_paper(None)
    assert printer_sim.model.jobs == [] and printer_sim.model.unprinted == 0
    printer.print_ticket(TICKET)
    assert len(printer_sim.model.jobs) == 1


def test_cover_open(printer, printer_sim):
    printer_sim.model.set_cover(True)
    with pytest.raises(base.CoverOpen):
        printer.print_ticket(TICKET)
    s = printer.status()
    assert s.cover_open and not s.can_print


def test_paper_low_still_prints_and_says_so(printer, printer_sim):
    printer_sim.model.low_below_dots = 10_000
    printer_sim.model.set_paper(9_000)
    printer.print_ticket(TICKET)
    assert printer.last_status.paper is PaperLevel.LOW and printer.last_status.can_print


def test_printer_that_never_answers(printer, printer_sim, caplog):
    printer_sim.model.mute = True
    s = printer.status()
    assert not s.online and not s.can_print  # no answer is never "paper OK"
    with caplog.at_level(logging.WARNING), pytest.raises(base.PrinterNoAnswer):
        printer.print_ticket(TICKET)
    assert printer_sim.model.jobs == []
    printer_sim.model.mute = False
    with caplog.at_level(logging.INFO):
        printer.print_ticket(TICKET)
    assert sum("lost" in r.getMessage() for r in caplog.records) == 1
    assert any("is back" in r.getMessage() for r in caplog.records)


def test_printer_that_stops_answering_mid_print(printer_sim):
    printer = EscposTicketPrinter(printer_sim.address, status_timeout=1.0, print_timeout=5)
    original = printer_sim.model.receive

    def go_mute_after_the_ticket(data):
        if b"\x1dr\x01" in data:
            printer_sim.model.mute = True  # takes the ticket, then goes silent (hung firmware)
        original(data)

    printer_sim.model.receive = go_mute_after_the_ticket
    try:
        with pytest.raises(base.PrinterNoAnswer):
            printer.print_ticket(TICKET)
    finally:
        printer.close()


def test_nobody_listening_is_offline():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    printer = EscposTicketPrinter(f"tcp://127.0.0.1:{port}", status_timeout=0.3)
    assert not printer.status().online
    with pytest.raises(base.PrinterOffline):
        printer.print_ticket(TICKET)


def test_reprint_last(printer, printer_sim):
    with pytest.raises(NothingToReprint):
        printer.reprint_last()
    printer.print_ticket(TICKET)
    printer.reprint_last()
    assert len(printer_sim.model.jobs) == 2 and printer_sim.model.jobs[0] == printer_sim.model.jobs[1]


def test_failed_ticket_is_not_what_reprint_prints(printer, printer_sim):
    printer.print_guide(GUIDE)
    printer_sim.model.set_paper(0)
    with pytest.raises(base.PaperOut):
        printer.print_ticket(TICKET)
    printer_sim.model.set_paper(None)
    printer.reprint_last()
    assert "一次性告知单" in text_of(decode(printer_sim.model.jobs[-1]))


def test_printer_restart_is_survived(printer_sim):
    from kiosk.devices.printer.simulator import PrinterSimulatorServer

    printer = EscposTicketPrinter(printer_sim.address, status_timeout=1.0)
    try:
        printer.print_ticket(TICKET)
        port = printer_sim.port
        printer_sim.close()  # power cycle
        with pytest.raises(base.PrinterOffline):
            printer.print_ticket(TICKET)
        with PrinterSimulatorServer(PrinterModel(), port=port) as again:
            printer.print_ticket(TICKET)
            assert len(again.model.jobs) == 1
    finally:
        printer.close()


# ---- serial and file backends ------------------------------------------------------------
def test_serial_printer_on_a_pty():
    model = PrinterModel()
    master, slave = os.openpty()
    tty.setraw(slave)
    stop = threading.Event()

    def serve():
        import select

        while not stop.is_set():
            r, _, _ = select.select([master], [], [], 0.02)
            if r:
                try:
                    model.receive(os.read(master, 4096))
                except OSError:
                    return
            out = model.take_output()
            if out:
                os.write(master, out)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    printer = EscposTicketPrinter(f"serial://{os.ttyname(slave)}?baudrate=9600", status_timeout=1.0)
    try:
        assert printer.status().can_print
        printer.print_ticket(TICKET)
        assert model.jobs == [ticket_bytes(TICKET)]
    finally:
        printer.close()
        stop.set()
        t.join()
        os.close(master)
        os.close(slave)


def test_file_backend_captures_bytes(tmp_path):
    out = tmp_path / "lp0"
    out.touch()
    printer = EscposTicketPrinter(f"file://{out}")
    s = printer.status()
    assert s.online and s.error == "no status channel"
    printer.print_ticket(TICKET)
    printer.close()
    assert out.read_bytes() == ticket_bytes(TICKET)


def test_simulator_address_prints_in_process():
    printer = EscposTicketPrinter("simulator", status_timeout=1.0)
    printer.print_ticket(TICKET)
    assert printer._transport.model.jobs == [ticket_bytes(TICKET)]
