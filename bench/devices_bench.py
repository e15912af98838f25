"""Kiosk devices I: card-on-reader → identity, and ticket bytes produced per second.

    .venv/bin/python bench/devices_bench.py [--trials 20]

Serial SAM: the simulated module on a pty, its replies paced at 115200 baud (10 bits a byte); the module's
own RF/SAM processing time is not modelled (real modules add roughly 0.3–1 s, see docs/devices.md).
The reader polls "find card" every 0.3 s, as in production, so the figure includes the wait for the next poll.
PC/SC: real pcscd + vpcd + the virtual social security card (only when pcscd can be used on this machine).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk.devices.idcard.sam_reader import SamSerialReader  # noqa: E402
from kiosk.devices.idcard.sam_simulator import SamSimulatorPort, sample_cards  # noqa: E402
from kiosk.devices.printer.decoder import decode  # noqa: E402
from kiosk.devices.printer.layout import guide_bytes, ticket_bytes  # noqa: E402
from kiosk.devices.printer.samples import GUIDE, TICKET  # noqa: E402


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def line(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (f"{name}: n={len(ms)} median {statistics.median(ms):.0f} ms, p95 {pct(ms, 95):.0f} ms, "
            f"max {max(ms):.0f} ms")


def serial_card_to_identity(trials: int) -> list[float]:
    card = sample_cards()["resident"]
    times = []
    with SamSimulatorPort(baudrate=115200) as sim:
        reader = SamSerialReader(sim.port, 115200)
        try:
            for i in range(trials):
                result: dict = {}

                def wait() -> None:
                    result["identity"] = reader.read(10)
                    result["at"] = time.perf_counter()

                t = threading.Thread(target=wait)
                t.start()
                time.sleep(0.05 + (i % 7) * 0.043)  # place the card at varying points of the poll cycle
                placed = time.perf_counter()
                sim.module.place(card)
                t.join()
                times.append(result["at"] - placed)
                sim.module.lift()
        finally:
            reader.close()
    return times


def serial_read_only(trials: int) -> list[float]:
    """find + select + read with the card already there: the wire and parsing alone."""
    card = sample_cards()["resident"]
    times = []
    with SamSimulatorPort(baudrate=115200) as sim:
        reader = SamSerialReader(sim.port, 115200)
        try:
            for _ in range(trials):
                sim.module.place(card)
                t0 = time.perf_counter()
                reader.read(5)
                times.append(time.perf_counter() - t0)
                sim.module.lift()
        finally:
            reader.close()
    return times


def pcsc_card_to_identity(trials: int) -> list[float] | str:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from kiosk.devices.idcard.pcsc_reader import PcscCardReader
    from kiosk.devices.idcard.vpcd_card import SocialSecurityCard, VpcdCard
    from tests.devices.pcsc_stack import PcscStack, wait_for, wait_slot_settled_empty

    reason = PcscStack.unavailable_reason()
    if reason:
        return reason
    stack = PcscStack()
    stack.start()
    times = []
    try:
        reader = PcscCardReader(stack.reader)
        wait_for(lambda: reader.readers(), 10, "reader")
        for _ in range(trials):
            card = VpcdCard(SocialSecurityCard("王建国", "11010519491231002X"), stack.port)
            t0 = time.perf_counter()
            card.insert()
            reader.read(10)
            times.append(time.perf_counter() - t0)
            card.remove()
            wait_slot_settled_empty(stack.reader, quiet_ms=200)
        reader.close()
    finally:
        stack.stop()
    return times


def throughput(fn, seconds: float = 2.0) -> tuple[float, float, int]:
    n, total = 0, 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        total += len(fn())
        n += 1
    dt = time.perf_counter() - t0
    return total / dt, n / dt, total // n


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--no-pcsc", action="store_true")
    args = ap.parse_args()
    print("== ID card: card placed on the reader → identity ==")
    print(line("serial SAM @115200, card placed while polling (0.3 s)", serial_card_to_identity(args.trials)))
    print(line("serial SAM @115200, find+select+read only", serial_read_only(args.trials)))
    if not args.no_pcsc:
        r = pcsc_card_to_identity(max(5, args.trials // 2))
        print(line("PC/SC social security card (pcscd + vpcd), card inserted", r) if isinstance(r, list)
              else f"PC/SC: skipped ({r})")
    print("== ticket bytes ==")
    for name, fn in [
        ("80 mm ticket, native QR", lambda: ticket_bytes(TICKET, paper_mm=80)),
        ("58 mm ticket, native QR", lambda: ticket_bytes(TICKET, paper_mm=58)),
        ("80 mm ticket, raster QR", lambda: ticket_bytes(TICKET, paper_mm=80, native_qr=False)),
        ("80 mm 一次性告知单", lambda: guide_bytes(GUIDE, paper_mm=80)),
    ]:
        bps, per_s, size = throughput(fn)
        print(f"{name}: {size} bytes/ticket, {per_s:,.0f} tickets/s, {bps / 1e6:.2f} MB/s")
    data = ticket_bytes(TICKET)
    bps, per_s, _ = throughput(lambda: decode(data) and data)
    print(f"decoder (80 mm ticket): {per_s:,.0f} tickets/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
