"""Keeps the LED boards on one line showing what they should.

One worker thread per line sends only the lines that changed, confirms each by
the board's reply, and records a call in the announcement log once the board
has acknowledged the line that shows it. After a reconnect it resends
everything, so a board that was unplugged shows the current state at once.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from display_board.announcements import AnnouncementLog
from display_board.led.layout import BLANK, LedLine
from display_board.led.link import Link, LinkDown, NoAnswer, reply_status
from display_board.led.protocol import ALL_LINES, Status, brightness_frame, clear_frame, ping_frame, scroll_frame, text_frame
from display_board.model import Call

logger = logging.getLogger(__name__)

_STOP = object()


@dataclass
class _Job:
    address: int
    lines: list[LedLine]
    calls: list[Call] = field(default_factory=list)


class LedOutput:
    def __init__(
        self,
        name: str,
        link: Link,
        log: AnnouncementLog,
        *,
        board_kind: str,
        brightness: dict[int, int],
        on_health: Callable[[bool, str], None] = lambda ok, detail: None,
        retry_s: float = 2.0,
        ping_s: float = 30.0,
    ) -> None:
        self.name = name
        self.link = link
        self.log = log
        self.board_kind = board_kind
        self.brightness = brightness
        self._on_health = on_health
        self.retry_s = retry_s
        self.ping_s = ping_s
        self._jobs: queue.Queue = queue.Queue()
        self._desired: dict[int, list[LedLine]] = {}
        self._sent: dict[int, list[LedLine | None]] = {}
        self._silent: dict[int, str] = {}  # address → why it does not answer
        self._down = ""  # why the port is down
        self._opened_once = False
        self._thread: threading.Thread | None = None
        self._busy = False
        self._last_ok = time.monotonic()

    # -- health -----------------------------------------------------------------
    @property
    def healthy(self) -> bool:
        return not self._down and not self._silent

    @property
    def problem(self) -> str:
        if self._down:
            return self._down
        return "；".join(self._silent.values())

    def _report(self) -> None:
        self._on_health(self.healthy, self.problem)

    def _port_down(self, why: str) -> None:
        if not self._down:
            logger.error("%s: LED port lost: %s", self.name, why)
            self._down = why
            self._sent.clear()
            self._report()

    def _port_up(self) -> None:
        if self._down:
            logger.info("%s: LED port %s back", self.name, self.link.address)
            self._down = ""
            self._report()
        elif not self._opened_once:
            self._report()  # the first open: tell the status what we have
        self._opened_once = True

    def _board_silent(self, address: int, why: str) -> None:
        if address not in self._silent:
            logger.error("%s: board %d not answering: %s", self.name, address, why)
            self._silent[address] = why
            self._report()

    def _board_ok(self, address: int) -> None:
        if address in self._silent:
            logger.info("%s: board %d answers again", self.name, address)
            del self._silent[address]
            self._report()

    # -- public -----------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"led-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._jobs.put(_STOP)
        if self._thread:
            self._thread.join(timeout)
        self.link.close()

    def show(self, address: int, lines: list[LedLine], calls: list[Call] | None = None) -> None:
        self._jobs.put(_Job(address, list(lines), list(calls or [])))

    def idle(self) -> bool:
        return self._jobs.empty() and not self._busy

    # -- worker -----------------------------------------------------------------
    def _run(self) -> None:
        next_try = 0.0
        while True:
            if not self.link.is_open and time.monotonic() >= next_try:
                try:
                    self.link.open()
                    self._resync()
                    self._port_up()
                except LinkDown as exc:
                    self._port_down(str(exc))
                    next_try = time.monotonic() + self.retry_s
            try:
                job = self._jobs.get(timeout=self.retry_s if self._silent or not self.link.is_open else self.ping_s)
            except queue.Empty:
                self._probe()
                continue
            if job is _STOP:
                return
            self._busy = True
            try:
                self._handle(job)
            except Exception:  # a bug in one update must not end the output
                logger.exception("%s: LED update failed", self.name)
            finally:
                self._busy = False

    def _handle(self, job: _Job) -> None:
        batch = [job]
        if job.address in self._silent:
            # A board that does not answer costs a timeout per frame: take everything queued, give
            # each unanswering board only its newest state, and the others all theirs, in order.
            while True:
                try:
                    nxt = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    self._jobs.put(_STOP)
                    break
                batch.append(nxt)
        newest = {j.address: j for j in batch}
        for j in batch:
            self._desired[j.address] = j.lines
        for j in batch:
            if j.address in self._silent and newest[j.address] is not j:
                continue
            if not self.link.is_open:
                return
            try:
                confirmed = self._send_lines(j.address, j.lines)
            except LinkDown as exc:
                self._port_down(str(exc))
                return
            if confirmed:
                for call in j.calls:
                    self.log.record("led", event_id=call.event_id, ticket=call.ticket, window=call.window,
                                    recall=call.recall, board=self.board_kind)

    def _request(self, address: int, make) -> bool:
        try:
            try:
                reply = self.link.request(make)
            except NoAnswer:
                if address in self._silent:
                    raise
                reply = self.link.request(make)  # one retry: a reply lost to line noise is not a dead board
        except NoAnswer as exc:
            self._board_silent(address, str(exc))
            return False
        status = reply_status(reply)
        if status is not Status.OK:
            self._board_silent(address, f"{self.link.address}: 地址 {address} 拒绝命令（状态 {status.name}）")
            return False
        self._board_ok(address)
        self._last_ok = time.monotonic()
        return True

    def _send_lines(self, address: int, lines: list[LedLine]) -> bool:
        sent = self._sent.setdefault(address, [])
        ok = True
        for i, line in enumerate(lines):
            if i < len(sent) and sent[i] == line:
                continue
            if line == BLANK:
                done = self._request(address, lambda seq: clear_frame(address, seq, i))
            elif line.scroll:
                done = self._request(address, lambda seq: scroll_frame(address, seq, i, line.text, line.colour))
            else:
                done = self._request(address, lambda seq: text_frame(address, seq, i, line.text, line.colour, line.effect))
            while len(sent) <= i:
                sent.append(None)
            sent[i] = line if done else None
            ok = ok and done
        return ok

    def _resync(self) -> None:
        """After (re)opening the port: brightness, clear, and every line as it should be."""
        self._sent.clear()
        for address in sorted(set(self.brightness) | set(self._desired)):
            level = self.brightness.get(address, 12)
            if self._request(address, lambda seq: brightness_frame(address, seq, level)) and self._request(
                address, lambda seq: clear_frame(address, seq, ALL_LINES)
            ):
                self._sent[address] = [BLANK] * len(self._desired.get(address, []))
                if address in self._desired:
                    self._send_lines(address, self._desired[address])

    def _probe(self) -> None:
        """While idle: a ping tells whether a silent board is back, or a quiet line is still there."""
        if not self.link.is_open:
            return
        try:
            for address in sorted(set(self.brightness) | set(self._desired)):
                was_silent = address in self._silent
                if self._request(address, lambda seq: ping_frame(address, seq)) and was_silent:
                    self._sent.pop(address, None)
                    if address in self._desired:
                        self._send_lines(address, self._desired[address])
        except LinkDown as exc:
            self._port_down(str(exc))
