"""A simulated day in a hall, driven through HallService with a manual clock: tickets issued,
called by open windows, served, skipped, rated, and now and then given up by a citizen tired of
waiting (as on the phone page). Returns the test's own log of what happened, from
which expected statistics are computed independently of queue_server.stats."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from queue_server.domain.model import WindowState
from queue_server.service import Actor, CommandError, HallService, IdentityIn
from yizhan.clock import ManualClock


@dataclass
class TicketLog:
    number: str
    issued: datetime
    ticket_id: int = 0
    first_call: datetime | None = None
    last_call: datetime | None = None
    finished: datetime | None = None
    window: str | None = None
    clerk: str | None = None
    skipped: bool = False
    gave_up: bool = False
    score: int | None = None


@dataclass
class DayLog:
    tickets: dict[str, TicketLog] = field(default_factory=dict)
    scores: list[int] = field(default_factory=list)
    refused: list[tuple[datetime, str, str]] = field(default_factory=list)


def simulate_day(svc: HallService, clock: ManualClock, start: datetime, end: datetime, clerks: dict[str, str],
                 services: list[tuple[str, bool]], seed: int = 7, arrivals_per_min: float = 0.9) -> DayLog:
    """`clerks` maps window id → clerk name; `services` lists (code, needs an ID card)."""
    rng = random.Random(seed)
    leaving = random.Random(seed + 1000)
    log = DayLog()
    clock.set(start)
    for w, name in clerks.items():
        svc.set_window_state(w, WindowState.OPEN, Actor("clerk", name, w))
    busy: dict[str, tuple[str, datetime, bool]] = {}  # window → (ticket number, ends at, will skip)
    people = 0
    while clock.now() < end:
        now = clock.now()
        for _ in range(sum(1 for _ in range(3) if rng.random() < arrivals_per_min / 3)):
            code, real_name = rng.choice(services)
            identity = None
            if real_name:
                people += 1
                identity = IdentityIn(id_hash=hashlib.sha256(f"person-{seed}-{people}".encode()).hexdigest(), masked_name="张*", age=rng.choice([30, 45, 72]))
            try:
                ticket, *_ = svc.issue_ticket(code, f"sim-{seed}-{now.isoformat()}-{rng.random()}", identity)
            except CommandError as exc:
                log.refused.append((now, code, exc.code))  # e.g. the queue's lunch break: the kiosk refuses
                continue
            log.tickets[ticket.number] = TicketLog(ticket.number, now, ticket_id=ticket.id)
        for rec in log.tickets.values():  # after 20 minutes' wait, one in fifty gives up each minute
            if rec.first_call is None and not rec.gave_up and now - rec.issued > timedelta(minutes=20) and leaving.random() < 0.02:
                svc.cancel(rec.ticket_id, Actor("citizen"), only_waiting=True)
                rec.gave_up = True
        for w, name in clerks.items():
            actor = Actor("clerk", name, w)
            if w in busy:
                number, ends, skip = busy[w]
                if now < ends:
                    continue
                rec = log.tickets[number]
                if skip:
                    svc.skip(w, actor)
                    rec.skipped = True
                else:
                    done = svc.finish(w, actor)
                    rec.finished, rec.window, rec.clerk = now, w, name
                    if rng.random() < 0.7:
                        rec.score = rng.choice([5, 5, 5, 4, 4, 3, 2, 1])
                        svc.rate(done.id, rec.score, "keypad")
                        log.scores.append(rec.score)
                del busy[w]
            result = svc.call_next(w, actor)
            if result is None:
                continue
            ticket, _choice = result
            rec = log.tickets[ticket.number]
            rec.first_call = rec.first_call or now
            rec.last_call = now
            skip = rng.random() < 0.1
            busy[w] = (ticket.number, now + timedelta(minutes=1 if skip else rng.randint(2, 12)), skip)
        clock.advance(60)
    return log


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    k = -(-9 * len(ordered) // 10)  # ceil(0.9 n), the nearest-rank percentile
    return ordered[k - 1]
