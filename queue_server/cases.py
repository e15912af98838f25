"""办件受理与进度: registering an application at the window as a case, moving it on, and the
lists the consoles show. One write transaction per command; each change is recorded in the
audit log (who, when, from → to) and, when the case came from a ticket, told to the ticket's
followers through the outbox (`ticket/<token>` events `case_accepted`, `case_done`,
`case_returned`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yizhan.config.model import ServiceClass
from yizhan.i18n import local_name, t

from queue_server.db.tables import AuditLog, Case, Ticket, WindowRow
from queue_server.domain.cases import (
    OPEN_STATUSES,
    CaseStatus,
    case_number,
    may_move,
    normalize_number,
    number_prefix,
    promised_deadline,
    seq_of,
    watch,
)
from queue_server.domain.hours import is_working_day
from queue_server.domain.model import TicketState
from queue_server.events import Emitter
from queue_server.service import Actor, CommandError, HallService

logger = logging.getLogger(__name__)

# A case can be registered for the ticket at the desk, or for one this window finished today
# (the clerk pressed 办结 before 受理登记).
_REGISTRABLE = (TicketState.CALLED.value, TicketState.SERVING.value, TicketState.DONE.value)
REASON_MAX = 200


def status_name(status: str) -> str:
    return t(f"case.status.{status}")


@dataclass(frozen=True)
class CaseFilter:
    service: str | None = None
    department: str | None = None


class CaseDesk:
    def __init__(self, svc: HallService) -> None:
        self.svc = svc  # its cfg follows live configuration edits

    @property
    def cfg(self):  # type: ignore[no-untyped-def]
        return self.svc.cfg

    def _workday(self, day: date) -> bool:
        return is_working_day(day, self.svc.cfg.calendar)

    def _lock(self, stmt):  # type: ignore[no-untyped-def]
        return stmt if self.svc.db.is_sqlite else stmt.with_for_update()

    # ---- registering (受理登记) ----------------------------------------------------------------
    def register(self, window_id: str, actor: Actor, service_code: str | None = None, ticket_id: int | None = None) -> Case:
        if actor.role == "clerk" and actor.window != window_id:
            raise CommandError(403, "other_window", window=window_id)
        try:
            self.cfg.window(window_id)
        except StopIteration:
            raise CommandError(404, "unknown_window", window=window_id) from None
        # PostgreSQL: two windows numbering the same day at once collide on the unique number;
        # the loser numbers again. (SQLite's BEGIN IMMEDIATE already serializes them.)
        for attempt in range(10):
            try:
                return self._register(window_id, actor, service_code, ticket_id)
            except IntegrityError:
                if attempt == 9:
                    raise
                logger.info("case number taken by a concurrent registration; numbering again")
        raise AssertionError("unreachable")

    def _register(self, window_id: str, actor: Actor, service_code: str | None, ticket_id: int | None) -> Case:
        with self.svc.db.write() as s:
            now = self.svc.now()
            today = self.svc.today(now)
            ticket = self._ticket_for(s, window_id, ticket_id, today)
            code = (service_code or ticket.service).strip()
            try:
                service = self.cfg.service(code)
            except StopIteration:
                raise CommandError(404, "unknown_service", service_code=code) from None
            dup = s.scalar(select(Case).where(Case.ticket_id == ticket.id, Case.service == service.code))
            if dup is not None:
                raise CommandError(409, "case_exists", number=ticket.number, case_number=dup.case_number)
            prefix = number_prefix(today)
            last = s.scalar(
                # A range on the unique index (LIKE would scan the table): only the day's numbers.
                select(Case.case_number).where(Case.case_number >= prefix, Case.case_number < prefix + ":")
                .order_by(func.length(Case.case_number).desc(), Case.case_number.desc()).limit(1)
            )
            at_once = service.service_class is ServiceClass.IMMEDIATE
            case = Case(
                case_number=case_number(today, seq_of(last) + 1 if last else 1),
                service=service.code,
                id_hash=ticket.id_hash or "",  # "" = taken without an ID card: found by number only
                masked_name=ticket.masked_name or "",
                ticket_id=ticket.id,
                window=window_id,
                accepted_at=now,
                deadline=promised_deadline(today, service.promised_days, self._workday),
                status=(CaseStatus.DONE if at_once else CaseStatus.ACCEPTED).value,
                finished_at=now if at_once else None,
            )
            s.add(case)
            s.flush()
            self._audit(s, now, actor, "case.accept", case, ticket=ticket.number, deadline=case.deadline.isoformat(), status=case.status)
            em = Emitter(s, self.cfg, now)
            em.ticket_event(ticket, "case_accepted", case_number=case.case_number, service=service.code,
                            service_name=service.name, deadline=case.deadline.isoformat())
            if at_once:
                em.ticket_event(ticket, "case_done", case_number=case.case_number, service=service.code, service_name=service.name)
            logger.info("case %s registered at window %s (%s, deadline %s)", case.case_number, window_id, service.code, case.deadline)
            return case

    def _ticket_for(self, s: Session, window_id: str, ticket_id: int | None, today: date) -> Ticket:
        if ticket_id is None:
            row = s.get(WindowRow, window_id)
            ticket = s.get(Ticket, row.ticket_id) if row is not None and row.ticket_id else None
            if ticket is None or ticket.day != today or ticket.state not in (TicketState.CALLED.value, TicketState.SERVING.value):
                raise CommandError(409, "case_no_ticket")
            return ticket
        ticket = s.get(Ticket, ticket_id)
        if ticket is None or ticket.day != today:
            raise CommandError(404, "ticket_not_found", id=ticket_id)
        if ticket.window != window_id:
            raise CommandError(409, "case_ticket_elsewhere", number=ticket.number)
        if ticket.state not in _REGISTRABLE:
            raise CommandError(409, "case_ticket_state", number=ticket.number, state=t(f"state.{ticket.state}"))
        return ticket

    # ---- progress --------------------------------------------------------------------------
    def move(self, number: str, target: str, actor: Actor, reason: str = "") -> Case:
        try:
            to = CaseStatus(target)
        except ValueError:
            raise CommandError(422, "case_bad_status", status=target) from None
        reason = " ".join((reason or "").split())[:REASON_MAX]
        if to is CaseStatus.RETURNED and not reason:
            raise CommandError(422, "case_reason_required")
        with self.svc.db.write() as s:
            now = self.svc.now()
            case = s.scalar(self._lock(select(Case).where(Case.case_number == normalize_number(number))))
            if case is None:
                raise CommandError(404, "case_not_found", case_number=number)
            if actor.role == "clerk" and actor.window != case.window:
                raise CommandError(403, "other_window", window=case.window or "")
            before = CaseStatus(case.status)
            if not may_move(before, to):
                raise CommandError(409, "case_bad_transition", case_number=case.case_number,
                                   current=status_name(before.value), target=status_name(to.value))
            case.status = to.value
            if to in (CaseStatus.DONE, CaseStatus.RETURNED):
                case.finished_at = now
            extra = {"reason": reason} if reason else {}
            self._audit(s, now, actor, f"case.{to.value}", case, **{"from": before.value, "to": to.value}, **extra)
            ticket = s.get(Ticket, case.ticket_id) if case.ticket_id else None
            if ticket is not None and to in (CaseStatus.DONE, CaseStatus.RETURNED):
                # The reason stays in the hall (it may name documents or people); followers get the fact.
                Emitter(s, self.cfg, now).ticket_event(ticket, f"case_{to.value}", case_number=case.case_number,
                                                       service=case.service, service_name=self._service_name(case.service))
            logger.info("case %s: %s → %s", case.case_number, before.value, to.value)
            return case

    def _audit(self, s: Session, now: datetime, actor: Actor, action: str, case: Case, **detail: object) -> None:
        s.add(AuditLog(at=now, actor=actor.name or actor.role, action=action,
                       detail={"case": case.case_number, "service": case.service, "window": case.window} | detail))

    # ---- reading ---------------------------------------------------------------------------
    def get(self, number: str) -> Case:
        with self.svc.db.read() as s:
            case = s.scalar(select(Case).where(Case.case_number == normalize_number(number)))
        if case is None:
            raise CommandError(404, "case_not_found", case_number=number)
        return case

    def history(self, case: Case) -> list[AuditLog]:
        with self.svc.db.read() as s:
            return list(s.scalars(
                select(AuditLog).where(AuditLog.at >= case.accepted_at, AuditLog.action.like("case.%"),
                                       AuditLog.detail["case"].as_string() == case.case_number).order_by(AuditLog.id)
            ))

    def open_cases(self, f: CaseFilter = CaseFilter(), limit: int = 500) -> list[Case]:
        """Open cases (已受理, 办理中), the nearest deadline first."""
        stmt = select(Case).where(Case.status.in_([s.value for s in OPEN_STATUSES]))
        codes = self._codes(f)
        if codes is not None:
            stmt = stmt.where(Case.service.in_(codes))
        with self.svc.db.read() as s:
            return list(s.scalars(stmt.order_by(Case.deadline, Case.accepted_at).limit(limit)))

    def window_cases(self, window_id: str, limit: int = 30) -> list[Case]:
        """The window's open cases and every case it registered today."""
        start = datetime.combine(self.svc.today(), datetime.min.time(), tzinfo=self.svc.clock.tz)
        with self.svc.db.read() as s:
            return list(s.scalars(
                select(Case).where(Case.window == window_id,
                                   or_(Case.status.in_([x.value for x in OPEN_STATUSES]), Case.accepted_at >= start))
                .order_by(Case.accepted_at.desc()).limit(limit)
            ))

    def _codes(self, f: CaseFilter) -> list[str] | None:
        if not f.service and not f.department:
            return None
        return [x.code for x in self.cfg.services
                if (not f.service or x.code == f.service) and (not f.department or x.department == f.department)]

    def _service_name(self, code: str) -> str:
        try:
            return self.cfg.service(code).name
        except StopIteration:
            return code

    def _department(self, code: str) -> tuple[str, str]:
        try:
            dep = self.cfg.service(code).department
        except StopIteration:
            return "", ""
        return dep, next((d.name for d in self.cfg.departments if d.id == dep), dep)

    def to_json(self, cases: list[Case]) -> list[dict]:
        """What the consoles and the API show: masked name only, with the 电子监察 state."""
        today = self.svc.today()
        ids = [c.ticket_id for c in cases if c.ticket_id]
        with self.svc.db.read() as s:
            numbers = dict(s.execute(select(Ticket.id, Ticket.number).where(Ticket.id.in_(ids))).tuples().all()) if ids else {}
        tz = self.svc.clock.tz
        out = []
        for c in cases:
            w = watch(c.deadline, today, CaseStatus(c.status), self._workday)
            dep, dep_name = self._department(c.service)
            try:
                window_name = self.cfg.window(c.window).display_name if c.window else ""
            except StopIteration:
                window_name = c.window or ""
            out.append({
                "case_number": c.case_number, "service": c.service, "service_name": self._service_name(c.service),
                "department": dep, "department_name": dep_name, "masked_name": c.masked_name, "real_name": bool(c.id_hash),
                "window": c.window, "window_name": window_name, "ticket": numbers.get(c.ticket_id or 0),
                "accepted_at": c.accepted_at.astimezone(tz).isoformat(timespec="seconds"), "deadline": c.deadline.isoformat(),
                "status": c.status, "status_name": status_name(c.status),
                "finished_at": c.finished_at.astimezone(tz).isoformat(timespec="seconds") if c.finished_at else None,
                "alert": w.alert.value, "overdue_days": w.overdue_days, "days_left": w.days_left,
                "next": [x.value for x in CaseStatus if may_move(CaseStatus(c.status), x)],
            })
        return out

    def summary(self, f: CaseFilter = CaseFilter()) -> dict:
        """Counts over every open case (the list itself stops at its limit)."""
        stmt = select(Case.deadline, Case.status, func.count()).where(Case.status.in_([x.value for x in OPEN_STATUSES]))
        codes = self._codes(f)
        if codes is not None:
            stmt = stmt.where(Case.service.in_(codes))
        today = self.svc.today()
        counts = {"open": 0, "due_soon": 0, "yellow": 0, "red": 0}
        with self.svc.db.read() as s:
            # Cases sharing a deadline share an alert: one verdict per (deadline, status).
            for deadline, status, n in s.execute(stmt.group_by(Case.deadline, Case.status)):
                counts["open"] += n
                alert = watch(deadline, today, CaseStatus(status), self._workday).alert.value
                if alert in counts:
                    counts[alert] += n
        return counts


def phone_status(svc: HallService, ticket_id: int, lang: str = "zh_CN") -> tuple[str, str] | None:
    """Headline and detail for the phone page of a ticket whose application became a case (the
    ticket's QR code then follows the case after the day of the visit); None without a case."""
    with svc.db.read() as s:
        case = s.scalar(select(Case).where(Case.ticket_id == ticket_id).order_by(Case.accepted_at.desc()).limit(1))
    if case is None:
        return None
    try:
        name = local_name(svc.cfg.service(case.service), lang)
    except StopIteration:
        name = case.service
    headline = t(f"phone.case_{case.status}", lang, deadline=case.deadline.isoformat())
    return headline, t("phone.case_detail", lang, case_number=case.case_number, service=name)
