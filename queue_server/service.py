"""The hall's commands. Each runs in one database transaction that changes state,
records the transition in `ticket_events` and writes its outgoing events to the outbox."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from yizhan.clock import Clock
from yizhan.config.model import HallConfig
from yizhan.i18n import t

from queue_server import queries
from queue_server.db.engine import Database
from queue_server.db.tables import (
    Appointment,
    Case,
    Counter,
    DeviceStatus,
    Followup,
    Rating,
    Ticket,
    TicketEvent,
    WindowLog,
    WindowRow,
)
from queue_server.domain.hours import issuing_open, next_working_day
from queue_server.domain.issuing import PersonCounts, check_issue, ticket_number
from queue_server.domain.model import (
    OPEN_STATES,
    Action,
    Candidate,
    InvalidTransition,
    PauseReason,
    PriorityKind,
    TicketState,
    WindowState,
    transition,
)
from queue_server.domain.policy import Choice, choose_next
from queue_server.domain.wait import estimated_wait_s, service_time_estimate
from queue_server.events import Emitter, pending

logger = logging.getLogger(__name__)


class CommandError(Exception):
    """A refused command: HTTP status, a stable code and a Chinese message a clerk understands."""

    def __init__(self, status: int, code: str, message: str | None = None, **params: object) -> None:
        self.status = status
        self.code = code
        self.params = params
        self.message = message or t(f"error.{code}", **params)
        super().__init__(self.message)


@dataclass
class IdentityIn:
    """What a kiosk sends about a person: never a full ID number or name."""

    id_hash: str
    masked_id: str = ""
    masked_name: str = ""
    age: int | None = None
    card_type: str = "resident"
    categories: list[str] = field(default_factory=list)


@dataclass
class Actor:
    role: str
    name: str = ""
    window: str | None = None


def _lock(stmt, db: Database):  # type: ignore[no-untyped-def]
    # SQLite's BEGIN IMMEDIATE already serializes writers; PostgreSQL needs row locks.
    return stmt if db.is_sqlite else stmt.with_for_update()


class HallService:
    def __init__(self, cfg: HallConfig, db: Database, clock: Clock) -> None:
        self.cfg = cfg
        self.db = db
        self.clock = clock

    # ---- basics ------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock.now()

    def today(self, now: datetime | None = None) -> date:
        return (now or self.now()).astimezone(self.clock.tz).date()

    def ensure_windows(self) -> None:
        """Creates the live-state row of every configured window (closed until a clerk opens it)."""
        with self.db.write() as s:
            have = set(s.scalars(select(WindowRow.id)))
            for w in self.cfg.windows:
                if w.id not in have:
                    s.add(WindowRow(id=w.id, state=WindowState.CLOSED.value, updated_at=self.now()))

    def reload_config(self, cfg: HallConfig) -> None:
        """A live configuration change: new windows get their rows, and every queue's retained
        state is published again (hours or caps may have opened or closed a queue)."""
        self.cfg = cfg
        self.ensure_windows()
        with self.db.write() as s:
            now = self.now()
            day = self.today(now)
            self._lock_counters(s, day, [q.id for q in cfg.queues])
            em = Emitter(s, cfg, now)
            for q in sorted(q.id for q in cfg.queues):
                self._queue_changed(s, em, q, day)

    # ---- reading -----------------------------------------------------------------------------
    def get_ticket(self, ticket_id: int) -> Ticket:
        with self.db.read() as s:
            ticket = s.get(Ticket, ticket_id)
            if ticket is None:
                raise CommandError(404, "ticket_not_found", id=ticket_id)
            return ticket

    def ticket_by_token(self, token: str) -> Ticket | None:
        with self.db.read() as s:
            return s.scalar(select(Ticket).where(Ticket.token == token))

    def ticket_history(self, ticket_id: int) -> list[TicketEvent]:
        with self.db.read() as s:
            return list(s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)))

    def windows_live(self) -> list[tuple[WindowRow, Ticket | None]]:
        with self.db.read() as s:
            rows = {r.id: r for r in s.scalars(select(WindowRow))}
            out = []
            for w in self.cfg.windows:
                row = rows.get(w.id) or WindowRow(id=w.id, state="closed")
                cur = s.get(Ticket, row.ticket_id) if row.ticket_id else None
                out.append((row, cur))
            return out

    def queues_live(self) -> list[dict]:
        now = self.now()
        day = self.today(now)
        with self.db.read() as s:
            return [self._queue_snapshot(s, q.id, day, now) for q in self.cfg.queues]

    def _queue_snapshot(self, s: Session, queue_id: str, day: date, now: datetime) -> dict:
        q = self.cfg.queue(queue_id)
        counter = s.get(Counter, (day, queue_id))
        waiting = counter.waiting if counter else 0
        issued = counter.last_seq if counter else 0
        return {
            "queue": queue_id,
            "waiting": waiting,
            "issued": issued,
            "estimated_wait_s": self._estimate(s, queue_id, day, waiting),
            "open": issuing_open(q.hours, now, self.cfg.calendar).open,
        }

    # ---- estimates ---------------------------------------------------------------------------
    def _open_capacity(self, s: Session, queue_id: str) -> float:
        """Open windows serving the queue, each counted by the weight share it gives this queue."""
        open_ids = s.info.get("open_windows")  # one look-up per transaction
        if open_ids is None:
            open_ids = s.info["open_windows"] = set(s.scalars(queries.OPEN_WINDOWS))
        share = 0.0
        for w in self.cfg.windows_for_queue(queue_id):
            if w.id in open_ids:
                share += w.queues[queue_id] / sum(w.queues.values())
        return share

    def _service_time(self, s: Session, queue_id: str, day: date) -> float:
        cache = s.info.setdefault("service_time", {})  # one look-up per queue per transaction
        if queue_id in cache:
            return cache[queue_id]
        rows = s.execute(queries.RECENT_SERVICE, {"day": day, "queue": queue_id}).all()
        durations = [(f - c).total_seconds() for c, f in rows if c and f]
        cache[queue_id] = service_time_estimate(durations, self.cfg.policy.service_time_default_s)
        return cache[queue_id]

    def _estimate(self, s: Session, queue_id: str, day: date, ahead: int) -> int:
        return estimated_wait_s(ahead, self._open_capacity(s, queue_id), self._service_time(s, queue_id, day))

    # ---- events helpers ----------------------------------------------------------------------
    def _event(self, s: Session, ticket: Ticket, action: Action, now: datetime, actor: Actor | None, **detail: object) -> None:
        pending(s, "yz_pending_events").append(
            dict(
                ticket_id=ticket.id,
                day=ticket.day,
                action=action.value,
                state=ticket.state,
                at=now,
                queue=ticket.queue,
                window=ticket.window,
                clerk=actor.name if actor and actor.role in ("clerk", "admin", "device") else None,
                detail=dict(detail),
            )
        )

    def _counter(self, s: Session, day: date, queue_id: str) -> Counter:
        locked = s.info.get("counters", {})  # locked once per transaction, then reused
        if (day, queue_id) not in locked:
            self._lock_counters(s, day, [queue_id])
        return s.info["counters"][(day, queue_id)]

    def _lock_counters(self, s: Session, day: date, queue_ids) -> None:  # type: ignore[no-untyped-def]
        """Lock order, everywhere: window row, then queue counters in sorted order, then tickets.
        (PostgreSQL would otherwise deadlock two commands that touch the same queue.)"""
        locked = s.info.setdefault("counters", {})
        wanted = tuple(sorted(q for q in set(queue_ids) if (day, q) not in locked))
        if not wanted:
            return
        for counter in s.scalars(queries.counters(wanted, not self.db.is_sqlite), {"day": day}):
            locked[(day, counter.queue)] = counter
        missing = [q for q in wanted if (day, q) not in locked]
        for q in missing:  # the queue's first ticket of the day
            locked[(day, q)] = Counter(day=day, queue=q, last_seq=0, waiting=0)
            s.add(locked[(day, q)])
        if missing:
            s.flush()

    def _line(self, s: Session, day: date, queue_id: str, limit: int) -> list[Ticket]:
        """The first `limit` waiting tickets of a queue in line order (priority first, then place)."""
        return list(s.scalars(queries.LINE, {"day": day, "queue": queue_id, "n": limit}))

    def _queue_changed(self, s: Session, em: Emitter, queue_id: str, day: date) -> None:
        """Publishes the queue's state and 'N ahead' to the first few tickets whose count changed."""
        counter = self._counter(s, day, queue_id)
        q = self.cfg.queue(queue_id)
        em.queue_state(queue_id, counter.waiting, self._estimate(s, queue_id, day, counter.waiting), issuing_open(q.hours, em.now, self.cfg.calendar).open)
        places = self.cfg.policy.ahead_notify_places
        if places <= 0:
            return
        for ahead, ticket in enumerate(self._line(s, day, queue_id, places)):
            if ticket.last_ahead_sent != ahead:
                ticket.last_ahead_sent = ahead
                em.ticket_event(ticket, "ahead", ahead=ahead)

    def _ahead_of(self, s: Session, ticket: Ticket) -> int:
        """Waiting tickets of the same queue that stand before this one in line (priority first, then place)."""
        if ticket.state != TicketState.WAITING.value:
            return 0
        return s.scalar(
            select(func.count()).select_from(Ticket).where(
                Ticket.day == ticket.day,
                Ticket.queue == ticket.queue,
                Ticket.state == TicketState.WAITING.value,
                (Ticket.priority < ticket.priority)
                | (
                    (Ticket.priority == ticket.priority)
                    & ((Ticket.sort_at < ticket.sort_at) | ((Ticket.sort_at == ticket.sort_at) & (Ticket.id < ticket.id)))
                ),
            )
        ) or 0

    def ticket_position(self, ticket_id: int) -> tuple[Ticket, int, int]:
        """A ticket with how many stand before it and its estimated wait (for kiosk and phone page)."""
        with self.db.read() as s:
            ticket = s.get(Ticket, ticket_id)
            if ticket is None:
                raise CommandError(404, "ticket_not_found", id=ticket_id)
            ahead = self._ahead_of(s, ticket)
            return ticket, ahead, self._estimate(s, ticket.queue, ticket.day, ahead) if ahead else 0

    # ---- issuing -----------------------------------------------------------------------------
    def issue_ticket(
        self,
        service_code: str,
        idempotency_key: str | None,
        identity: IdentityIn | None,
        source: str = "kiosk",
        appointment: Appointment | None = None,
    ) -> tuple[Ticket, int, int, bool]:
        """Returns (ticket, ahead, estimated wait s, created). A repeated idempotency key returns the same ticket."""
        try:
            service = self.cfg.service(service_code)
        except StopIteration:
            raise CommandError(404, "unknown_service", service_code=service_code) from None
        queue = self.cfg.queue(service.queue)
        with self.db.write() as s:
            if idempotency_key:
                existing = s.scalar(select(Ticket).where(Ticket.idempotency_key == idempotency_key))
                if existing is not None:
                    if existing.service != service_code:
                        raise CommandError(409, "idempotency_conflict")
                    ahead = self._ahead_of(s, existing)
                    return existing, ahead, self._estimate(s, existing.queue, existing.day, ahead), False
            now = self.now()
            day = self.today(now)
            counter = self._counter(s, day, queue.id)
            person = None
            if identity is not None:
                today_count = s.scalar(select(func.count()).select_from(Ticket).where(Ticket.day == day, Ticket.id_hash == identity.id_hash)) or 0
                open_in_queue = s.scalar(
                    select(func.count()).select_from(Ticket).where(
                        Ticket.day == day,
                        Ticket.id_hash == identity.id_hash,
                        Ticket.queue == queue.id,
                        Ticket.state.in_([st.value for st in OPEN_STATES]),
                    )
                ) or 0
                person = PersonCounts(today=today_count, open_in_queue=open_in_queue)
            refusal = check_issue(service, queue, self.cfg.policy, now, counter.last_seq, person, cal=self.cfg.calendar)
            if refusal is not None:
                status = 409 if refusal.code in ("open_ticket_exists", "per_person_limit", "daily_cap_reached", "queue_closed", "hall_closed_day") else 422
                raise CommandError(status, refusal.code, refusal.message())
            counter.last_seq += 1
            counter.waiting += 1
            priority, detail = self._priority(identity, appointment)
            ticket = Ticket(
                day=day,
                queue=queue.id,
                seq=counter.last_seq,
                number=ticket_number(queue, counter.last_seq),
                service=service.code,
                state=TicketState.WAITING.value,
                priority=priority.value,
                priority_detail=detail,
                appointment_id=appointment.id if appointment else None,
                issued_at=now,
                sort_at=now,
                token=secrets.token_urlsafe(16),
                id_hash=identity.id_hash if identity else None,
                masked_id=identity.masked_id if identity else "",
                masked_name=identity.masked_name if identity else "",
                source=source,
                idempotency_key=idempotency_key,
            )
            s.add(ticket)
            s.flush()
            self._event(s, ticket, Action.ISSUE, now, None, source=source, priority=priority.value)
            em = Emitter(s, self.cfg, now)
            self._queue_changed(s, em, queue.id, day)
            # A new normal ticket is last in line: everyone else waiting is ahead (O(1) from the counter).
            ahead = counter.waiting - 1 if priority is PriorityKind.NONE else self._ahead_of(s, ticket)
            return ticket, ahead, self._estimate(s, queue.id, day, ahead), True

    def _priority(self, identity: IdentityIn | None, appointment: Appointment | None) -> tuple[PriorityKind, str]:
        if appointment is not None:
            return PriorityKind.APPOINTMENT, f"{appointment.slot_start.astimezone(self.clock.tz):%H:%M}"
        if identity is None:
            return PriorityKind.NONE, ""
        green = self.cfg.policy.green_channel
        if "elderly" in green.categories and identity.age is not None and identity.age >= green.min_age:
            return PriorityKind.GREEN, f"elderly:{identity.age}"
        for cat in identity.categories:
            if cat in green.categories and cat != "elderly":
                return PriorityKind.GREEN, f"{cat}:"
        return PriorityKind.NONE, ""

    # ---- windows -----------------------------------------------------------------------------
    def _window(self, s: Session, window_id: str) -> WindowRow:
        try:
            self.cfg.window(window_id)
        except StopIteration:
            raise CommandError(404, "unknown_window", window=window_id) from None
        row = s.scalar(queries.window_row(not self.db.is_sqlite), {"window_id": window_id})
        if row is None:
            row = WindowRow(id=window_id, state=WindowState.CLOSED.value, updated_at=self.now())
            s.add(row)
            s.flush()
        return row

    def _current(self, s: Session, row: WindowRow, day: date) -> Ticket | None:
        if row.ticket_id is None:
            return None
        ticket = s.get(Ticket, row.ticket_id)
        if ticket is None or ticket.day != day or ticket.state not in (TicketState.CALLED.value, TicketState.SERVING.value):
            return None
        return ticket

    def set_window_state(self, window_id: str, state: WindowState, actor: Actor, reason: str | None = None) -> WindowRow:
        """`reason`: why a window pauses (PauseReason; 临时离开 when none is given)."""
        if state is WindowState.PAUSED:
            try:
                reason = PauseReason(reason or PauseReason.AWAY.value).value
            except ValueError:
                raise CommandError(422, "unknown_pause_reason", reason=reason,
                                   reasons="、".join(t(f"pause.{r.value}") for r in PauseReason)) from None
        else:
            reason = None
        with self.db.write() as s:
            now = self.now()
            day = self.today(now)
            row = self._window(s, window_id)
            self._lock_counters(s, day, self.cfg.window(window_id).queues)
            current = self._current(s, row, day)
            if state is WindowState.CLOSED and current is not None:
                raise CommandError(409, "window_busy_close", number=current.number)
            if (row.state, row.pause_reason) != (state.value, reason):
                # the same state twice (a double tap, a keypad retry) is not a new period
                row.state_since = now
                s.add(WindowLog(day=day, window=window_id, state=state.value, reason=reason,
                                clerk=actor.name if actor.role == "clerk" else row.clerk, at=now))
            row.state = state.value
            row.pause_reason = reason
            row.updated_at = now
            if state is WindowState.OPEN and actor.role == "clerk":
                row.clerk = actor.name or row.clerk
            if state is WindowState.CLOSED:
                row.clerk = None
            em = Emitter(s, self.cfg, now)
            em.window_state(row, current)
            # Open windows change every waiting estimate of the queues they serve.
            for q in sorted(self.cfg.window(window_id).queues):
                self._queue_changed(s, em, q, day)
            return row

    def _heads(self, s: Session, day: date, queue_ids: list[str]) -> list[Candidate]:
        tickets = list(s.scalars(queries.heads(tuple(queue_ids)), {"day": day}))
        appt_ids = [t_.appointment_id for t_ in tickets if t_.appointment_id]
        appts = {a.id: a for a in s.scalars(select(Appointment).where(Appointment.id.in_(appt_ids)))} if appt_ids else {}
        return [self._candidate(t_, appts.get(t_.appointment_id or 0)) for t_ in tickets]

    def _candidate(self, t_: Ticket, appt: Appointment | None) -> Candidate:
        tz = self.clock.tz  # slot times are shown to clerks in the hall's time
        return Candidate(
            id=t_.id,
            number=t_.number,
            queue=t_.queue,
            sort_at=t_.sort_at,
            issued_at=t_.issued_at,
            priority=PriorityKind(t_.priority),
            priority_detail=t_.priority_detail,
            slot_start=appt.slot_start.astimezone(tz) if appt else None,
            slot_end=appt.slot_end.astimezone(tz) if appt else None,
        )

    def _check_clerk_window(self, actor: Actor, window_id: str) -> None:
        if actor.role == "clerk" and actor.window != window_id:
            raise CommandError(403, "other_window", window=window_id)

    def _ready_window(self, s: Session, window_id: str, day: date) -> WindowRow:
        """The window's row, locked, if it may call: open and nobody at the desk."""
        row = self._window(s, window_id)
        if row.state != WindowState.OPEN.value:
            raise CommandError(409, "window_not_open", window=self.cfg.window(window_id).display_name)
        current = self._current(s, row, day)
        if current is not None:
            raise CommandError(409, "window_busy", number=current.number)
        return row

    def call_next(self, window_id: str, actor: Actor) -> tuple[Ticket, Choice] | None:
        self._check_clerk_window(actor, window_id)
        with self.db.write() as s:
            now = self.now()
            day = self.today(now)
            row = self._ready_window(s, window_id, day)
            weights = self.cfg.window(window_id).queues
            self._lock_counters(s, day, weights)
            for _attempt in range(10):
                choice = choose_next(self._heads(s, day, list(weights)), weights, now, self.cfg.policy, row.normal_since_priority)
                if choice is None:
                    return None
                # The conditional update is what makes a call atomic across windows and servers:
                # if another window took the ticket first, zero rows change and we choose again.
                ticket = s.scalar(
                    queries.CALL_IF_WAITING,
                    {"ticket_id": choice.ticket.id, "now": now, "window_id": window_id, "clerk_name": actor.name or None},
                    execution_options={"populate_existing": True},
                )
                if ticket is not None:
                    break
            else:
                raise CommandError(503, "busy_retry")
            self._after_call(s, row, ticket, now, actor, choice.rule, choice.reason())
            if choice.ticket.priority is PriorityKind.GREEN:
                row.normal_since_priority = 0
            elif choice.ticket.priority is PriorityKind.NONE:
                row.normal_since_priority += 1
            return ticket, choice

    def _after_call(self, s: Session, row: WindowRow, ticket: Ticket, now: datetime, actor: Actor, rule: str, reason: str) -> None:
        counter = self._counter(s, ticket.day, ticket.queue)
        counter.waiting = max(counter.waiting - 1, 0)
        row.ticket_id = ticket.id
        row.updated_at = now
        if actor.name:
            row.clerk = actor.name
        self._event(s, ticket, Action.CALL, now, actor, rule=rule, reason=reason)
        em = Emitter(s, self.cfg, now)
        em.call(ticket, row.id)
        em.window_state(row, ticket)
        em.ticket_event(ticket, "called", window=row.id, window_name=self.cfg.window(row.id).display_name)
        self._queue_changed(s, em, ticket.queue, ticket.day)

    def call_specific(self, window_id: str, actor: Actor, number: str | None = None, ticket_id: int | None = None) -> Ticket:
        """Calls one number out of order (a citizen back from a skip, an appointment at the desk)."""
        self._check_clerk_window(actor, window_id)
        with self.db.write() as s:
            now = self.now()
            day = self.today(now)
            row = self._ready_window(s, window_id, day)
            stmt = select(Ticket).where(Ticket.day == day)
            stmt = stmt.where(Ticket.id == ticket_id) if ticket_id is not None else stmt.where(Ticket.number == (number or "").upper())
            ticket = s.scalar(stmt)
            if ticket is None:
                raise CommandError(404, "ticket_not_found", id=ticket_id or number)
            self._lock_counters(s, day, [ticket.queue])
            if ticket.queue not in self.cfg.window(window_id).queues and actor.role != "admin":
                raise CommandError(409, "not_my_queue", number=ticket.number)
            before = ticket.state
            try:
                new_state = transition(TicketState(before), Action.CALL)
            except InvalidTransition:
                raise CommandError(409, "bad_state", number=ticket.number, state=t(f"state.{before}")) from None
            res = s.execute(
                update(Ticket)
                .where(Ticket.id == ticket.id, Ticket.state == before)
                .values(state=new_state.value, called_at=now, window=window_id, clerk=actor.name or None)
            )
            if res.rowcount != 1:
                raise CommandError(409, "taken", number=ticket.number)
            s.refresh(ticket)
            if before == TicketState.SKIPPED.value:
                # A skipped ticket was not counted as waiting; undo the decrement _after_call does.
                self._counter(s, day, ticket.queue).waiting += 1
            self._after_call(s, row, ticket, now, actor, "specific", t("policy.specific", number=ticket.number))
            return ticket

    def _current_or_error(self, s: Session, window_id: str, actor: Actor) -> tuple[WindowRow, Ticket, datetime]:
        self._check_clerk_window(actor, window_id)
        now = self.now()
        row = self._window(s, window_id)
        current = self._current(s, row, self.today(now))
        if current is None:
            raise CommandError(409, "no_current")
        self._lock_counters(s, current.day, [current.queue])
        return row, current, now

    def _apply(self, s: Session, ticket: Ticket, action: Action) -> None:
        try:
            ticket.state = transition(TicketState(ticket.state), action).value
        except InvalidTransition:
            raise CommandError(409, "bad_state", number=ticket.number, state=t(f"state.{ticket.state}")) from None

    def recall(self, window_id: str, actor: Actor) -> Ticket:
        with self.db.write() as s:
            row, ticket, now = self._current_or_error(s, window_id, actor)
            em = Emitter(s, self.cfg, now)
            if ticket.state != TicketState.CALLED.value:
                raise CommandError(409, "bad_state", number=ticket.number, state=t(f"state.{ticket.state}"))
            if ticket.recall_count >= self.cfg.policy.recall_limit:
                # Past the limit the holder is taken as absent: no-show, and the window is free.
                self._apply(s, ticket, Action.NO_SHOW)
                row.ticket_id = None
                self._event(s, ticket, Action.NO_SHOW, now, actor, recalls=ticket.recall_count)
                em.window_state(row, None)
                em.ticket_event(ticket, "skipped")
                return ticket
            ticket.recall_count += 1
            self._event(s, ticket, Action.RECALL, now, actor, recall=ticket.recall_count)
            em.call(ticket, window_id)
            em.ticket_event(ticket, "called", window=window_id, window_name=self.cfg.window(window_id).display_name, recall=ticket.recall_count)
            return ticket

    def start_serving(self, window_id: str, actor: Actor) -> Ticket:
        with self.db.write() as s:
            row, ticket, now = self._current_or_error(s, window_id, actor)
            self._apply(s, ticket, Action.START)
            ticket.serving_at = now
            self._event(s, ticket, Action.START, now, actor)
            Emitter(s, self.cfg, now).window_state(row, ticket)
            return ticket

    def _release(self, s: Session, row: WindowRow, ticket: Ticket, action: Action, now: datetime, actor: Actor) -> Emitter:
        """The ticket at the desk leaves it (skip, finish): transition, free the window, record the event."""
        self._apply(s, ticket, action)
        row.ticket_id = None
        row.updated_at = now
        self._event(s, ticket, action, now, actor)
        return Emitter(s, self.cfg, now)

    def skip(self, window_id: str, actor: Actor) -> Ticket:
        with self.db.write() as s:
            row, ticket, now = self._current_or_error(s, window_id, actor)
            ticket.skipped_at = now
            em = self._release(s, row, ticket, Action.SKIP, now, actor)
            em.window_state(row, None)
            em.ticket_event(ticket, "skipped")
            return ticket

    def finish(self, window_id: str, actor: Actor) -> Ticket:
        with self.db.write() as s:
            row, ticket, now = self._current_or_error(s, window_id, actor)
            ticket.finished_at = now
            em = self._release(s, row, ticket, Action.FINISH, now, actor)
            em.window_state(row, None, finished=ticket)
            em.ticket_event(ticket, "done")
            self._queue_changed(s, em, ticket.queue, ticket.day)  # a new service time changes the estimates
            return ticket

    def transfer(self, window_id: str, actor: Actor, queue_id: str, position: str = "last") -> Ticket:
        """Sends the current ticket to another queue; it keeps its number and original issue time."""
        if position not in ("first", "last"):
            raise CommandError(422, "bad_position")
        try:
            self.cfg.queue(queue_id)
        except StopIteration:
            raise CommandError(404, "unknown_queue", queue=queue_id) from None
        with self.db.write() as s:
            row, ticket, now = self._current_or_error(s, window_id, actor)
            self._lock_counters(s, ticket.day, [ticket.queue, queue_id])
            old_queue = ticket.queue
            self._apply(s, ticket, Action.TRANSFER)
            ticket.queue = queue_id
            if position == "first":
                head = self._line(s, ticket.day, queue_id, 1)
                first = min([h.sort_at for h in head] + [ticket.issued_at])
                ticket.sort_at = first - timedelta(microseconds=1)
            else:
                ticket.sort_at = now
            ticket.window = None
            ticket.called_at = None
            ticket.recall_count = 0
            ticket.last_ahead_sent = None
            row.ticket_id = None
            row.updated_at = now
            self._counter(s, ticket.day, queue_id).waiting += 1
            self._event(s, ticket, Action.TRANSFER, now, actor, from_queue=old_queue, to_queue=queue_id, position=position, from_window=window_id)
            em = Emitter(s, self.cfg, now)
            em.window_state(row, None)
            em.ticket_event(ticket, "transferred", queue=queue_id)
            self._queue_changed(s, em, queue_id, ticket.day)
            return ticket

    def rejoin(self, ticket_id: int, actor: Actor) -> Ticket:
        """A skipped (过号) holder comes back: placed by the hall's rejoin rule."""
        rule = self.cfg.policy.skip
        with self.db.write() as s:
            now = self.now()
            ticket = self._ticket_locked(s, ticket_id)
            if ticket is None or ticket.day != self.today(now):
                raise CommandError(404, "ticket_not_found", id=ticket_id)
            if ticket.state != TicketState.SKIPPED.value:
                raise CommandError(409, "bad_state", number=ticket.number, state=t(f"state.{ticket.state}"))
            if rule.rejoin == "never":
                raise CommandError(409, "rejoin_not_allowed")
            if ticket.skipped_at and now - ticket.skipped_at > timedelta(minutes=rule.within_min):
                raise CommandError(409, "rejoin_too_late", minutes=rule.within_min)
            self._apply(s, ticket, Action.REJOIN)
            if rule.rejoin == "after_n":
                # Behind the next N normal tickets in line; at the end when fewer wait.
                line = [x for x in self._line(s, ticket.day, ticket.queue, rule.after_n + 50) if x.priority == PriorityKind.NONE.value and x.id != ticket.id]
                if rule.after_n == 0:
                    ticket.sort_at = min([x.sort_at for x in line[:1]] + [now]) - timedelta(microseconds=1)
                elif len(line) >= rule.after_n:
                    ticket.sort_at = line[rule.after_n - 1].sort_at + timedelta(microseconds=1)
                else:
                    ticket.sort_at = now
            else:
                ticket.sort_at = now
            ticket.window = None
            ticket.last_ahead_sent = None
            self._counter(s, ticket.day, ticket.queue).waiting += 1
            self._event(s, ticket, Action.REJOIN, now, actor)
            self._queue_changed(s, Emitter(s, self.cfg, now), ticket.queue, ticket.day)
            return ticket

    def _ticket_locked(self, s: Session, ticket_id: int) -> Ticket | None:
        ticket = s.get(Ticket, ticket_id)
        if ticket is None:
            return None
        self._lock_counters(s, ticket.day, [ticket.queue])
        return s.execute(_lock(select(Ticket).where(Ticket.id == ticket_id), self.db).execution_options(populate_existing=True)).scalar()

    def cancel(self, ticket_id: int, actor: Actor, only_waiting: bool = False) -> Ticket:
        """`only_waiting`: the citizen gives up on the phone; a number called meanwhile stays called."""
        with self.db.write() as s:
            now = self.now()
            ticket = self._ticket_locked(s, ticket_id)
            if ticket is None:
                raise CommandError(404, "ticket_not_found", id=ticket_id)
            was_waiting = ticket.state == TicketState.WAITING.value
            if only_waiting and not was_waiting:
                raise CommandError(409, "bad_state", number=ticket.number, state=t(f"state.{ticket.state}"))
            self._apply(s, ticket, Action.CANCEL)
            em = Emitter(s, self.cfg, now)
            if ticket.window:
                row = self._window(s, ticket.window)
                if row.ticket_id == ticket.id:
                    row.ticket_id = None
                    em.window_state(row, None)
            if was_waiting:
                counter = self._counter(s, ticket.day, ticket.queue)
                counter.waiting = max(counter.waiting - 1, 0)
            self._event(s, ticket, Action.CANCEL, now, actor, by=actor.role)
            em.ticket_event(ticket, "cancelled")
            self._queue_changed(s, em, ticket.queue, ticket.day)
            return ticket

    def record_print(self, ticket_id: int, printed: bool, error: str, actor: Actor) -> Ticket:
        with self.db.write() as s:
            ticket = s.get(Ticket, ticket_id)
            if ticket is None:
                raise CommandError(404, "ticket_not_found", id=ticket_id)
            ticket.print_failed = not printed
            s.add(
                TicketEvent(
                    ticket_id=ticket.id, day=ticket.day, action="print", state=ticket.state, at=self.now(),
                    queue=ticket.queue, window=None, clerk=None, detail={"printed": printed, "error": error[:200], "device": actor.name},
                )
            )
            return ticket

    # ---- ratings -----------------------------------------------------------------------------
    def rate(self, ticket_id: int, score: int, source: str) -> tuple[Rating, Followup | None]:
        with self.db.write() as s:
            now = self.now()
            ticket = s.get(Ticket, ticket_id)
            if ticket is None:
                raise CommandError(404, "ticket_not_found", id=ticket_id)
            if ticket.state != TicketState.DONE.value:
                raise CommandError(409, "rate_not_done", number=ticket.number)
            if s.scalar(select(Rating).where(Rating.ticket_id == ticket_id)) is not None:
                raise CommandError(409, "already_rated", number=ticket.number)
            rating = Rating(
                ticket_id=ticket.id, day=ticket.day, window=ticket.window, clerk=ticket.clerk,
                service=ticket.service, score=score, at=now, source=source,
            )
            s.add(rating)
            s.flush()
            followup = None
            if score <= 2:
                followup = Followup(
                    rating_id=rating.id, ticket_id=ticket.id, window=ticket.window, clerk=ticket.clerk, score=score,
                    opened_at=now, deadline=next_working_day(self.today(now), self.cfg.policy.followup_working_days, self.cfg.calendar),
                )
                s.add(followup)
            return rating, followup

    # ---- appointments, cases, devices ---------------------------------------------------------
    def check_in(self, identity: IdentityIn, idempotency_key: str | None) -> tuple[Ticket, int, int, bool]:
        now = self.now()
        with self.db.read() as s:
            booked = list(s.scalars(
                select(Appointment)
                .where(Appointment.day == self.today(now), Appointment.id_hash == identity.id_hash, Appointment.status == "booked")
                .order_by(Appointment.slot_start)
            ))
        # a missed morning booking must not hide the same person's afternoon booking
        grace = timedelta(minutes=self.cfg.policy.appointment_late_min)
        appt = next((a for a in booked if now <= a.slot_end + grace), booked[0] if booked else None)
        if appt is None:
            if idempotency_key:
                with self.db.read() as s:
                    existing = s.scalar(select(Ticket).where(Ticket.idempotency_key == idempotency_key))
                if existing is not None:
                    return self.issue_ticket(existing.service, idempotency_key, identity, "appointment")
            raise CommandError(404, "no_appointment")
        late = appt.slot_end + timedelta(minutes=self.cfg.policy.appointment_late_min)
        if now > late:
            raise CommandError(409, "appointment_missed", slot=f"{appt.slot_start.astimezone(self.clock.tz):%H:%M}")
        result = self.issue_ticket(appt.service, idempotency_key, identity, "appointment", appointment=appt)
        with self.db.write() as s:
            row = s.get(Appointment, appt.id)
            row.status = "checked_in"
            row.ticket_id = result[0].id
        return result

    def cases_for(self, id_hash: str | None = None, case_number: str | None = None) -> list[Case]:
        with self.db.read() as s:
            stmt = select(Case).order_by(Case.accepted_at.desc()).limit(50)
            if id_hash:
                stmt = stmt.where(Case.id_hash == id_hash)
            elif case_number:
                stmt = stmt.where(Case.case_number == case_number)
            else:
                return []
            return list(s.scalars(stmt))

    def device_status(self, device: str, kind: str, state: str, parts: dict) -> None:
        with self.db.write() as s:
            now = self.now()
            row = s.get(DeviceStatus, device)
            if row is None:
                row = DeviceStatus(device=device, kind=kind, state=state, parts=parts, updated_at=now)
                s.add(row)
            else:
                row.kind, row.state, row.parts, row.updated_at = kind, state, parts, now
            Emitter(s, self.cfg, now).device_status(device, kind, state, parts)
