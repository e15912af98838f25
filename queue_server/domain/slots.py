"""Appointment slots (预约时段) and the booking rules. Pure: values in, slots and refusals out.

Slots fill each opening span of the service's queue (morning, 午休延时, afternoon) with
`slot_min`-long slots; a slot ends no later than the span's end minus the queue's stop-issuing
margin, because the citizen must still be able to take the priority ticket at check-in.
Bookable days are today (later slots only, when `same_day`) and the queue's next
`days_ahead` open days — the hall's working days (China's official calendar from
chinese-calendar, with the hall's own closures and 调休上班 from `calendar:`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from yizhan.config.appointments import AppointmentsConfig, BookableService
from yizhan.config.model import Hours, WorkCalendar

from queue_server.domain.hours import is_open_day

# Long holidays (春节, 国庆) close a hall for up to 9 days in a row; 60 days always reach enough open days.
_SEARCH_DAYS = 60


@dataclass(frozen=True)
class Slot:
    start: datetime  # aware, in the hall's time zone
    end: datetime

    @property
    def label(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class Refusal:
    code: str
    params: dict = field(default_factory=dict)


def day_slots(hours: Hours, rule: BookableService, day: date, tz: tzinfo, *, cal: WorkCalendar) -> list[Slot]:
    """Every slot of `day` (none on a day the queue is closed)."""
    if not is_open_day(hours, day, cal):
        return []
    length = timedelta(minutes=rule.slot_min)
    margin = timedelta(minutes=hours.stop_issuing_before_close_min)
    out: list[Slot] = []
    for span in hours.spans():
        start = datetime.combine(day, span.start, tz)
        last_end = datetime.combine(day, span.end, tz) - margin
        while start + length <= last_end:
            out.append(Slot(start, start + length))
            start += length
    return out


def bookable_days(hours: Hours, acfg: AppointmentsConfig, now: datetime, *, cal: WorkCalendar) -> list[date]:
    """Today (when later slots may be booked) and the queue's next `days_ahead` open days."""
    today = now.date()
    future: list[date] = []
    d = today
    for _ in range(_SEARCH_DAYS):
        if len(future) >= acfg.days_ahead:
            break
        d += timedelta(days=1)
        if is_open_day(hours, d, cal):
            future.append(d)
    return ([today] if acfg.same_day and is_open_day(hours, today, cal) else []) + future


def earliest_start(acfg: AppointmentsConfig, now: datetime) -> datetime:
    """Slots starting before this cannot be booked any more (the past, and today's lead time)."""
    return now + timedelta(minutes=acfg.same_day_lead_min)


def open_slots(hours: Hours, rule: BookableService, acfg: AppointmentsConfig, day: date, now: datetime, *,
               cal: WorkCalendar) -> list[Slot]:
    """The slots of `day` that can still be booked (capacity aside)."""
    if day not in bookable_days(hours, acfg, now, cal=cal):
        return []
    first = earliest_start(acfg, now)
    return [s for s in day_slots(hours, rule, day, now.tzinfo, cal=cal) if s.start >= first]  # type: ignore[arg-type]


def check_booking(
    hours: Hours,
    rule: BookableService,
    acfg: AppointmentsConfig,
    now: datetime,
    day: date,
    start: time,
    taken: int,
    same_service_that_day: datetime | None,
    person_open: int,
    *,
    cal: WorkCalendar,
) -> tuple[Slot | None, Refusal | None]:
    """The slot asked for, or why it cannot be booked.

    `taken` = places of that slot already booked; `same_service_that_day` = the slot start of
    this person's booking of the same service that day, if any; `person_open` = this person's
    bookings not yet due (all services)."""
    if day < now.date():
        return None, Refusal("appointment_day_past")
    if not is_open_day(hours, day, cal):
        return None, Refusal("appointment_day_closed", {"day": f"{day:%m月%d日}"})
    days = bookable_days(hours, acfg, now, cal=cal)
    if day not in days:
        if day == now.date():
            return None, Refusal("appointment_today_closed")
        return None, Refusal("appointment_day_too_far", {"last": f"{days[-1]:%m月%d日}" if days else ""})
    slot = next((s for s in day_slots(hours, rule, day, now.tzinfo, cal=cal) if s.start.time() == start), None)  # type: ignore[arg-type]
    if slot is None:
        return None, Refusal("appointment_no_such_slot", {"slot": f"{start:%H:%M}"})
    if slot.start < earliest_start(acfg, now):
        return None, Refusal("appointment_slot_passed", {"slot": slot.label})
    if same_service_that_day is not None:
        return None, Refusal("appointment_already_booked", {"slot": f"{same_service_that_day:%H:%M}"})
    if person_open >= acfg.max_open_per_person:
        return None, Refusal("appointment_too_many", {"limit": acfg.max_open_per_person})
    if taken >= rule.capacity:
        return None, Refusal("appointment_slot_full", {"slot": slot.label})
    return slot, None


def check_cancel(status: str, slot_start: datetime, now: datetime) -> Refusal | None:
    """A booking can be cancelled while it is booked and its slot has not started."""
    if status == "cancelled":
        return Refusal("appointment_already_cancelled")
    if status != "booked":
        return Refusal("appointment_checked_in")
    if now >= slot_start:
        return Refusal("appointment_cancel_too_late", {"slot": f"{slot_start:%H:%M}"})
    return None
