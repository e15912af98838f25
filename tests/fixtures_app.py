"""In-process API fixtures shared by the server, appointments and cases suites: the hall's clock
at MONDAY_0930, a migrated SQLite database, a TestClient on the suite's `app`, and a token for
every role. Each suite's conftest imports them and defines its own `cfg`/`app`."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from queue_server.db.engine import Database
from queue_server.db.migrate import upgrade
from queue_server.service import CommandError
from queue_server.tokens import create_token
from tests.fixtures_hall import MONDAY_0930
from yizhan.clock import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.fromisoformat(MONDAY_0930))


@pytest.fixture
def db(tmp_path: Path):
    database = Database(f"sqlite:///{tmp_path / 'hall.db'}")
    upgrade(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def client(app) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def tokens(db, clock) -> dict[str, str]:
    now = clock.now()
    return {
        "admin": create_token(db, now, "admin", name="主任"),
        "kiosk": create_token(db, now, "kiosk", device="kiosk-1"),
        "clerk01": create_token(db, now, "clerk", window="01", name="王芳"),
        "clerk02": create_token(db, now, "clerk", window="02", name="李强"),
        "display": create_token(db, now, "display", device="tv-1"),
        "device": create_token(db, now, "device", device="bus-1"),
        "wechat": create_token(db, now, "wechat"),
    }


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def race(n: int, attempt) -> list:  # type: ignore[no-untyped-def]
    """Runs attempt(i) in n threads released together: each one's result, or its refusal code."""
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


def outcomes(results: list) -> list[str]:
    """Sorted: "ok" for each success, else the refusal code."""
    return sorted(r if isinstance(r, str) else "ok" for r in results)
