"""Ticket and window states, and the transitions between them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class TicketState(str, Enum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    SKIPPED = "skipped"  # 过号
    TRANSFERRED = "transferred"  # event only: the ticket itself goes back to waiting in its new queue
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


OPEN_STATES = frozenset({TicketState.WAITING, TicketState.CALLED, TicketState.SERVING})


class WindowState(str, Enum):
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


class PauseReason(str, Enum):
    """Why a window is paused (暂停原因): shown to the manager, summed in the statistics."""

    AWAY = "away"  # 临时离开 — also what a keypad's pause key and a bare API call mean
    MEETING = "meeting"
    TRAINING = "training"
    MEAL = "meal"
    BACKOFFICE = "backoffice"  # 后台办件: paperwork away from the counter


class Action(str, Enum):
    ISSUE = "issue"
    CALL = "call"
    RECALL = "recall"
    START = "start"
    SKIP = "skip"
    REJOIN = "rejoin"
    TRANSFER = "transfer"
    FINISH = "finish"
    CANCEL = "cancel"
    NO_SHOW = "no_show"


# state before → actions allowed
_ALLOWED: dict[TicketState, frozenset[Action]] = {
    TicketState.WAITING: frozenset({Action.CALL, Action.CANCEL, Action.TRANSFER}),
    TicketState.CALLED: frozenset(
        {Action.RECALL, Action.START, Action.SKIP, Action.FINISH, Action.TRANSFER, Action.NO_SHOW, Action.CANCEL}
    ),
    TicketState.SERVING: frozenset({Action.FINISH, Action.TRANSFER}),
    TicketState.SKIPPED: frozenset({Action.REJOIN, Action.CALL}),
    TicketState.DONE: frozenset(),
    TicketState.CANCELLED: frozenset(),
    TicketState.NO_SHOW: frozenset(),
}

_RESULT: dict[Action, TicketState] = {
    Action.CALL: TicketState.CALLED,
    Action.RECALL: TicketState.CALLED,
    Action.START: TicketState.SERVING,
    Action.SKIP: TicketState.SKIPPED,
    Action.REJOIN: TicketState.WAITING,
    Action.TRANSFER: TicketState.WAITING,
    Action.FINISH: TicketState.DONE,
    Action.CANCEL: TicketState.CANCELLED,
    Action.NO_SHOW: TicketState.NO_SHOW,
}


class InvalidTransition(Exception):
    def __init__(self, state: TicketState, action: Action) -> None:
        self.state, self.action = state, action
        super().__init__(f"{action.value} not allowed from {state.value}")


def transition(state: TicketState, action: Action) -> TicketState:
    if action not in _ALLOWED[state]:
        raise InvalidTransition(state, action)
    return _RESULT[action]


class PriorityKind(str, Enum):
    NONE = "none"
    GREEN = "green"  # 绿色通道
    APPOINTMENT = "appointment"


@dataclass(frozen=True)
class Candidate:
    """A waiting ticket as the call policy sees it."""

    id: int
    number: str
    queue: str
    sort_at: datetime  # place in line (issue time, or adjusted by transfer/rejoin)
    issued_at: datetime
    priority: PriorityKind = PriorityKind.NONE
    priority_detail: str = ""  # e.g. "age:78", "disability", "09:30-10:00"
    slot_start: datetime | None = None
    slot_end: datetime | None = None
