"""Bookings racing for the last places, on SQLite and on a real PostgreSQL: a slot never takes
more people than its places, and one person never gets two bookings of a service on one day."""

from __future__ import annotations

from datetime import date, time

from queue_server.appointments import AppointmentBook
from queue_server.service import HallService
from tests.fixtures_app import outcomes, race
from tests.fixtures_pg import database, postgres  # noqa: F401  (fixtures)

DAY = date(2026, 11, 24)


def test_racing_bookings_respect_places_and_one_per_person(database, cfg, clock):
    book = AppointmentBook(HallService(cfg, database, clock))
    # twelve people, one 2-place slot
    results = race(12, lambda i: book.book("GA01", DAY, time(9, 0), f"{i:064x}", "", "张*", "phone"))
    assert outcomes(results) == ["appointment_slot_full"] * 10 + ["ok"] * 2
    assert [p.free for p in book.slots("GA01", DAY) if p.slot.start.time() == time(9, 0)] == [0]
    # one person trying eight different slots of the same service that day at once
    slots = [time(10, 0), time(10, 30), time(11, 0), time(11, 30), time(14, 0), time(14, 30), time(15, 0), time(15, 30)]
    results = race(8, lambda i: book.book("GA01", DAY, slots[i], "f" * 64, "", "李*", "phone"))
    assert outcomes(results) == ["appointment_already_booked"] * 7 + ["ok"]
    assert len([a for a in book.day_list(DAY) if a.id_hash == "f" * 64]) == 1
