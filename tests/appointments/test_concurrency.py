"""Bookings racing for the last places, on SQLite and on a real PostgreSQL: a slot never takes
more people than its places, and one person never gets two bookings of a service on one day."""

from __future__ import annotations

import threading
import uuid
from datetime import date, time

import pytest

from queue_server.appointments import AppointmentBook
from queue_server.db.engine import Database
from queue_server.db.migrate import upgrade
from queue_server.service import CommandError, HallService
from tests.fixtures_pg import postgres  # noqa: F401

DAY = date(2026, 11, 24)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path):
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'hall.db'}")
    else:
        pg = request.getfixturevalue("postgres")
        db = Database(pg.create_database(f"appt_{uuid.uuid4().hex[:10]}"))
    upgrade(db.engine)
    yield db
    db.dispose()


def race(n: int, attempt) -> list[str]:  # type: ignore[no-untyped-def]
    """Runs attempt(i) in n threads released together; the outcome of each ("ok" or the refusal code)."""
    barrier = threading.Barrier(n)
    results: list[str] = [""] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            attempt(i)
            results[i] = "ok"
        except CommandError as exc:
            results[i] = exc.code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return results


def test_racing_bookings_respect_places_and_one_per_person(database, cfg, clock):
    book = AppointmentBook(HallService(cfg, database, clock))
    # twelve people, one 2-place slot
    results = race(12, lambda i: book.book("GA01", DAY, time(9, 0), f"{i:064x}", "", "张*", "phone"))
    assert sorted(results) == ["appointment_slot_full"] * 10 + ["ok"] * 2
    assert [p.free for p in book.slots("GA01", DAY) if p.slot.start.time() == time(9, 0)] == [0]
    # one person trying eight different slots of the same service that day at once
    slots = [time(10, 0), time(10, 30), time(11, 0), time(11, 30), time(14, 0), time(14, 30), time(15, 0), time(15, 30)]
    results = race(8, lambda i: book.book("GA01", DAY, slots[i], "f" * 64, "", "李*", "phone"))
    assert sorted(results) == ["appointment_already_booked"] * 7 + ["ok"]
    assert len([a for a in book.day_list(DAY) if a.id_hash == "f" * 64]) == 1
