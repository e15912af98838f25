"""The statements of the hot path (call, finish, issue), built once with bound parameters.

Building a SQLAlchemy expression costs more Python time than SQLite takes to run it, and the
writer lock is held meanwhile; a statement built once is only looked up in the compiled cache.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import Select, bindparam, select, union_all, update

from queue_server.db.tables import Counter, Ticket, WindowRow
from queue_server.domain.model import PriorityKind, TicketState, WindowState

_WAITING = TicketState.WAITING.value


@cache
def window_row(for_update: bool) -> Select:
    stmt = select(WindowRow).where(WindowRow.id == bindparam("window_id"))
    return stmt.with_for_update() if for_update else stmt


@cache
def counters(queue_ids: tuple[str, ...], for_update: bool) -> Select:
    """The day's counters of these queues in queue order (PostgreSQL locks them in that order)."""
    stmt = select(Counter).where(Counter.day == bindparam("day"), Counter.queue.in_(queue_ids)).order_by(Counter.queue)
    return stmt.with_for_update() if for_update else stmt


OPEN_WINDOWS = select(WindowRow.id).where(WindowRow.state == WindowState.OPEN.value)

RECENT_SERVICE = (
    select(Ticket.called_at, Ticket.finished_at)
    .where(Ticket.day == bindparam("day"), Ticket.queue == bindparam("queue"), Ticket.state == TicketState.DONE.value)
    .order_by(Ticket.finished_at.desc())
    .limit(20)
)

# The first waiting tickets of a queue in line order (priority first, then place).
LINE = (
    select(Ticket)
    .where(Ticket.day == bindparam("day"), Ticket.queue == bindparam("queue"), Ticket.state == _WAITING)
    .order_by(Ticket.priority, Ticket.sort_at, Ticket.id)
    .limit(bindparam("n"))
)


@cache
def heads(queue_ids: tuple[str, ...]) -> Select:
    """Per queue: the longest-waiting normal and green-channel tickets and the first 20
    appointments, in one statement (one indexed LIMIT look-up per part)."""
    parts = []
    for q in queue_ids:
        for kind, n in ((PriorityKind.NONE, 1), (PriorityKind.GREEN, 1), (PriorityKind.APPOINTMENT, 20)):
            part = (
                select(Ticket.id)
                .where(Ticket.day == bindparam("day"), Ticket.queue == q, Ticket.state == _WAITING, Ticket.priority == kind.value)
                .order_by(Ticket.sort_at, Ticket.id)
                .limit(n)
                .subquery()
            )
            parts.append(select(part.c.id))
    return select(Ticket).where(Ticket.id.in_(union_all(*parts)))


# The conditional update that makes a call atomic across windows and servers: if another
# window took the ticket first, no row comes back and the window chooses again.
CALL_IF_WAITING = (
    update(Ticket)
    .where(Ticket.id == bindparam("ticket_id"), Ticket.state == _WAITING)
    .values(state=TicketState.CALLED.value, called_at=bindparam("now"), window=bindparam("window_id"), clerk=bindparam("clerk_name"))
    .returning(Ticket)
)
