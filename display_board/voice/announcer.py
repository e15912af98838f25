"""The one announcement queue: calls are spoken in arrival order, one at a time, none dropped.

A call arriving while the voice is busy waits its turn; a recall is a new call
and is spoken again. A broken engine or speaker is logged once (and once when
it works again); the calls keep flowing to the other outputs.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable

from display_board.announcements import AnnouncementLog
from display_board.model import Call
from display_board.voice import audio
from display_board.voice.engines import Voice, VoiceUnavailable
from display_board.voice.player import AudioOutput, PlayerError

logger = logging.getLogger(__name__)

_STOP = object()


class Announcer:
    def __init__(
        self,
        voice: Voice | None,
        output: AudioOutput,
        log: AnnouncementLog,
        on_health: Callable[[bool, str], None] = lambda ok, detail: None,
        problem: str = "",
    ) -> None:
        self.voice = voice
        self.output = output
        self.log = log
        self._on_health = on_health
        self._queue: queue.Queue = queue.Queue()
        self._busy = False
        self._thread: threading.Thread | None = None
        self._problem = problem  # the current fault, logged once
        self.spoken = 0

    @property
    def healthy(self) -> bool:
        return not self._problem

    @property
    def problem(self) -> str:
        return self._problem

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="announcer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._queue.put(_STOP)
        if self._thread:
            self._thread.join(timeout)

    def put(self, call: Call) -> None:
        self._queue.put(call)

    def idle(self) -> bool:
        return self._queue.empty() and not self._busy

    def _fault(self, detail: str) -> None:
        if detail != self._problem:
            logger.error("voice: %s", detail)
            self._problem = detail
            self._on_health(False, detail)

    def _recovered(self) -> None:
        if self._problem:
            logger.info("voice works again")
            self._problem = ""
            self._on_health(True, "")

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            self._busy = True
            try:
                self._say(item)
            except Exception:  # the queue must outlive any bug in one announcement
                logger.exception("voice: announcing %s failed", item.ticket)
            finally:
                self._busy = False

    def _say(self, call: Call) -> None:
        if self.voice is None:
            return
        try:
            samples = self.voice.render(call.ticket, call.window_spoken)
        except VoiceUnavailable as exc:
            self._fault(str(exc))
            return
        started = time.monotonic()
        self.log.record(
            "voice", event_id=call.event_id, ticket=call.ticket, window=call.window, recall=call.recall,
            duration_s=round(audio.duration(samples), 2),
        )
        try:
            where = self.output.play(samples, call.ticket)
        except PlayerError as exc:
            # The start was logged; say in the proof that it did not sound.
            self.log.record("voice_failed", event_id=call.event_id, ticket=call.ticket, window=call.window, recall=call.recall)
            self._fault(str(exc))
            return
        self.spoken += 1
        self._recovered()
        logger.debug("voice: %s to %s in %.2fs", call.ticket, where, time.monotonic() - started)
