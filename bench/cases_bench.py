"""Cases (办件) figures: registering at the window through the HTTP API, the manager's list of a
busy hall's open cases, and the kiosk's look-up by ID hash and by number.

    .venv/bin/python bench/cases_bench.py [--cases 3000]

In-process app (FastAPI TestClient) on a SQLite file in a temp dir, ManualClock. The open cases
are built by registering real tickets day after day (a hall taking ~N/20 applications a day over
four weeks), so the list holds cases of every alert level."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient  # noqa: E402

from tests.cases.conftest import case_hall  # noqa: E402
from tests.fixtures_hall import MONDAY_0930  # noqa: E402
from yizhan.clock import ManualClock  # noqa: E402
from yizhan.config.model import HallConfig  # noqa: E402
from yizhan.privacy import id_hash  # noqa: E402
from queue_server.api.app import create_app  # noqa: E402
from queue_server.db.engine import Database  # noqa: E402
from queue_server.db.migrate import upgrade  # noqa: E402
from queue_server.domain.hours import is_working_day  # noqa: E402
from queue_server.tokens import create_token  # noqa: E402


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs)) - 1))]


def ms(xs: list[float]) -> str:
    return f"p50 {statistics.median(xs) * 1000:.1f} ms, p95 {pct(xs, 95) * 1000:.1f} ms"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=3000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    db = Database(f"sqlite:///{tmp / 'hall.db'}")
    upgrade(db.engine)
    cfg = HallConfig.model_validate(case_hall())
    clock = ManualClock(datetime.fromisoformat(MONDAY_0930) - timedelta(days=28))
    c = TestClient(create_app(cfg, db, clock))
    now = clock.now()
    kiosk = {"Authorization": "Bearer " + create_token(db, now, "kiosk", device="k")}
    clerk = {"Authorization": "Bearer " + create_token(db, now, "clerk", window="01", name="王芳")}
    admin = {"Authorization": "Bearer " + create_token(db, now, "admin", name="主任")}
    days = [d for d in (clock.now().date() + timedelta(days=i) for i in range(29)) if is_working_day(d, cfg.calendar)]
    per_day = max(1, args.cases // len(days))
    register, hashes, numbers = [], [], []
    for day in days:
        clock.set(datetime.combine(day, clock.now().timetz()))
        c.post("/api/v1/windows/01/open", headers=clerk)
        for i in range(per_day):
            h = id_hash(f"bench-{day}-{i}", b"k")
            body = {"service": "BDC01" if i % 3 else "RS02", "idempotency_key": uuid.uuid4().hex,
                    "identity": {"id_hash": h, "masked_id": "", "masked_name": "张*"}}
            assert c.post("/api/v1/tickets", json=body, headers=kiosk).status_code == 201
            assert c.post("/api/v1/windows/01/call-next", headers=clerk).status_code == 200
            t0 = time.perf_counter()
            r = c.post("/api/v1/windows/01/cases", json={}, headers=clerk)
            register.append(time.perf_counter() - t0)
            assert r.status_code == 201, r.text
            numbers.append(r.json()["case_number"])
            hashes.append(h)
            c.post("/api/v1/windows/01/finish", headers=clerk)
    total = len(numbers)
    lists = []
    for _ in range(10):
        t0 = time.perf_counter()
        rows = c.get("/api/v1/cases/open", headers=admin).json()
        lists.append(time.perf_counter() - t0)
    alerts = {a: sum(1 for r in rows if r["alert"] == a) for a in ("none", "due_soon", "yellow", "red")}
    d = c.app.state.case_desk
    sums = []
    for _ in range(10):
        t0 = time.perf_counter()
        counts = d.summary()
        sums.append(time.perf_counter() - t0)
    look_hash, look_number = [], []
    for i in range(0, total, max(1, total // 200)):
        t0 = time.perf_counter()
        assert len(c.get("/api/v1/cases", params={"id_hash": hashes[i]}, headers=kiosk).json()) == 1
        look_hash.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        assert len(c.get("/api/v1/cases", params={"case_number": numbers[i]}, headers=kiosk).json()) == 1
        look_number.append(time.perf_counter() - t0)
    print(f"open cases: {total} registered over {len(days)} working days ({per_day} a day); first 500 listed: {alerts}")
    print(f"counts over all open cases: {counts}")
    print(f"register (POST /windows/01/cases): {ms(register)} over {len(register)}")
    print(f"manager's list (GET /cases/open, 500 rows): {ms(lists)}")
    print(f"counts (every open case's alert): {ms(sums)}")
    print(f"kiosk look-up by id_hash: {ms(look_hash)}; by case number: {ms(look_number)}")
    db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
