"""Bindings (openid ↔ ticket, one day) and the notices already sent, in the hall database.

A notice row is written *before* the bridge sends it (a claim), so two bridges or a
restarted one never send it twice; a notice WeChat refused for good is deleted again, so
it is not counted as delivered."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from queue_server.db.tables import Ticket, TicketEvent, WechatBinding, WechatNotice
from queue_server.service import HallService

logger = logging.getLogger(__name__)

# Ticket states in which following still makes sense.
FOLLOWABLE = ("waiting", "called", "serving", "skipped")
# A ticket that is skipped (and rejoins or is called back), or is transferred to another
# queue, can wait and be called again: its notices start afresh ("called#2" after a skip
# and a rejoin …), so the second call is notified too.
NEW_ROUND_ACTIONS = ("skip", "no_show", "rejoin", "transfer")
# WeChat errors that mean this follower cannot receive anything (unfollowed, refused, wrong id).
GONE_ERRORS = frozenset({43004, 43101, 40003})


def state_fits(kind: str, state: str) -> bool:
    """A notice is only claimed while it is still true: no '1 ahead' once called."""
    if kind.startswith("ahead:"):
        return state == "waiting"
    if kind == "called":
        return state in ("called", "serving")
    if kind == "skipped":
        return state in ("skipped", "no_show")
    return True


@dataclass(frozen=True)
class BindResult:
    outcome: str  # bound | already | unknown | expired | over
    ticket: Ticket | None = None


@dataclass(frozen=True)
class Claimed:
    id: int
    openid: str


class WechatStore:
    def __init__(self, service: HallService) -> None:
        self.svc = service
        self.db = service.db

    def _start_of(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.svc.clock.tz)

    # ---- bindings --------------------------------------------------------------------------
    def bind(self, ticket_token: str, openid: str) -> BindResult:
        now = self.svc.now()
        today = self.svc.today(now)
        with self.db.write() as s:
            ticket = s.scalar(select(Ticket).where(Ticket.token == ticket_token))
            if ticket is None:
                return BindResult("unknown")
            if ticket.day != today:
                return BindResult("expired", ticket)
            if ticket.state not in FOLLOWABLE:
                return BindResult("over", ticket)
            row = s.scalar(select(WechatBinding).where(WechatBinding.ticket_token == ticket_token, WechatBinding.openid == openid))
            if row is not None:
                was_active = row.active
                row.active = True
                return BindResult("already" if was_active else "bound", ticket)
            s.add(WechatBinding(ticket_token=ticket_token, openid=openid, day=today, created_at=now, active=True))
        return BindResult("bound", ticket)

    def unbind(self, openid: str) -> int:
        """Stops every notice of today for this follower; returns how many tickets it followed."""
        today = self.svc.today()
        with self.db.write() as s:
            return s.execute(
                update(WechatBinding)
                .where(WechatBinding.openid == openid, WechatBinding.day == today, WechatBinding.active.is_(True))
                .values(active=False)
            ).rowcount

    def followers(self, ticket_token: str) -> list[str]:
        with self.db.read() as s:
            return list(s.scalars(select(WechatBinding.openid).where(
                WechatBinding.ticket_token == ticket_token, WechatBinding.active.is_(True), WechatBinding.day == self.svc.today())))

    # ---- notices ---------------------------------------------------------------------------
    def sent_today(self) -> int:
        with self.db.read() as s:
            return s.scalar(select(func.count()).select_from(WechatNotice).where(WechatNotice.sent_at >= self._start_of(self.svc.today()))) or 0

    def claim(self, ticket_token: str, kind: str, quota: int, at: datetime | None = None) -> tuple[Ticket | None, list[Claimed], bool]:
        return self.claim_many([(ticket_token, kind, at)], quota)[0]

    def claim_many(self, items: list[tuple[str, str, datetime | None]], quota: int) -> list[tuple[Ticket | None, list[Claimed], bool]]:
        """For each (ticket token, kind, time of the event): (ticket, notices to send now,
        quota exhausted). Only followers who have not had this notice yet are claimed, and
        only while the ticket is still in the state the notice speaks of; one transaction
        for the whole batch, so a busy bridge costs the database one write per batch."""
        for attempt in (0, 1):
            try:
                return self._claim_many(items, quota)
            except IntegrityError:
                # Another bridge claimed the same notice at the same instant (PostgreSQL): look again.
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _claim_many(self, items: list[tuple[str, str, datetime | None]], quota: int) -> list[tuple[Ticket | None, list[Claimed], bool]]:
        now = self.svc.now()
        today = self.svc.today(now)
        tokens = sorted({tok for tok, _, _ in items})
        with self.db.write() as s:
            tickets = {t.token: t for t in s.scalars(select(Ticket).where(Ticket.token.in_(tokens)))}
            followers: dict[str, list[str]] = {}
            for tok, openid in s.execute(select(WechatBinding.ticket_token, WechatBinding.openid).where(
                    WechatBinding.ticket_token.in_(tokens), WechatBinding.active.is_(True), WechatBinding.day == today)):
                followers.setdefault(tok, []).append(openid)
            done = set(s.execute(select(WechatNotice.ticket_token, WechatNotice.openid, WechatNotice.kind).where(
                WechatNotice.ticket_token.in_(list(followers)))).tuples()) if followers else set()
            followed_ids = [t.id for tok, t in tickets.items() if tok in followers]
            # When each followed ticket started a new round (skip, rejoin, transfer).
            round_starts: dict[int, list[datetime]] = {}
            if followed_ids:
                stmt = select(TicketEvent.ticket_id, TicketEvent.at).where(
                    TicketEvent.ticket_id.in_(followed_ids), TicketEvent.action.in_(NEW_ROUND_ACTIONS))
                for ticket_id, at in s.execute(stmt):
                    round_starts.setdefault(ticket_id, []).append(at)
            used: int | None = None
            out: list[tuple[Ticket | None, list[Claimed], bool]] = []
            pending: list[tuple[int, WechatNotice]] = []
            for index, (tok, kind, at) in enumerate(items):
                ticket = tickets.get(tok)
                if ticket is None or ticket.day != today or not state_fits(kind, ticket.state):
                    out.append((ticket, [], False))
                    continue
                # The round the *event* belongs to (a late copy of an old event stays in its round).
                starts = round_starts.get(ticket.id, [])
                n = sum(1 for t in starts if at is None or t < at)
                if n:
                    kind = f"{kind}#{n}"
                todo = [o for o in followers.get(tok, []) if (tok, o, kind) not in done]
                if not todo:
                    out.append((ticket, [], False))
                    continue
                if used is None:
                    used = s.scalar(select(func.count()).select_from(WechatNotice).where(WechatNotice.sent_at >= self._start_of(today))) or 0
                if used + len(todo) > quota:
                    out.append((ticket, [], True))
                    continue
                used += len(todo)
                for o in todo:
                    done.add((tok, o, kind))
                    pending.append((index, WechatNotice(ticket_token=tok, openid=o, kind=kind, sent_at=now)))
                out.append((ticket, [], False))
            if pending:
                s.add_all([row for _, row in pending])
                s.flush()
                for index, row in pending:
                    out[index][1].append(Claimed(row.id, row.openid))
            return out

    def failed(self, notice_id: int, errcode: int | None) -> None:
        """WeChat refused the notice for good: it was not delivered, so it does not count;
        a follower who can no longer receive anything is unbound."""
        with self.db.write() as s:
            row = s.get(WechatNotice, notice_id)
            if row is None:
                return
            if errcode in GONE_ERRORS:
                s.execute(update(WechatBinding).where(WechatBinding.openid == row.openid, WechatBinding.ticket_token == row.ticket_token).values(active=False))
            s.delete(row)

    # ---- end of day ------------------------------------------------------------------------
    def purge(self) -> tuple[int, int]:
        """Deletes bindings and notice records of earlier days (openids are personal data)."""
        today = self.svc.today()
        with self.db.write() as s:
            b = s.execute(delete(WechatBinding).where(WechatBinding.day < today)).rowcount
            n = s.execute(delete(WechatNotice).where(WechatNotice.sent_at < self._start_of(today))).rowcount
        if b or n:
            logger.info("WeChat: deleted %s bindings and %s notice records of earlier days", b, n)
        return b, n
