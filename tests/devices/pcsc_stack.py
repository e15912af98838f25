"""The real PC/SC stack for tests: pcscd + vsmartcard's vpcd driver, with cards from kiosk.devices.idcard.vpcd_card.

pcscd's socket is fixed at /run/pcscd, so there is one pcscd per machine. If one is already running we
use its vpcd readers ("Virtual PCD 00 00" on port 35963, "… 00 01" on 35964); otherwise we start our own
(`pcscd -f -c <our reader.conf>`) with a reader on free ports and stop it afterwards. Only an owned pcscd
can be restarted, which is how a reader is unplugged and plugged back.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from kiosk.devices.idcard.pcsc_reader import reader_names

SOCKET = Path("/run/pcscd/pcscd.comm")
VPCD_LIB = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
OUR_NAME = "Yizhan Test Reader"


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("0.0.0.0", port))
            return True
        except OSError:
            return False


def _free_port_pair() -> int:
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 65000 and _port_free(port) and _port_free(port + 1):
            return port
    raise RuntimeError("no two free adjacent ports")


def wait_for(predicate, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def wait_slot_settled_empty(reader: str, timeout: float = 10.0, quiet_ms: int = 1000) -> None:
    """Waits (on pcscd's own change events) until `reader` holds no card and pcscd reports no further change
    for `quiet_ms`: a card pulled mid-transaction makes pcscd flip the slot's state a few times."""
    from smartcard import scard

    deadline = time.monotonic() + timeout
    hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    try:
        hr, states = scard.SCardGetStatusChange(ctx, 0, [(reader, scard.SCARD_STATE_UNAWARE)])
        while time.monotonic() < deadline:
            _, state, _ = states[0]
            wait = quiet_ms if not state & scard.SCARD_STATE_PRESENT else int((deadline - time.monotonic()) * 1000)
            hr, new = scard.SCardGetStatusChange(ctx, max(wait, 1), [(reader, state & ~scard.SCARD_STATE_CHANGED)])
            if hr == scard.SCARD_E_TIMEOUT and not state & scard.SCARD_STATE_PRESENT:
                return
            if hr == scard.SCARD_S_SUCCESS:
                states = new
        raise AssertionError(f"{reader} did not settle empty")
    finally:
        scard.SCardReleaseContext(ctx)


def _service_up() -> bool:
    if not SOCKET.exists():
        return False
    with socket.socket(socket.AF_UNIX) as s:
        try:
            s.connect(str(SOCKET))
            return True
        except OSError:
            return False


class PcscStack:
    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.tmp: Path | None = None
        self.reader = ""  # the slot tests insert cards into
        self.port = 0

    @staticmethod
    def unavailable_reason() -> str | None:
        if not shutil.which("pcscd") and not Path("/usr/sbin/pcscd").exists():
            return "pcscd not installed (Debian package pcscd)"
        if not VPCD_LIB.exists():
            return "vsmartcard-vpcd not installed"
        if not _service_up() and os.geteuid() != 0:
            return "no pcscd running and not root to start one"
        return None

    @property
    def owned(self) -> bool:
        return self.proc is not None

    def start(self) -> None:
        if _service_up():
            names = wait_for(reader_names, 5, "PC/SC readers of the running pcscd")
            if "Virtual PCD 00 00" not in names:
                raise RuntimeError(f"running pcscd has no vpcd reader: {names}")
            self.reader, self.port = "Virtual PCD 00 00", 35963
            return
        self.tmp = Path(tempfile.mkdtemp(prefix="yizhan-pcscd-"))
        self.port = _free_port_pair()
        (self.tmp / "reader.conf").write_text(
            f'FRIENDLYNAME "{OUR_NAME}"\nDEVICENAME /dev/null:0x{self.port:04X}\n'
            f"LIBPATH {VPCD_LIB}\nCHANNELID 0x{self.port:04X}\n"
        )
        self._spawn()
        self.reader = f"{OUR_NAME} 00 00"

    def _spawn(self) -> None:
        assert self.tmp is not None
        log = open(self.tmp / "pcscd.log", "ab")
        pcscd = shutil.which("pcscd") or "/usr/sbin/pcscd"
        self.proc = subprocess.Popen([pcscd, "-f", "-c", str(self.tmp / "reader.conf")], stdout=log, stderr=log)
        wait_for(lambda: any(n.startswith(OUR_NAME) for n in reader_names()), 10, "our pcscd's reader")
        wait_for(lambda: not _port_free(self.port), 5, "vpcd listening")

    def unplug(self) -> None:
        """The reader disappears (owned pcscd only): pcscd stops, its readers vanish."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)
        self.proc = None

    def replug(self) -> None:
        self._spawn()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
