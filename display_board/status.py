"""The display's own `device/<id>/status` (retained; the broker publishes the last will `offline`)."""

from __future__ import annotations

import logging
import threading

from yizhan.clock import Clock
from yizhan.messaging import topics
from yizhan.messaging.base import Messenger, PublishError
from yizhan.messaging.factory import device_status_payload

logger = logging.getLogger(__name__)

KIND = "display"


class StatusReporter:
    """Collects each output's health and publishes it when it changes and after every connect.
    Publishing happens on its own thread: an output never waits for the broker."""

    def __init__(self, messenger: Messenger, hall: str, device: str, clock: Clock) -> None:
        self.messenger = messenger
        self.hall = hall
        self.device = device
        self.clock = clock
        self.parts: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="display-status", daemon=True)
        self.published = 0

    def set(self, part: str, ok: bool, detail: str = "") -> None:
        with self._lock:
            new = {"ok": ok, "detail": detail}
            if self.parts.get(part) == new:
                return
            self.parts[part] = new
        self._dirty.set()

    def start(self) -> None:
        self.messenger.on_connect(self._dirty.set)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._dirty.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._dirty.wait()
            if self._stop.is_set():
                return
            self._dirty.clear()
            with self._lock:
                parts = {k: dict(v) for k, v in self.parts.items()}
            if not self.messenger.connected:
                continue  # the connect callback sets dirty again
            try:
                self.messenger.publish(
                    topics.device_status(self.hall, self.device),
                    device_status_payload(self.hall, self.device, KIND, "online", parts, self.clock),
                    retain=True,
                )
                self.published += 1
            except PublishError as exc:
                logger.warning("device status not published: %s", exc)
                self._stop.wait(1.0)
                self._dirty.set()

    def publish_offline(self) -> None:
        """On a clean stop: the broker sends no will then, so say it ourselves."""
        try:
            self.messenger.publish(
                topics.device_status(self.hall, self.device),
                device_status_payload(self.hall, self.device, KIND, "offline", {}, self.clock),
                retain=True, timeout=2.0,
            )
        except PublishError:
            pass
