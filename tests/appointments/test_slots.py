"""The booking rules (queue_server/domain/slots.py) with an injected clock: slots from the
queue's hours, working days by China's official calendar, how far ahead, places per slot,
one booking per person, past slots, cancelling."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from queue_server.domain.slots import bookable_days, check_booking, check_cancel, day_slots, open_slots
from tests.appointments.conftest import booking_hall
from yizhan.clock import ManualClock
from yizhan.config.model import HallConfig

TZ = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return ManualClock(datetime.fromisoformat(text)).now()


@pytest.fixture
def hall() -> HallConfig:
    return HallConfig.model_validate(booking_hall())


def rules(hall: HallConfig, code: str):  # type: ignore[no-untyped-def]
    service = hall.service(code)
    return hall.queue(service.queue).hours, hall.appointments.services[code], hall.appointments


def book(hall: HallConfig, now: datetime, day: date, start: str, code: str = "GA01", taken: int = 0, same=None, person_open: int = 0):  # type: ignore[no-untyped-def]
    hours, rule, acfg = rules(hall, code)
    h, m = (int(x) for x in start.split(":"))
    return check_booking(hours, rule, acfg, now, day, time(h, m), taken, same, person_open, cal=hall.calendar)


def test_slots_fill_every_opening_span(hall):
    hours, rule, _ = rules(hall, "GA01")
    labels = [s.label for s in day_slots(hours, rule, date(2026, 11, 23), TZ, cal=hall.calendar)]
    assert labels[:2] == ["08:30-09:00", "09:00-09:30"]
    assert "11:30-12:00" in labels and "12:00-12:30" not in labels  # queue A has no lunch service
    assert labels[-1] == "17:00-17:30"
    assert len(labels) == 14
    # queue B serves at lunch (午休延时服务); 60-minute slots that would cross a span's end are left out
    hours, rule, _ = rules(hall, "RS01")
    labels = [s.label for s in day_slots(hours, rule, date(2026, 11, 23), TZ, cal=hall.calendar)]
    assert labels == ["08:30-09:30", "09:30-10:30", "10:30-11:30", "12:00-13:00", "13:00-14:00",
                      "14:00-15:00", "15:00-16:00", "16:00-17:00"]


def test_slots_end_before_ticket_issuing_stops():
    cfg = booking_hall()
    cfg["queues"][0]["hours"]["stop_issuing_before_close_min"] = 30
    hall = HallConfig.model_validate(cfg)
    hours, rule, _ = rules(hall, "GA01")
    assert day_slots(hours, rule, date(2026, 11, 23), TZ, cal=hall.calendar)[-1].label == "16:30-17:00"


def test_weekends_and_public_holidays_have_no_slots_but_adjusted_working_saturdays_do(hall):
    hours, rule, acfg = rules(hall, "GA01")
    assert day_slots(hours, rule, date(2026, 11, 28), TZ, cal=hall.calendar) == []  # Saturday
    assert day_slots(hours, rule, date(2026, 10, 1), TZ, cal=hall.calendar) == []  # 国庆节
    assert len(day_slots(hours, rule, date(2026, 10, 10), TZ, cal=hall.calendar)) == 14  # Saturday, 调休上班
    # the day before the National Day holiday: today, then the next 3 working days after the holiday
    now = at("2026-09-30T10:00:00+08:00")
    assert bookable_days(hours, acfg, now, cal=hall.calendar) == [date(2026, 9, 30), date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 10)]
    slot, refusal = book(hall, now, date(2026, 10, 3), "09:00")
    assert slot is None and refusal.code == "appointment_day_closed"
    slot, refusal = book(hall, now, date(2026, 10, 10), "09:00")
    assert refusal is None and slot.start == datetime(2026, 10, 10, 9, 0, tzinfo=TZ)


def test_only_up_to_n_working_days_ahead(hall):
    now = at("2026-11-23T09:30:00+08:00")  # Monday
    hours, _, acfg = rules(hall, "GA01")
    assert bookable_days(hours, acfg, now, cal=hall.calendar)[-1] == date(2026, 11, 26)  # Thursday: 3 working days ahead
    _, refusal = book(hall, now, date(2026, 11, 27), "09:00")
    assert refusal.code == "appointment_day_too_far" and refusal.params == {"last": "11月26日"}
    # on Friday the 3 days ahead jump the weekend
    friday = at("2026-11-27T16:00:00+08:00")
    assert bookable_days(hours, acfg, friday, cal=hall.calendar) == [date(2026, 11, 27), date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2)]


def test_no_booking_in_the_past_or_too_close(hall):
    now = at("2026-11-23T09:30:00+08:00")
    _, refusal = book(hall, now, date(2026, 11, 20), "09:00")
    assert refusal.code == "appointment_day_past"
    _, refusal = book(hall, now, date(2026, 11, 23), "09:00")  # already over
    assert refusal.code == "appointment_slot_passed"
    _, refusal = book(hall, now, date(2026, 11, 23), "09:30")  # starting now: less than the 30 min lead
    assert refusal.code == "appointment_slot_passed"
    slot, refusal = book(hall, now, date(2026, 11, 23), "10:00")
    assert refusal is None and slot.label == "10:00-10:30"
    hours, rule, acfg = rules(hall, "GA01")
    assert [s.label for s in open_slots(hours, rule, acfg, date(2026, 11, 23), now, cal=hall.calendar)][:1] == ["10:00-10:30"]
    # after closing time nothing is left today
    evening = at("2026-11-23T17:10:00+08:00")
    assert open_slots(hours, rule, acfg, date(2026, 11, 23), evening, cal=hall.calendar) == []


def test_today_not_bookable_when_the_hall_books_only_later_days():
    hall = HallConfig.model_validate(booking_hall(same_day=False))
    now = at("2026-11-23T08:00:00+08:00")
    hours, _, acfg = rules(hall, "GA01")
    assert bookable_days(hours, acfg, now, cal=hall.calendar)[0] == date(2026, 11, 24)
    _, refusal = book(hall, now, date(2026, 11, 23), "14:00")
    assert refusal.code == "appointment_today_closed"


def test_capacity_per_slot(hall):
    now = at("2026-11-23T09:30:00+08:00")
    assert book(hall, now, date(2026, 11, 24), "09:00", taken=1)[1] is None
    slot, refusal = book(hall, now, date(2026, 11, 24), "09:00", taken=2)  # GA01 takes 2 a slot
    assert slot is None and refusal.code == "appointment_slot_full" and refusal.params == {"slot": "09:00-09:30"}


def test_one_booking_per_person_service_and_day_and_a_cap_on_open_bookings(hall):
    now = at("2026-11-23T09:30:00+08:00")
    mine = datetime(2026, 11, 24, 10, 0, tzinfo=TZ)
    _, refusal = book(hall, now, date(2026, 11, 24), "14:00", same=mine)
    assert refusal.code == "appointment_already_booked" and refusal.params == {"slot": "10:00"}
    _, refusal = book(hall, now, date(2026, 11, 24), "14:00", person_open=3)
    assert refusal.code == "appointment_too_many"
    assert book(hall, now, date(2026, 11, 24), "14:00", person_open=2)[1] is None


def test_a_slot_must_exist(hall):
    now = at("2026-11-23T09:30:00+08:00")
    _, refusal = book(hall, now, date(2026, 11, 24), "09:15")
    assert refusal.code == "appointment_no_such_slot"
    _, refusal = book(hall, now, date(2026, 11, 24), "12:30")  # queue A is closed at lunch
    assert refusal.code == "appointment_no_such_slot"


def test_cancel_until_the_slot_starts():
    start = datetime(2026, 11, 24, 9, 0, tzinfo=TZ)
    assert check_cancel("booked", start, start - timedelta(seconds=1)) is None
    assert check_cancel("booked", start, start).code == "appointment_cancel_too_late"
    assert check_cancel("cancelled", start, start - timedelta(hours=1)).code == "appointment_already_cancelled"
    assert check_cancel("checked_in", start, start - timedelta(hours=1)).code == "appointment_checked_in"


def test_a_closure_in_the_halls_calendar_has_no_slots_and_is_not_bookable():
    hall = HallConfig.model_validate(booking_hall() | {"calendar": {"holidays": ["2026-11-24"]}})  # 闭厅 on a Tuesday
    now = at("2026-11-23T09:30:00+08:00")
    hours, rule, acfg = rules(hall, "GA01")
    assert day_slots(hours, rule, date(2026, 11, 24), TZ, cal=hall.calendar) == []
    assert bookable_days(hours, acfg, now, cal=hall.calendar)[1:3] == [date(2026, 11, 25), date(2026, 11, 26)]
    _, refusal = book(hall, now, date(2026, 11, 24), "09:00")
    assert refusal.code == "appointment_day_closed" and refusal.params == {"day": "11月24日"}
