"""A thermal printer that speaks the same ESC/POS bytes as the real one.

`PrinterModel` executes the byte stream in order: it answers DLE EOT at once (real-time, even when stopped),
answers GS r 1 only when it reaches it (after the lines before it are printed), uses up paper line by line,
and stops when the paper runs out or the cover opens — the rest waits in its buffer, as on a real printer.
`PrinterSimulatorServer` serves a model on TCP (tcp://127.0.0.1:PORT, the 9100 "raw" protocol);
`SimulatedTransport` wires a model into the kiosk in-process for `--simulate`.
Run `python -m kiosk.devices.printer.simulator --port 9100 --previews DIR` for a network printer on this machine.
"""

from __future__ import annotations

import argparse
import logging
import select
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

from kiosk.devices.base import PaperLevel
from kiosk.devices.printer import status as st
from kiosk.devices.printer.decoder import Incomplete, next_op
from kiosk.devices.printer.escpos import CLEAR_BUFFER
from kiosk.devices.printer.transport import Transport

logger = logging.getLogger(__name__)

LINE_DOTS = 30  # 24-dot font + 6 dots spacing


class PrinterModel:
    def __init__(self, paper_dots: float | None = None, low_below_dots: float = 0.0, encoding: str = "gb18030") -> None:
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self.paper_dots = paper_dots  # None: a roll that never ends
        self.low_below_dots = low_below_dots
        self.cover_open = False
        self.mute = False  # takes bytes, never answers
        self.encoding = encoding
        self.received = bytearray()
        self.jobs: list[bytes] = []  # everything up to and including each cut that was executed
        self._pending = bytearray()
        self._job = bytearray()
        self._kanji = False
        self._height = 1
        self._out = bytearray()
        self._tail = b""

    # -- the operator -----------------------------------------------------------------------
    def set_paper(self, dots: float | None) -> None:
        with self._lock:
            self.paper_dots = dots
            self._run()

    def set_cover(self, open_: bool) -> None:
        with self._lock:
            self.cover_open = open_
            self._run()

    # -- state ------------------------------------------------------------------------------
    @property
    def paper(self) -> PaperLevel:
        if self.paper_dots is None:
            return PaperLevel.OK
        if self.paper_dots <= 0:
            return PaperLevel.OUT
        return PaperLevel.LOW if self.paper_dots < self.low_below_dots else PaperLevel.OK

    @property
    def stopped(self) -> bool:
        return self.cover_open or self.paper is PaperLevel.OUT

    # -- the wire ---------------------------------------------------------------------------
    def receive(self, data: bytes) -> None:
        with self._lock:
            self.received += data
            window = self._tail + data
            i = window.find(b"\x10\x04")
            while 0 <= i < len(window) - 2:
                self._realtime(window[i + 2])
                i = window.find(b"\x10\x04", i + 3)
            self._tail = window[-2:]
            if len(data) == 3 and data[:2] in (b"\x10\x04", b"\x10\x05") and data != CLEAR_BUFFER:
                self._changed.notify_all()
                return  # a lone real-time command is answered above, nothing to print
            self._pending += data
            k = bytes(self._pending).rfind(CLEAR_BUFFER)
            if k >= 0:  # DLE ENQ 2: drop what is still unprinted (the rest of a failed ticket)
                del self._pending[:k + len(CLEAR_BUFFER)]
                self._job = bytearray()
            self._run()
            self._changed.notify_all()

    def _realtime(self, n: int) -> None:
        b1, b2, b4 = st.realtime_bytes(paper=self.paper, cover_open=self.cover_open)
        reply = {1: b1, 2: b2, 3: 0x12, 4: b4}.get(n)
        if reply is not None and not self.mute:
            self._out.append(reply)

    def take_output(self) -> bytes:
        with self._lock:
            out, self._out = bytes(self._out), bytearray()
            return out

    def wait_output(self, timeout: float) -> bytes:
        with self._changed:
            if not self._out:
                self._changed.wait(timeout)
            out, self._out = bytes(self._out), bytearray()
            return out

    def _use_paper(self, dots: float) -> None:
        if self.paper_dots is not None:
            self.paper_dots -= dots

    def _run(self) -> None:
        """Executes buffered commands until the buffer is empty or the printer has to stop."""
        i = 0
        buf = bytes(self._pending)
        while i < len(buf) and not self.stopped:
            try:
                op, j = next_op(buf, i, self._kanji, self.encoding, final=False)
            except Incomplete:
                break
            n = op.name
            if n == "init":
                self._job = bytearray()  # a job starts at ESC @
            if n not in ("status_rt", "recover", "status_request"):
                self._job += buf[i:j]
            i = j
            if n == "kanji_on":
                self._kanji = True
            elif n == "kanji_off":
                self._kanji = False
            elif n == "init":
                self._kanji, self._height = False, 1
            elif n == "size":
                self._height = op.args[1]
            elif n == "lf":
                self._use_paper(LINE_DOTS * self._height)
            elif n == "feed":
                self._use_paper(LINE_DOTS * op.args[0])
            elif n == "raster":
                self._use_paper(op.args[1])
            elif n == "qr_print":
                self._use_paper(240)
            elif n == "status_request" and not self.mute:
                self._out.append(st.gs_r_byte(self.paper))
            elif n == "cut":
                self.jobs.append(bytes(self._job))
                self._job = bytearray()
        del self._pending[:i]
        self._changed.notify_all()

    @property
    def unprinted(self) -> int:
        return len(self._pending)


