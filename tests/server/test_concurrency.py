"""No two windows ever get the same ticket: 40 windows calling at once against real server
processes — one on SQLite, two on one PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.fixtures_hall import small_hall, start_server, write_hall, yizhan, yizhan_env
from tests.fixtures_pg import postgres  # noqa: F401  (fixture)

WINDOWS = 40
TICKETS = 240


def _issue_all(url: str, kiosk: str) -> set[int]:
    ids = set()
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {kiosk}"}, timeout=30) as c:
        for i in range(TICKETS):
            body = {"service": "RS01" if i % 4 else "GA01", "idempotency_key": f"conc-{i:05d}"}
            if i % 4 == 0:
                body["identity"] = {"id_hash": f"{i:064x}", "masked_id": "6201**********0000", "age": 40}
            r = c.post("/api/v1/tickets", json=body)
            assert r.status_code == 201, r.text
            ids.add(r.json()["id"])
    return ids


def _storm(urls: list[str], admin: str) -> list[int]:
    """Every window opens, then all call-next/finish at once until nothing waits."""
    called: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(WINDOWS)
    errors: list[str] = []

    def window(n: int) -> None:
        wid = f"{n:02d}"
        url = urls[n % len(urls)]
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin}"}, timeout=60) as c:
            opened = c.post(f"/api/v1/windows/{wid}/open")
            if opened.status_code != 200:
                errors.append(opened.text)
                barrier.abort()
                return
            try:
                barrier.wait(120)
            except threading.BrokenBarrierError:
                return
            while True:
                r = c.post(f"/api/v1/windows/{wid}/call-next")
                if r.status_code == 204:
                    return
                if r.status_code != 200:
                    errors.append(r.text)
                    return
                with lock:
                    called.append(r.json()["ticket"]["id"])
                f = c.post(f"/api/v1/windows/{wid}/finish")
                if f.status_code != 200:
                    errors.append(f.text)
                    return

    threads = [threading.Thread(target=window, args=(n,)) for n in range(1, WINDOWS + 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors, errors[:3]
    return called


def _assert_no_double_calls(issued: set[int], called: list[int]) -> None:
    doubles = [i for i, n in Counter(called).items() if n > 1]
    assert doubles == [], f"tickets called twice: {doubles}"
    assert set(called) == issued, f"{len(issued - set(called))} tickets never called"


def test_forty_windows_on_sqlite(tmp_path: Path):
    env = yizhan_env(write_hall(tmp_path / "config", small_hall(windows=WINDOWS)), tmp_path / "state")
    server = start_server(env)
    try:
        admin = yizhan("token", "--role", "admin", env=env)
        kiosk = yizhan("token", "--role", "kiosk", "--device", "kiosk-1", env=env)
        issued = _issue_all(server.url, kiosk)
        _assert_no_double_calls(issued, _storm([server.url], admin))
    finally:
        server.stop()


@pytest.mark.postgres
def test_forty_windows_on_postgresql_with_two_servers(tmp_path: Path, postgres):  # noqa: F811
    db_url = postgres.create_database("conc")
    env = yizhan_env(write_hall(tmp_path / "config", small_hall(windows=WINDOWS)), tmp_path / "state", YIZHAN_DB_URL=db_url)
    first = start_server(env, log_name="server1.log")
    second = start_server(env, log_name="server2.log")
    try:
        admin = yizhan("token", "--role", "admin", env=env)
        kiosk = yizhan("token", "--role", "kiosk", "--device", "kiosk-1", env=env)
        issued = _issue_all(first.url, kiosk)
        _assert_no_double_calls(issued, _storm([first.url, second.url], admin))
    finally:
        first.stop()
        second.stop()
