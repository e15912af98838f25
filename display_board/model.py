"""What the hall shows, built from the server's messages (pure: topic + bytes in, updates out).

The model never trusts a payload: garbage, wrong types and foreign halls raise
`BadMessage`; unknown fields are ignored so a newer server can add some.
Repeated `event_id`s are dropped (the broker delivers QoS 1 at least once).
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from yizhan.messaging.dedup import Deduplicator


class BadMessage(ValueError):
    """A message the display cannot use; the text says why (logged, never shown)."""


@dataclass(frozen=True)
class Call:
    event_id: str
    ticket: str
    window: str
    window_name: str
    window_spoken: str
    text: str
    recall: int = 0
    queue: str = ""
    service: str = ""
    service_name: str = ""
    ticket_id: int | None = None
    masked_name: str = ""
    at: datetime | None = None
    from_state: bool = False  # rebuilt from a retained window state, never announced


@dataclass(frozen=True)
class WindowState:
    window: str
    window_name: str
    state: str  # open | paused | closed
    ticket: str | None
    ticket_state: str | None
    queues: tuple[str, ...] = ()
    at: datetime | None = None
    event_id: str = ""

    @property
    def idle(self) -> bool:
        return self.state == "open" and not self.ticket


@dataclass(frozen=True)
class QueueState:
    queue: str
    name: str
    waiting: int
    estimated_wait_s: int
    open: bool


@dataclass(frozen=True)
class CallUpdate:
    call: Call


@dataclass(frozen=True)
class WindowUpdate:
    window: WindowState


@dataclass(frozen=True)
class QueueUpdate:
    queue: QueueState


@dataclass(frozen=True)
class ServerUpdate:
    state: str


Update = CallUpdate | WindowUpdate | QueueUpdate | ServerUpdate

WINDOW_STATES = ("open", "paused", "closed")


def _object(payload: bytes) -> dict[str, Any]:
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadMessage(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadMessage(f"not a JSON object but {type(data).__name__}")
    return data


def _str(data: dict, key: str, *, required: bool = False, default: str = "", max_len: int = 200) -> str:
    value = data.get(key)
    if value is None:
        if required:
            raise BadMessage(f"missing {key}")
        return default
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise BadMessage(f"{key} is {type(value).__name__}, expected a string")
    value = str(value).strip()
    if required and not value:
        raise BadMessage(f"{key} is empty")
    if len(value) > max_len:
        raise BadMessage(f"{key} longer than {max_len}")
    return value


def _int(data: dict, key: str, default: int | None = 0) -> int | None:
    value = data.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadMessage(f"{key} is {type(value).__name__}, expected an integer")
    return value


def _time(data: dict) -> datetime | None:
    value = data.get("at")
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else None


def parse_call(data: dict[str, Any]) -> Call:
    window = _str(data, "window", required=True, max_len=8)
    window_name = _str(data, "window_name", default=f"{window.lstrip('0') or '0'}号窗口", max_len=40)
    recall = _int(data, "recall") or 0
    if recall < 0:
        raise BadMessage("recall is negative")
    return Call(
        event_id=_str(data, "event_id", required=True, max_len=64),
        ticket=_str(data, "ticket", required=True, max_len=12),
        window=window,
        window_name=window_name,
        window_spoken=_str(data, "window_spoken", default=window_name, max_len=40),
        text=_str(data, "text", max_len=200),
        recall=recall,
        queue=_str(data, "queue", max_len=8),
        service=_str(data, "service", max_len=64),
        service_name=_str(data, "service_name", max_len=80),
        ticket_id=_int(data, "ticket_id", None),
        masked_name=_str(data, "masked_name", max_len=16),
        at=_time(data),
    )


def parse_window(data: dict[str, Any], window_from_topic: str) -> WindowState:
    window = _str(data, "window", default=window_from_topic, max_len=8)
    if window != window_from_topic:
        raise BadMessage(f"window {window!r} published on the topic of window {window_from_topic!r}")
    state = _str(data, "state", required=True)
    if state not in WINDOW_STATES:
        raise BadMessage(f"unknown window state {state!r}")
    queues = data.get("queues") or []
    if not isinstance(queues, list) or not all(isinstance(q, str) for q in queues):
        raise BadMessage("queues is not a list of strings")
    ticket = _str(data, "ticket", max_len=12) or None
    ticket_state = _str(data, "ticket_state", max_len=16) or None
    return WindowState(
        window=window,
        window_name=_str(data, "window_name", default=f"{window.lstrip('0') or '0'}号窗口", max_len=40),
        state=state,
        ticket=ticket,
        ticket_state=ticket_state if ticket else None,
        queues=tuple(queues),
        at=_time(data),
        event_id=_str(data, "event_id", max_len=64),
    )


def parse_queue(data: dict[str, Any], queue_from_topic: str) -> QueueState:
    queue = _str(data, "queue", default=queue_from_topic, max_len=8)
    if queue != queue_from_topic:
        raise BadMessage(f"queue {queue!r} published on the topic of queue {queue_from_topic!r}")
    waiting = _int(data, "waiting")
    if waiting is None or waiting < 0:
        raise BadMessage("waiting must be a count ≥ 0")
    open_ = data.get("open", True)
    if not isinstance(open_, bool):
        raise BadMessage("open is not true/false")
    return QueueState(
        queue=queue,
        name=_str(data, "name", default=queue, max_len=40),
        waiting=waiting,
        estimated_wait_s=max(0, _int(data, "estimated_wait_s") or 0),
        open=open_,
    )


@dataclass
class HallView:
    """The state every output renders: recent calls, windows, queue counts."""

    hall: str
    history: int = 8
    queues_shown: frozenset[str] = frozenset()  # empty = every queue
    calls: deque[Call] = field(default_factory=deque)  # newest first
    windows: dict[str, WindowState] = field(default_factory=dict)
    queues: dict[str, QueueState] = field(default_factory=dict)
    server_state: str = ""
    seen: Deduplicator = field(default_factory=lambda: Deduplicator(20_000))

    def apply(self, topic: str, payload: bytes | dict) -> Update | None:
        """Applies one message; None when it changes nothing (a repeat, another queue).
        Raises BadMessage for anything unusable."""
        prefix = f"yizhan/{self.hall}/"
        if not topic.startswith(prefix):
            raise BadMessage(f"topic {topic!r} is not under {prefix}")
        parts = topic[len(prefix) :].split("/")
        data = payload if isinstance(payload, dict) else _object(payload)
        hall = data.get("hall", self.hall)
        if hall != self.hall:
            raise BadMessage(f"message of hall {hall!r} on hall {self.hall!r}")
        event_id = data.get("event_id")
        if parts == ["call"]:
            call = parse_call(data)
            if not self.seen.first_time(call.event_id):
                return None
            if self.queues_shown and call.queue and call.queue not in self.queues_shown:
                return None
            self.calls.appendleft(call)
            while len(self.calls) > max(self.history, 1) * 4:
                self.calls.pop()
            return CallUpdate(call)
        if len(parts) == 3 and parts[0] == "window" and parts[2] == "state":
            ws = parse_window(data, parts[1])
            if ws.event_id and not self.seen.first_time(ws.event_id):
                return None
            self.windows[ws.window] = ws
            return WindowUpdate(ws)
        if len(parts) == 3 and parts[0] == "queue" and parts[2] == "state":
            qs = parse_queue(data, parts[1])
            if isinstance(event_id, str) and event_id and not self.seen.first_time(event_id):
                return None
            if self.queues_shown and qs.queue not in self.queues_shown:
                return None
            self.queues[qs.queue] = qs
            return QueueUpdate(qs)
        if parts == ["server", "status"]:
            state = _str(data, "state", required=True)
            self.server_state = state
            return ServerUpdate(state)
        raise BadMessage(f"topic {topic!r} is not one the display reads")

    @property
    def current(self) -> Call | None:
        recent = self.recent(1)
        return recent[0] if recent else None

    def recent(self, n: int | None = None) -> list[Call]:
        """The latest calls, newest first, one per ticket. Windows whose retained state
        shows a ticket no received call explains (a display started mid-day) add an
        entry, so a rebooted display shows the right numbers at once."""
        n = self.history if n is None else n
        out: list[Call] = []
        seen_tickets: set[str] = set()
        for call in self.calls:
            if call.ticket not in seen_tickets:
                seen_tickets.add(call.ticket)
                out.append(call)
        for ws in self.windows.values():
            if ws.ticket and ws.ticket not in seen_tickets and ws.state != "closed":
                if self.queues_shown and ws.ticket[:1] not in self.queues_shown:
                    continue
                seen_tickets.add(ws.ticket)
                out.append(
                    Call(
                        event_id=ws.event_id, ticket=ws.ticket, window=ws.window, window_name=ws.window_name,
                        window_spoken=ws.window_name, text="", at=ws.at, from_state=True,
                    )
                )
        # Received calls keep arrival order; rebuilt ones slot in by their time.
        received = [c for c in out if not c.from_state]
        rebuilt = sorted((c for c in out if c.from_state), key=lambda c: c.at or datetime.min.astimezone(), reverse=True)
        merged = received + rebuilt if received else rebuilt
        return merged[:n]

    def queue_list(self) -> list[QueueState]:
        return [self.queues[q] for q in sorted(self.queues)]

    def sorted_windows(self) -> Iterable[WindowState]:
        return (self.windows[w] for w in sorted(self.windows))
