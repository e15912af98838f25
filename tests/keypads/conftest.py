"""Serial pty pairs (socat) for the keypad bus: the master on one end, the simulated devices on the other."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from kiosk.keypad_bus.master import BusMaster
from kiosk.keypad_bus.protocol import Kind
from kiosk.keypad_bus.simulator import BusSimulator, SimDevice
from kiosk.keypad_bus.transport import SerialTransport


def wait_for(cond, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


class PtyPair:
    """Two linked serial ports; `unplug()`/`replug()` pull and reinsert the cable (same paths)."""

    def __init__(self, folder: Path) -> None:
        self.a = str(folder / "master")
        self.b = str(folder / "devices")
        self.proc: subprocess.Popen | None = None

    def replug(self) -> None:
        self.proc = subprocess.Popen([shutil.which("socat"), f"pty,raw,echo=0,link={self.a}",
                                      f"pty,raw,echo=0,link={self.b}"], stderr=subprocess.DEVNULL)
        wait_for(lambda: Path(self.a).exists() and Path(self.b).exists(), what="socat ptys")

    def unplug(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(5)
            self.proc = None
        wait_for(lambda: not Path(self.a).exists(), what="pty gone")


@pytest.fixture
def ptys(tmp_path):
    pair = PtyPair(tmp_path)
    pair.replug()
    yield pair
    pair.unplug()


@pytest.fixture
def bus(ptys):
    """Windows 1–3: callers at 1, 2, 3 and keypads at 11, 12, 13; 9600 baud."""
    devs = [SimDevice(a, Kind.CALLER) for a in (1, 2, 3)] + [SimDevice(a, Kind.KEYPAD) for a in (11, 12, 13)]
    sim = BusSimulator(ptys.b, devs, 9600).start()
    events = []
    master = BusMaster(SerialTransport(ptys.a, 9600, pace=True), {d.addr: d.kind for d in devs}, events.append)
    master.start()
    yield sim, master, events
    master.stop()
    sim.stop()
