"""In-process messenger: same semantics as MQTT (retained messages, wildcards), no broker."""

from __future__ import annotations

import threading

from yizhan.messaging.base import Handler, Message, Messenger, topic_matches


class MemoryBus:
    """Plays the broker for several MemoryMessengers in one process."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._retained: dict[str, Message] = {}
        self._subs: list[tuple[str, Handler]] = []
        self.log: list[Message] = []

    def publish(self, msg: Message) -> None:
        with self._lock:
            self.log.append(msg)
            if msg.retain:
                if msg.payload:
                    self._retained[msg.topic] = msg
                else:
                    self._retained.pop(msg.topic, None)
            targets = [h for f, h in self._subs if topic_matches(f, msg.topic)]
        for h in targets:
            h(msg)

    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        with self._lock:
            self._subs.append((topic_filter, handler))
            retained = [m for t, m in self._retained.items() if topic_matches(topic_filter, t)]
        for m in retained:
            handler(m)


class MemoryMessenger(Messenger):
    def __init__(self, bus: MemoryBus | None = None) -> None:
        super().__init__()
        self.bus = bus or MemoryBus()
        self._running = False

    def publish(self, topic: str, payload: bytes, *, retain: bool = False, qos: int = 1, timeout: float = 5.0) -> None:
        self.bus.publish(Message(topic, payload, retain, qos))

    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        self.bus.subscribe(topic_filter, handler)

    def start(self) -> None:
        self._running = True
        for cb in list(self._connect_callbacks):
            cb()

    def stop(self) -> None:
        self._running = False

    @property
    def connected(self) -> bool:
        return self._running
