"""Windows registering at the same instant, and two people moving one case at once, on SQLite
and on a real PostgreSQL: numbers stay unique and consecutive, a case moves once."""

from __future__ import annotations

from datetime import datetime

from tests.cases.conftest import case_hall
from tests.fixtures_hall import MONDAY_0930
from tests.fixtures_app import outcomes, race
from tests.fixtures_pg import database, postgres  # noqa: F401  (fixtures)
from yizhan.clock import ManualClock
from yizhan.config.model import HallConfig
from queue_server.cases import CaseDesk
from queue_server.domain.model import WindowState
from queue_server.service import Actor, HallService

WINDOWS = [f"{i:02d}" for i in range(1, 7)]


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
    assert outcomes(moves) == ["case_bad_transition", "ok"]
    history = desk.history(desk.get(first.case_number))
    assert [h.action for h in history] == ["case.accept", f"case.{desk.get(first.case_number).status}"]