class SimulatedTransport(Transport):
    """In-process wire to a PrinterModel: the kiosk's `simulator` printer."""

    def __init__(self, model: PrinterModel) -> None:
        self.model = model

    def open(self) -> None:
        pass

    def write(self, data: bytes) -> None:
        self.model.receive(data)

    def read(self, timeout: float) -> bytes:
        return self.model.wait_output(timeout) if timeout > 0 else self.model.take_output()

    def close(self) -> None:
        pass


class PrinterSimulatorServer:
    """A network printer on 127.0.0.1: accepts raw 9100 connections and feeds them to the model."""

    def __init__(self, model: PrinterModel | None = None, host: str = "127.0.0.1", port: int = 0,
                 on_job: "Callable[[bytes], None] | None" = None) -> None:
        self.model = model or PrinterModel()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self._sock.listen(4)
        self.host, self.port = self._sock.getsockname()
        self._stop = threading.Event()
        self._on_job = on_job
        self._threads: list[threading.Thread] = []
        t = threading.Thread(target=self._accept, name="printer-sim", daemon=True)
        t.start()
        self._threads.append(t)

    @property
    def address(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            r, _, _ = select.select([self._sock], [], [], 0.05)
            if r:
                conn, _ = self._sock.accept()
                t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
                t.start()
                self._threads.append(t)

    def _serve(self, conn: socket.socket) -> None:
        seen = len(self.model.jobs)
        with conn:
            while not self._stop.is_set():
                r, _, _ = select.select([conn], [], [], 0.02)
                if r:
                    try:
                        data = conn.recv(65536)
                    except OSError:
                        return
                    if not data:
                        return
                    self.model.receive(data)
                out = self.model.take_output()
                if out:
                    try:
                        conn.sendall(out)
                    except OSError:
                        return
                if self._on_job and len(self.model.jobs) > seen:
                    for job in self.model.jobs[seen:]:
                        self._on_job(job)
                    seen = len(self.model.jobs)

    def close(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=2)
        self._sock.close()

    def __enter__(self) -> "PrinterSimulatorServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m kiosk.devices.printer.simulator",
                                 description="模拟网络热敏打印机 / a simulated ESC/POS network printer")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9100)
    ap.add_argument("--paper", choices=["ok", "low", "out"], default="ok")
    ap.add_argument("--cover-open", action="store_true")
    ap.add_argument("--mute", action="store_true", help="never answer status queries")
    ap.add_argument("--paper-mm", type=int, choices=[58, 80], default=80)
    ap.add_argument("--previews", type=Path, help="save a PNG of every printed job here")
    args = ap.parse_args(argv)
    model = PrinterModel(paper_dots={"ok": None, "low": 5000.0, "out": 0.0}[args.paper], low_below_dots=10000.0)
    model.cover_open, model.mute = args.cover_open, args.mute
    counter = {"n": 0}

    def save(job: bytes) -> None:
        if args.previews:
            from kiosk.devices.printer.preview import save_preview

            counter["n"] += 1
            path = save_preview(job, args.previews / f"job-{counter['n']:03d}.png", args.paper_mm)
            print(f"printed → {path}", flush=True)

    server = PrinterSimulatorServer(model, args.host, args.port, on_job=save)
    print(f"模拟打印机 / simulated printer at {server.address}; Ctrl-C 结束", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
