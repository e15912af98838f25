"""The bus master: asks for key presses in time slots, sends display/prompt commands,
and checks every device's health in turn (docs/keypads.md, "Bus cycle").

One cycle:
1. ASK (broadcast). Devices holding an unacknowledged event answer in slot
   `addr % slots` (a retry in a random slot). Two in one slot garble each other:
   the CRC fails, the frames are dropped and counted, both devices retry.
   Events are handed on as they arrive; each is ACKed after the listening window.
2. Queued commands (SHOW a number, PROMPT for a rating, CANCEL), each answered.
3. Health POLLs for `polls_per_cycle` devices in turn. A device missing
   `offline_after` answers is offline and is polled only every `offline_every`-th
   turn; any answer brings it back.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from dataclasses import dataclass
from typing import Callable

from kiosk.keypad_bus.protocol import Cmd, Decoder, Event, Frame, Kind, frame_bytes, wire_seconds
from kiosk.keypad_bus.transport import SerialTransport
from yizhan.i18n import t

logger = logging.getLogger(__name__)

TURNAROUND_S = 0.004  # a device starts answering within this (RS-485 driver enable + firmware)
GUARD_S = 0.003


@dataclass
class DeviceHealth:
    addr: int
    kind: Kind
    online: bool = True
    misses: int = 0
    skipped: int = 0
    last_event_seq: int | None = None


class BusMaster:
    def __init__(
        self,
        transport: SerialTransport,
        devices: dict[int, Kind],
        on_event: Callable[[Event], None],
        *,
        slots: int = 4,
        polls_per_cycle: int = 2,
        offline_after: int = 3,
        offline_every: int = 5,
        on_health: Callable[[DeviceHealth], None] | None = None,
    ) -> None:
        self.transport = transport
        self.devices = {a: DeviceHealth(a, k) for a, k in sorted(devices.items())}
        self.on_event = on_event
        self.on_health = on_health
        self.slots = slots
        self.polls_per_cycle = polls_per_cycle
        self.offline_after = offline_after
        self.offline_every = offline_every
        self.decoder = Decoder()
        self._seq = 0
        self._commands: "queue.Queue[Frame]" = queue.Queue()
        self._retry: list[tuple[Frame, int]] = []
        self._poll_order = list(self.devices)
        self._poll_i = 0
        self.cycles = 0
        self.events = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- timing ---------------------------------------------------------------------------
    @property
    def slot_s(self) -> float:
        return wire_seconds(frame_bytes(5), self.transport.baudrate) + TURNAROUND_S + GUARD_S

    def reply_timeout(self, payload_len: int = 8) -> float:
        return wire_seconds(frame_bytes(payload_len), self.transport.baudrate) + TURNAROUND_S + 0.02

    @property
    def crc_errors(self) -> int:
        return self.decoder.crc_errors

    # ---- commands from other threads -----------------------------------------------------
    def send(self, addr: int, cmd: Cmd, payload: bytes = b"") -> None:
        self._commands.put(Frame(addr, 0, cmd, payload))

    def show(self, addr: int, text: str) -> None:
        self.send(addr, Cmd.SHOW, text.encode("ascii", "replace")[:16])

    def prompt(self, addr: int, ticket: str, timeout_s: int) -> None:
        self.send(addr, Cmd.PROMPT, bytes([min(timeout_s, 255)]) + ticket.encode("ascii", "replace")[:12])

    def cancel(self, addr: int) -> None:
        self.send(addr, Cmd.CANCEL)

    # ---- the cycle -------------------------------------------------------------------------
    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFF
        return self._seq

    def _heard(self, addr: int) -> None:
        d = self.devices.get(addr)
        if d is None:
            return
        d.misses = 0
        if not d.online:
            d.online = True
            logger.warning(t("keypads.log.device_back", addr=addr))
            if self.on_health:
                self.on_health(d)

    def _missed(self, addr: int) -> None:
        d = self.devices[addr]
        d.misses += 1
        if d.online and d.misses >= self.offline_after:
            d.online = False
            logger.warning(t("keypads.log.device_offline", addr=addr))
            if self.on_health:
                self.on_health(d)

    def _event(self, ev: Event) -> None:
        d = self.devices.get(ev.addr)
        if d is None:
            return
        if d.last_event_seq == ev.seq:
            return  # a repeat (our ACK was lost): already handed on
        d.last_event_seq = ev.seq
        self.events += 1
        try:
            self.on_event(ev)
        except Exception:  # the bus must keep running whatever a handler does
            logger.exception("event handler failed for %s", ev)

    def _exchange(self, frame: Frame, want: int) -> Frame | None:
        """Sends and waits for the answer `want` with the same address and sequence."""
        self.transport.discard_input()
        if not self.transport.write(frame.encode()):
            return None
        deadline = time.monotonic() + self.reply_timeout()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            for f in self.decoder.feed(self.transport.read(left)):
                if f.addr == frame.addr and f.seq == frame.seq and f.cmd == want:
                    self._heard(f.addr)
                    return f

    def _ask(self) -> list[Event]:
        seq = self._next_seq()
        slot_ms = max(1, math.ceil(self.slot_s * 1000))
        self.transport.discard_input()
        if not self.transport.write(Frame(0, seq, Cmd.ASK, bytes([self.slots, slot_ms])).encode()):
            return []
        got: list[Event] = []
        deadline = time.monotonic() + self.slots * slot_ms / 1000 + TURNAROUND_S + 0.005
        while (left := deadline - time.monotonic()) > 0:
            for f in self.decoder.feed(self.transport.read(left)):
                if f.cmd == Cmd.EVENT and f.addr in self.devices:
                    try:
                        ev = Event.parse(f.addr, f.payload)
                    except ValueError:
                        continue
                    self._heard(f.addr)
                    self._event(ev)
                    got.append(ev)
        self.decoder.reset()
        return got

    def _ack(self, ev: Event) -> None:
        self.transport.write(Frame(ev.addr, self._next_seq(), Cmd.ACK, bytes([ev.seq])).encode())

    def _poll(self, d: DeviceHealth) -> None:
        r = self._exchange(Frame(d.addr, self._next_seq(), Cmd.POLL), Cmd.STATUS)
        if r is None:
            self._missed(d.addr)
            return
        if len(r.payload) >= 7:  # STATUS carries an event the device still holds
            try:
                ev = Event.parse(d.addr, r.payload[2:7])
            except ValueError:
                return
            self._event(ev)
            self._ack(ev)

    def cycle(self) -> None:
        if not self.transport.open():
            time.sleep(0.2)
            return
        for ev in self._ask():
            self._ack(ev)
        # commands: new ones, then earlier ones a device did not answer
        pending = self._retry
        self._retry = []
        while True:
            try:
                pending.append((self._commands.get_nowait(), 0))
            except queue.Empty:
                break
        for frame, tries in pending:
            d = self.devices.get(frame.addr)
            if d is not None and not d.online:
                self._retry.append((frame, tries))  # kept for when it answers again
                continue
            f = Frame(frame.addr, self._next_seq(), frame.cmd, frame.payload)
            if self._exchange(f, frame.cmd | 0x80) is None:
                if d is not None:
                    self._missed(frame.addr)
                if tries < 5:
                    self._retry.append((frame, tries + 1))
                else:
                    logger.warning("command 0x%02X to device %d dropped after retries", frame.cmd, frame.addr)
        # health polls in turn; offline devices only every offline_every-th turn
        done = 0
        for _ in range(len(self._poll_order)):
            if done >= self.polls_per_cycle or not self._poll_order:
                break
            d = self.devices[self._poll_order[self._poll_i]]
            self._poll_i = (self._poll_i + 1) % len(self._poll_order)
            if not d.online:
                d.skipped += 1
                if d.skipped % self.offline_every:
                    continue
            self._poll(d)
            done += 1
        self.cycles += 1

    def poll_all(self) -> float:
        """Polls every device once (a full health round); returns the seconds it took."""
        t0 = time.monotonic()
        for d in self.devices.values():
            self._poll(d)
        return time.monotonic() - t0

    # ---- thread ----------------------------------------------------------------------------
    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="keypad-bus", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.cycle()
            except Exception:
                logger.exception("bus cycle failed")
                time.sleep(0.2)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.transport.close()
