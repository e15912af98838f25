"""What business code may ask of the hall's message bus.

Implementations: `memory.MemoryMessenger` (in-process, for tests of business code)
and the MQTT one (paho-mqtt 2.x) used by every process in the hall.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    retain: bool = False
    qos: int = 1


Handler = Callable[[Message], None]


class Messenger(ABC):
    def __init__(self) -> None:
        self._connect_callbacks: list[Callable[[], None]] = []

    @abstractmethod
    def publish(self, topic: str, payload: bytes, *, retain: bool = False, qos: int = 1, timeout: float = 5.0) -> None:
        """Publishes and waits for the broker's acknowledgement (QoS 1);
        raises `PublishError` when it is not acknowledged within `timeout`."""

    @abstractmethod
    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        """Calls `handler` for every message on `topic_filter` (MQTT wildcards allowed),
        also after reconnects. Handlers run on the messenger's thread: keep them short."""

    def on_connect(self, callback: Callable[[], None]) -> None:
        """Called after every (re)connect, e.g. to republish retained state."""
        self._connect_callbacks.append(callback)

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def stop(self) -> None: ...

    @property
    @abstractmethod
    def connected(self) -> bool: ...


class PublishError(Exception):
    """A message was not acknowledged by the broker."""


def topic_matches(topic_filter: str, topic: str) -> bool:
    """MQTT wildcard matching (+ one level, # the rest)."""
    f_parts = topic_filter.split("/")
    t_parts = topic.split("/")
    for i, f in enumerate(f_parts):
        if f == "#":
            return True
        if i >= len(t_parts):
            return False
        if f != "+" and f != t_parts[i]:
            return False
    return len(f_parts) == len(t_parts)
