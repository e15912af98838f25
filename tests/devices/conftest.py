"""Fixtures for device tests: the SAM module on a pty, the network printer on loopback, the real PC/SC stack."""

from __future__ import annotations

import pytest

from kiosk.devices.idcard.sam_reader import SamSerialReader
from kiosk.devices.idcard.sam_simulator import SamSimulatorPort, sample_cards
from kiosk.devices.printer.printer import EscposTicketPrinter
from kiosk.devices.printer.simulator import PrinterModel, PrinterSimulatorServer
from tests.devices.pcsc_stack import PcscStack


@pytest.fixture
def sam():
    with SamSimulatorPort() as sim:
        yield sim


@pytest.fixture
def cards() -> dict[str, bytes]:
    return sample_cards()


@pytest.fixture
def sam_reader(sam):
    # generous timeouts: a loaded test machine must not turn a slow reply into a failure
    reader = SamSerialReader(sam.port, command_timeout=1.0, poll_interval=0.05)
    yield reader
    reader.close()


@pytest.fixture
def printer_sim():
    with PrinterSimulatorServer(PrinterModel()) as server:
        yield server


@pytest.fixture
def printer(printer_sim):
    p = EscposTicketPrinter(printer_sim.address, status_timeout=1.0, print_timeout=10)
    yield p
    p.close()


@pytest.fixture(scope="session")
def pcsc():
    reason = PcscStack.unavailable_reason()
    if reason:
        pytest.skip(reason)
    stack = PcscStack()
    stack.start()
    yield stack
    stack.stop()
