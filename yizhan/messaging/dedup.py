"""Subscriber-side safety for the hall's events (docs/mqtt.md, "For subscribers").

QoS 1 may deliver a message twice, and the server republishes recent events and all
retained state after every reconnect. Every payload carries an `event_id`; a subscriber
wraps its handler with `EventHandler` (or uses `Deduplicator` + `decode_event` itself)
and so sees each event once. Anything that is not a well-formed event for its topic —
not JSON, wrong fields, another hall, too big — is logged once per topic kind and
reason, and dropped; the handler never sees it and nothing crashes.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from typing import Any, Callable, Iterable

from yizhan.messaging import topics
from yizhan.messaging.base import Handler, Message

logger = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 16 * 1024  # the largest real payload (a window state) is well under 2 KiB


class Deduplicator:
    """Remembers the last `capacity` event_ids (bounded memory, oldest forgotten first)."""

    def __init__(self, capacity: int = 10_000, seed: Iterable[str] = ()) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self.dropped = 0
        for event_id in seed:  # e.g. the event_ids of a display's announcement log, after a restart
            self.first_time(event_id)

    def first_time(self, event_id: str) -> bool:
        """True the first time an event_id is seen, False for a repeat."""
        with self._lock:
            if event_id in self._ids:
                self._ids.move_to_end(event_id)
                self.dropped += 1
                return False
            self._ids[event_id] = None
            if len(self._ids) > self.capacity:
                self._ids.popitem(last=False)
            return True

    def __len__(self) -> int:
        return len(self._ids)


# Required fields and their types, per topic kind (payloads in docs/mqtt.md).
_STR, _INT, _OPT_STR = str, int, (str, type(None))
SCHEMAS: dict[str, dict[str, Any]] = {
    "call": {"ticket": _STR, "ticket_id": _INT, "window": _STR, "window_name": _STR, "text": _STR, "recall": _INT},
    "window_state": {"window": _STR, "state": ("open", "paused", "closed"), "ticket": _OPT_STR},
    "queue_state": {"queue": _STR, "waiting": _INT, "estimated_wait_s": _INT, "open": bool},
    "ticket": {"type": ("ahead", "called", "skipped", "done", "transferred", "cancelled", "case_accepted", "case_done", "case_returned"),
               "ticket": _STR},
    "server_status": {"state": ("online", "offline", "stopped")},
    "device_status": {"device": _STR, "state": ("online", "offline"), "parts": dict},
}


def topic_kind(topic: str) -> tuple[str, str] | None:
    """(hall, kind) for a topic of docs/mqtt.md, None for anything else."""
    p = topic.split("/")
    if len(p) < 3 or p[0] != topics.ROOT:
        return None
    hall, rest = p[1], p[2:]
    if rest == ["call"]:
        return hall, "call"
    if rest == ["server", "status"]:
        return hall, "server_status"
    if len(rest) == 3 and rest[0] == "window" and rest[2] == "state":
        return hall, "window_state"
    if len(rest) == 3 and rest[0] == "queue" and rest[2] == "state":
        return hall, "queue_state"
    if len(rest) == 3 and rest[0] == "device" and rest[2] == "status":
        return hall, "device_status"
    if len(rest) == 2 and rest[0] == "ticket":
        return hall, "ticket"
    return None


class _GarbageLog:
    """Logs each kind of garbage once (per topic kind and reason), then only counts it,
    so a misbehaving publisher cannot flood the log."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def report(self, topic: str, reason: str) -> None:
        kind = topic_kind(topic)
        key = (kind[1] if kind else topic, reason)
        with self._lock:
            n = self._seen.get(key, 0) + 1
            self._seen[key] = n
        if n == 1:
            logger.warning("dropped a malformed message on %s: %s (further ones of this kind are only counted)", topic, reason)

    def count(self) -> int:
        return sum(self._seen.values())


garbage = _GarbageLog()


def _check_type(value: Any, rule: Any) -> bool:
    if isinstance(rule, tuple) and rule and all(isinstance(r, str) for r in rule):
        return value in rule  # an enumeration of allowed strings
    if rule is _INT:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, rule)


def decode_event(msg: Message, *, hall: str | None = None, max_bytes: int = MAX_PAYLOAD_BYTES) -> dict | None:
    """The event in `msg`, or None after logging why it was dropped.

    An empty retained payload (a cleared topic) is returned as None without a log line.
    """
    if not msg.payload:
        if not msg.retain:
            garbage.report(msg.topic, "empty payload")
        return None
    if len(msg.payload) > max_bytes:
        garbage.report(msg.topic, f"payload larger than {max_bytes} bytes")
        return None
    kind = topic_kind(msg.topic)
    if kind is None:
        garbage.report(msg.topic, "not a topic of docs/mqtt.md")
        return None
    try:
        text = msg.payload.decode("utf-8")
    except UnicodeDecodeError:
        garbage.report(msg.topic, "not UTF-8")
        return None
    try:
        data = json.loads(text)
    except ValueError:
        garbage.report(msg.topic, "not JSON")
        return None
    if not isinstance(data, dict):
        garbage.report(msg.topic, "not a JSON object")
        return None
    for key in ("event_id", "hall", "at"):
        if key not in data:
            garbage.report(msg.topic, f"missing {key!r}")
            return None
        if not isinstance(data[key], str) or not data[key]:
            garbage.report(msg.topic, f"invalid {key!r}")
            return None
    topic_hall, name = kind
    if data["hall"] != topic_hall or (hall is not None and topic_hall != hall):
        garbage.report(msg.topic, "hall does not match the topic")
        return None
    for key, rule in SCHEMAS[name].items():
        if key not in data:
            garbage.report(msg.topic, f"missing {key!r}")
            return None
        if not _check_type(data[key], rule):
            garbage.report(msg.topic, f"invalid {key!r}")
            return None
    return data


EventCallback = Callable[[Message, dict], None]


class EventHandler:
    """A `Handler` for `Messenger.subscribe` that decodes, validates and de-duplicates,
    then calls `callback(message, event)` once per event_id.

    Share one `Deduplicator` between the subscriptions of a process so an event that
    matches two filters is handled once.
    """

    def __init__(self, callback: EventCallback, *, dedup: Deduplicator | None = None, hall: str | None = None,
                 max_bytes: int = MAX_PAYLOAD_BYTES) -> None:
        self.callback = callback
        self.dedup = dedup if dedup is not None else Deduplicator()
        self.hall = hall
        self.max_bytes = max_bytes

    def __call__(self, msg: Message) -> None:
        event = decode_event(msg, hall=self.hall, max_bytes=self.max_bytes)
        if event is None:
            return
        if not self.dedup.first_time(event["event_id"]):
            logger.debug("dropped a repeat of event %s on %s", event["event_id"], msg.topic)
            return
        self.callback(msg, event)


def event_handler(callback: EventCallback, **kwargs: Any) -> Handler:
    return EventHandler(callback, **kwargs)
