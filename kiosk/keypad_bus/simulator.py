"""A whole simulated bus: N windows, each with an evaluation keypad and a caller,
speaking the same bytes as the hardware on the other end of a serial line
(a pty pair, or a socket).

The wire is modelled: writes take their time at the baud rate, and two devices
answering in the same ASK slot produce garbled bytes (their frames OR-ed), so
the master meets real collisions.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field

from kiosk.keypad_bus.protocol import EV_KEY, EV_RATING, NO_ARG, Cmd, Decoder, Event, Frame, Key, Kind
from kiosk.keypad_bus.transport import SerialTransport

logger = logging.getLogger(__name__)

TURNAROUND_S = 0.002


@dataclass
class SimDevice:
    addr: int
    kind: Kind
    display: str = ""  # caller: the number shown
    prompt_ticket: str | None = None  # keypad: lit up, asking for a rating for this ticket
    prompt_until: float = 0.0
    dead: bool = False  # stopped answering (unplugged from the bus)
    pending: list[Event] = field(default_factory=list)
    attempts: int = 0
    _seq: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    press_times: dict[int, float] = field(default_factory=dict)  # event seq → monotonic press time

    def _add(self, type_: int, code: int, arg: int) -> Event:
        with self._lock:
            self._seq = (self._seq + 1) & 0xFF
            ev = Event(self.addr, self._seq, type_, code, arg)
            self.pending.append(ev)
            self.press_times[ev.seq] = time.monotonic()
            return ev

    def press(self, key: Key, arg: int = NO_ARG) -> Event:
        if self.kind is not Kind.CALLER:
            raise ValueError("not a caller")
        return self._add(EV_KEY, int(key), arg)

    def rate(self, score: int) -> Event | None:
        """A citizen presses a rating key; a dark keypad (not asking) ignores it, like the hardware."""
        if self.kind is not Kind.KEYPAD:
            raise ValueError("not a keypad")
        if self.prompt_ticket is None or time.monotonic() > self.prompt_until:
            return None
        self.prompt_ticket = None
        return self._add(EV_RATING, score, NO_ARG)

    @property
    def lit(self) -> bool:
        return self.prompt_ticket is not None and time.monotonic() <= self.prompt_until

    def handle(self, f: Frame) -> Frame | None:
        reply = f.cmd | 0x80
        if f.cmd == Cmd.POLL:
            with self._lock:
                head = self.pending[0].payload() if self.pending else b""
            flags = 1 if self.lit else 0
            return Frame(self.addr, f.seq, Cmd.STATUS, bytes([self.kind, flags]) + head)
        if f.cmd == Cmd.ACK:
            with self._lock:
                self.pending = [e for e in self.pending if e.seq != (f.payload[:1] or b"\0")[0]]
                self.attempts = 0
            return None
        if f.cmd == Cmd.SHOW:
            self.display = f.payload.decode("ascii", "replace")
            return Frame(self.addr, f.seq, reply)
        if f.cmd == Cmd.PROMPT and f.payload:
            self.prompt_ticket = f.payload[1:].decode("ascii", "replace")
            self.prompt_until = time.monotonic() + f.payload[0]
            return Frame(self.addr, f.seq, reply)
        if f.cmd == Cmd.CANCEL:
            self.prompt_ticket = None
            return Frame(self.addr, f.seq, reply)
        return None


class BusSimulator:
    """Answers on `url` for every device; `windows` maps window id → (keypad addr, caller addr)."""

    def __init__(self, url: str, devices: list[SimDevice], baudrate: int = 9600, seed: int = 1) -> None:
        self.transport = SerialTransport(url, baudrate, pace=True)
        self.devices = {d.addr: d for d in devices}
        self.decoder = Decoder()
        self.rng = random.Random(seed)
        self.collisions = 0
        self.lock = threading.Lock()  # held while answering; a test holds it to stage presses at once
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_windows(cls, url: str, windows: dict[str, tuple[int | None, int | None]], baudrate: int = 9600) -> "BusSimulator":
        devs = []
        for keypad, caller in windows.values():
            if keypad:
                devs.append(SimDevice(keypad, Kind.KEYPAD))
            if caller:
                devs.append(SimDevice(caller, Kind.CALLER))
        return cls(url, devs, baudrate)

    def device(self, addr: int) -> SimDevice:
        return self.devices[addr]

    def _answer_ask(self, f: Frame, heard_at: float) -> None:
        slots, slot_ms = (f.payload[0], f.payload[1]) if len(f.payload) >= 2 else (4, 20)
        by_slot: dict[int, list[bytes]] = {}
        for d in self.devices.values():
            if d.dead:
                continue
            with d._lock:
                if not d.pending:
                    continue
                ev = d.pending[0]
                slot = d.addr % slots if d.attempts == 0 else self.rng.randrange(slots)
                d.attempts += 1
            by_slot.setdefault(slot, []).append(Frame(d.addr, f.seq, Cmd.EVENT, ev.payload()).encode())
        for slot in sorted(by_slot):
            frames = by_slot[slot]
            data = frames[0]
            if len(frames) > 1:  # two transmitters at once: the line carries neither frame
                self.collisions += 1
                size = max(len(x) for x in frames)
                data = bytes(
                    (frames[0][i] if i < len(frames[0]) else 0) | (frames[1][i] if i < len(frames[1]) else 0)
                    for i in range(size)
                )
            wait = heard_at + TURNAROUND_S + slot * slot_ms / 1000 - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.transport.write(data)

    def _run(self) -> None:
        while not self._stop.is_set():
            data = self.transport.read(0.05)
            if not data:
                continue
            heard_at = time.monotonic()
            with self.lock:
                self._answer(data, heard_at)

    def _answer(self, data: bytes, heard_at: float) -> None:
        for f in self.decoder.feed(data):
            if f.addr == 0 and f.cmd == Cmd.ASK:
                self._answer_ask(f, heard_at)
                continue
            d = self.devices.get(f.addr)
            if d is None or d.dead:
                continue
            reply = d.handle(f)
            if reply is not None:
                self.transport.write(reply.encode())

    def start(self) -> "BusSimulator":
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="keypad-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.transport.close()


class SimulatedClerks:
    """For `yizhan keypads --simulate --clerks S` (a demo hall): every S seconds one window's clerk
    presses a caller key — next when nobody is at the counter, else finish — and a citizen answers a
    lit keypad, mostly satisfied. Only keys are simulated; everything after them is the real path."""

    def __init__(self, sim: BusSimulator, windows: dict[str, tuple[int | None, int | None]], every_s: float,
                 seed: int = 3) -> None:
        self.sim = sim
        self.windows = {w: (k, c) for w, (k, c) in windows.items() if c}
        self.every_s = every_s
        self.rng = random.Random(seed)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self) -> None:
        for keypad, _ in self.windows.values():
            if keypad and self.sim.device(keypad).lit and self.rng.random() < 0.7:
                self.sim.device(keypad).rate(self.rng.choices([5, 4, 3, 2, 1], [60, 25, 10, 3, 2])[0])
        if not self.windows:
            return
        _, caller = self.windows[self.rng.choice(sorted(self.windows))]
        dev = self.sim.device(caller)  # type: ignore[arg-type]
        dev.press(Key.NEXT if dev.display in ("", "----") else Key.FINISH)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.step()

    def start(self) -> "SimulatedClerks":
        self._thread = threading.Thread(target=self._run, name="keypad-sim-clerks", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
