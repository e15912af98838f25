import pytest

from kiosk.devices.base import CardType
from kiosk.devices.factory import build_card_reader, build_card_readers, build_printer
from kiosk.devices.idcard.sam_reader import SamSerialReader, SimulatedCardReader
from kiosk.devices.printer.printer import EscposTicketPrinter
from kiosk.devices.printer.samples import TICKET
from yizhan.config.devices import KioskConfig, PrinterConfig, SerialSamReader


def test_default_kiosk_gets_simulators():
    kiosk = KioskConfig(id="k1")
    (reader,) = build_card_readers(kiosk)
    assert isinstance(reader, SimulatedCardReader)
    reader.place_sample("resident")
    assert reader.read(1).card_type is CardType.RESIDENT
    printer = build_printer(kiosk.printer)
    printer.print_ticket(TICKET)
    assert len(printer._transport.model.jobs) == 1


def test_serial_sam_from_config(sam, cards):
    reader = build_card_reader(SerialSamReader(type="serial_sam", port=sam.port))
    assert isinstance(reader, SamSerialReader)
    sam.module.place(cards["resident"])
    try:
        assert reader.read(1).masked_name == "张**"
    finally:
        reader.close()


def test_printer_from_config(printer_sim):
    p = build_printer(PrinterConfig(address=printer_sim.address, paper_mm=58, native_qr=False, status_timeout_s=0.5))
    assert isinstance(p, EscposTicketPrinter) and p.paper_mm == 58 and not p.native_qr
    p.print_ticket(TICKET)
    assert len(printer_sim.model.jobs) == 1


def test_config_rejects_bad_printer_address():
    with pytest.raises(ValueError, match="usb://VID:PID"):
        PrinterConfig(address="COM3")


def test_kiosk_with_a_sam_module_and_a_dead_second_reader(sam, cards, tmp_path):
    from kiosk.devices.base import DeviceState, NoCard
    from kiosk.devices.factory import build_kiosk_reader
    from kiosk.devices.idcard.combined import CombinedCardReader

    kiosk = KioskConfig(id="k1", card_readers=[
        {"type": "serial_sam", "port": str(tmp_path / "unplugged")},  # adapter not plugged in
        {"type": "serial_sam", "port": sam.port},
    ])
    reader = build_kiosk_reader(kiosk)
    assert isinstance(reader, CombinedCardReader)
    try:
        with pytest.raises(NoCard):
            reader.read(0.3)
        sam.module.place(cards["hk_macau_taiwan"])
        assert reader.read(2).card_type is CardType.HK_MACAU_TAIWAN
        assert reader.state is DeviceState.READY
    finally:
        reader.close()


def test_every_reader_unavailable(tmp_path):
    from kiosk.devices.base import DeviceUnavailable
    from kiosk.devices.factory import build_kiosk_reader

    kiosk = KioskConfig(id="k1", card_readers=[{"type": "serial_sam", "port": str(tmp_path / "a")},
                                               {"type": "serial_sam", "port": str(tmp_path / "b")}])
    reader = build_kiosk_reader(kiosk)
    with pytest.raises(DeviceUnavailable):
        reader.read(0.3)
