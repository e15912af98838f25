"""Windows registering at the same instant, and two people moving one case at once, on SQLite
and on a real PostgreSQL: numbers stay unique and consecutive, a case moves once."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime

import pytest

from tests.cases.conftest import case_hall
from tests.fixtures_hall import MONDAY_0930
from tests.fixtures_pg import postgres  # noqa: F401  (fixture)
from yizhan.clock import ManualClock
from yizhan.config.model import HallConfig
from queue_server.cases import CaseDesk
from queue_server.db.engine import Database
from queue_server.db.migrate import upgrade
from queue_server.domain.model import WindowState
from queue_server.service import Actor, CommandError, HallService

WINDOWS = [f"{i:02d}" for i in range(1, 7)]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path):
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'hall.db'}")
    else:
        db = Database(request.getfixturevalue("postgres").create_database(f"cases_{uuid.uuid4().hex[:10]}"))
    upgrade(db.engine)
    yield db
    db.dispose()


def race(n: int, attempt) -> list:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = attempt(i)
        except CommandError as exc:
            results[i] = exc.code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return results


def test_racing_windows_and_racing_moves(database):
    svc = HallService(HallConfig.model_validate(case_hall(windows=6)), database, ManualClock(datetime.fromisoformat(MONDAY_0930)))
    svc.ensure_windows()
    desk = CaseDesk(svc)
    clerks = {w: Actor("clerk", f"clerk{w}", w) for w in WINDOWS}
    for i, w in enumerate(WINDOWS):
        svc.issue_ticket("RS02", f"race-{i:04d}", None)
        svc.set_window_state(w, WindowState.OPEN, clerks[w])
        assert svc.call_next(w, clerks[w]) is not None
    cases = race(len(WINDOWS), lambda i: desk.register(WINDOWS[i], clerks[WINDOWS[i]]))
    numbers = sorted(c.case_number for c in cases)
    assert numbers == [f"20261123{n:04d}" for n in range(1, 7)]
    # The same window's clerk on two screens: 办结 and 退回 at once — exactly one wins.
    first = next(c for c in cases if c.window == "01")
    moves = race(2, lambda i: desk.move(first.case_number, ("done", "returned")[i], clerks["01"], "缺少材料"))
    outcomes = sorted(m if isinstance(m, str) else "ok" for m in moves)
    assert outcomes == ["case_bad_transition", "ok"]
    history = desk.history(desk.get(first.case_number))
    assert [h.action for h in history] == ["case.accept", f"case.{desk.get(first.case_number).status}"]
