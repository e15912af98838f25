"""An immutable picture of what the TV shows, handed from the message thread to the UI thread."""

from __future__ import annotations

from dataclasses import dataclass

from display_board.model import Call, HallView, QueueState


@dataclass(frozen=True)
class Snapshot:
    hall_name: str
    notice: str
    recent: tuple[Call, ...]  # newest first; recent[0] is the current call
    queues: tuple[QueueState, ...]
    by_name: bool
    connected: bool = True
    server_state: str = ""

    @property
    def current(self) -> Call | None:
        return self.recent[0] if self.recent else None


def snapshot(view: HallView, *, hall_name: str, notice: str, history: int, by_name: bool, connected: bool) -> Snapshot:
    return Snapshot(
        hall_name=hall_name,
        notice=notice,
        recent=tuple(view.recent(history + 1)),
        queues=tuple(view.queue_list()),
        by_name=by_name,
        connected=connected,
        server_state=view.server_state,
    )
