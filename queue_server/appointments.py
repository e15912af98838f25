"""Appointment booking (预约): free places per slot, book, cancel, the day's list.

Each command is one write transaction. The rules themselves are pure (queue_server/domain/slots.py);
here they get their counts from the database. The kiosk's check-in (HallService.check_in) turns a
booking into a priority ticket; this module never touches tickets.

Personal data: the caller passes the keyed hash of the ID number and the masked forms; the full
number never reaches this module (the routes hash it as soon as it is validated).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from yizhan.config.appointments import BookableService
from yizhan.config.model import Queue, Service

from queue_server.db.tables import Appointment
from queue_server.domain.slots import Slot, bookable_days, check_booking, check_cancel, day_slots, earliest_start
from queue_server.service import CommandError, HallService

logger = logging.getLogger(__name__)

TAKES_PLACE = ("booked", "checked_in")  # a cancelled booking frees its place


@dataclass(frozen=True)
class SlotPlaces:
    slot: Slot
    capacity: int
    free: int
    bookable: bool  # not yet started (minus today's lead time)


@dataclass(frozen=True)
class Bookable:
    service: Service
    queue: Queue
    rule: BookableService


class AppointmentBook:
    def __init__(self, hall: HallService) -> None:
        self.hall = hall  # its cfg follows live configuration edits

    @property
    def cfg(self):  # type: ignore[no-untyped-def]
        return self.hall.cfg

    def now(self) -> datetime:
        return self.hall.now()

    # ---- catalogue ---------------------------------------------------------------------------
    def bookable_services(self) -> list[Bookable]:
        out = []
        for s in self.cfg.services:
            rule = self.cfg.appointments.services.get(s.code)
            if rule is not None:
                out.append(Bookable(s, self.cfg.queue(s.queue), rule))
        return out

    def bookable(self, code: str) -> Bookable:
        rule = self.cfg.appointments.services.get(code)
        try:
            service = self.cfg.service(code)
        except StopIteration:
            service = None
        if rule is None or service is None:
            raise CommandError(404, "appointment_not_bookable", service_code=code)
        return Bookable(service, self.cfg.queue(service.queue), rule)

    def days(self, code: str) -> list[date]:
        b = self.bookable(code)
        return bookable_days(b.queue.hours, self.cfg.appointments, self.now(), cal=self.cfg.calendar)

    def slots(self, code: str, day: date) -> list[SlotPlaces]:
        """Every slot of the day with its free places; slots that cannot be booked any more say so."""
        b = self.bookable(code)
        now = self.now()
        tz = self.hall.clock.tz
        days = bookable_days(b.queue.hours, self.cfg.appointments, now, cal=self.cfg.calendar)
        first = earliest_start(self.cfg.appointments, now)
        all_slots = day_slots(b.queue.hours, b.rule, day, tz, cal=self.cfg.calendar)
        with self.hall.db.read() as s:
            taken = {
                start.astimezone(tz): n
                for start, n in s.execute(
                    select(Appointment.slot_start, func.count())
                    .where(Appointment.day == day, Appointment.service == code, Appointment.status.in_(TAKES_PLACE))
                    .group_by(Appointment.slot_start)
                )
            }
        return [
            SlotPlaces(sl, b.rule.capacity, max(0, b.rule.capacity - taken.get(sl.start, 0)), day in days and sl.start >= first)
            for sl in all_slots
        ]

    # ---- commands ----------------------------------------------------------------------------
    def book(self, code: str, day: date, start: time, id_hash: str, masked_id: str, masked_name: str, source: str) -> Appointment:
        b = self.bookable(code)
        tz = self.hall.clock.tz
        late = timedelta(minutes=self.cfg.policy.appointment_late_min)
        with self.hall.db.write() as s:
            now = self.now()
            self._serialize(s, f"person:{id_hash}", f"slot:{code}:{day}:{start}")
            mine = list(s.scalars(select(Appointment).where(Appointment.id_hash == id_hash, Appointment.status.in_(TAKES_PLACE))))
            same = next((a for a in mine if a.day == day and a.service == code), None)
            person_open = sum(1 for a in mine if a.status == "booked" and a.slot_end + late >= now)
            slot_start = datetime.combine(day, start, tz)
            taken = s.scalar(
                select(func.count()).select_from(Appointment).where(
                    Appointment.day == day, Appointment.service == code,
                    Appointment.slot_start == slot_start, Appointment.status.in_(TAKES_PLACE),
                )
            ) or 0
            slot, refusal = check_booking(
                b.queue.hours, b.rule, self.cfg.appointments, now, day, start, taken,
                same.slot_start.astimezone(tz) if same else None, person_open, cal=self.cfg.calendar,
            )
            if refusal is not None:
                status = 409 if refusal.code in ("appointment_slot_full", "appointment_already_booked", "appointment_too_many") else 422
                raise CommandError(status, refusal.code, **refusal.params)
            assert slot is not None
            appt = Appointment(
                day=day, service=code, id_hash=id_hash, masked_id=masked_id, masked_name=masked_name,
                slot_start=slot.start, slot_end=slot.end, status="booked", token=secrets.token_urlsafe(18),
                source=source, created_at=now,
            )
            s.add(appt)
            s.flush()
            logger.info("appointment %s booked: %s %s %s (%s)", appt.id, code, day, slot.label, source)
            return appt

    def cancel(self, appt: Appointment) -> Appointment:
        with self.hall.db.write() as s:
            row = s.get(Appointment, appt.id, with_for_update=not self.hall.db.is_sqlite)
            if row is None:
                raise CommandError(404, "appointment_not_found")
            now = self.now()
            refusal = check_cancel(row.status, row.slot_start.astimezone(self.hall.clock.tz), now)
            if refusal is not None:
                raise CommandError(409, refusal.code, **refusal.params)
            row.status = "cancelled"
            row.cancelled_at = now
            logger.info("appointment %s cancelled", row.id)
            return row

    # ---- reading -----------------------------------------------------------------------------
    def get(self, appt_id: int) -> Appointment:
        with self.hall.db.read() as s:
            row = s.get(Appointment, appt_id)
        if row is None:
            raise CommandError(404, "appointment_not_found")
        return row

    def by_token(self, token: str) -> Appointment | None:
        if not token or len(token) > 48:
            return None
        with self.hall.db.read() as s:
            return s.scalar(select(Appointment).where(Appointment.token == token))

    def day_list(self, day: date) -> list[Appointment]:
        with self.hall.db.read() as s:
            return list(s.scalars(select(Appointment).where(Appointment.day == day).order_by(Appointment.slot_start, Appointment.id)))

    def state(self, appt: Appointment) -> str:
        """booked | checked_in | cancelled, or missed (未到): booked and past the slot's late margin."""
        late = timedelta(minutes=self.cfg.policy.appointment_late_min)
        if appt.status == "booked" and self.now() > appt.slot_end + late:
            return "missed"
        return appt.status

    # ---- helpers -----------------------------------------------------------------------------
    def _serialize(self, s: Session, *keys: str) -> None:
        """SQLite's BEGIN IMMEDIATE already serializes writers. PostgreSQL takes transaction-scoped
        advisory locks (person first, then slot: always this order, so no deadlock), so two
        bookings cannot both take the last place or give one person two bookings."""
        if self.hall.db.is_sqlite:
            return
        for key in keys:
            k = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
            s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": k})
