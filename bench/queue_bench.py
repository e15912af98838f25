"""Queue server benchmark (not a test): ticket-issue and call-next latency and throughput at
1, 10 and 40 concurrent clients over HTTP against a real `yizhan server` on SQLite, and how
call-next latency grows with 100, 10,000 and 100,000 waiting tickets.

    .venv/bin/python bench/queue_bench.py [--db-url postgresql://…] [--quick]

Prints a Markdown table for docs/performance.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures_hall import MONDAY_0930, small_hall, start_server, write_hall, yizhan, yizhan_env  # noqa: E402


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] * 1000


def http_round(url: str, kiosk: str, admin: str, clients: int, per_client: int) -> dict:
    issue_lat: list[float] = []
    call_lat: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def kiosk_client(n: int) -> None:
        mine = []
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {kiosk}"}, timeout=30) as c:
            barrier.wait()
            for i in range(per_client):
                t0 = time.perf_counter()
                r = c.post("/api/v1/tickets", json={"service": "RS01", "idempotency_key": f"b{clients}-{n}-{i}-{time.time_ns()}"})
                mine.append(time.perf_counter() - t0)
                assert r.status_code == 201, r.text
        with lock:
            issue_lat.extend(mine)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=kiosk_client, args=(n,)) for n in range(clients)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    issue_wall = time.perf_counter() - t0

    barrier = threading.Barrier(clients)

    def window_client(n: int) -> None:
        mine = []
        wid = f"{n + 1:02d}"
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin}"}, timeout=30) as c:
            c.post(f"/api/v1/windows/{wid}/open")
            barrier.wait()
            while True:
                t0 = time.perf_counter()
                r = c.post(f"/api/v1/windows/{wid}/call-next")
                dt = time.perf_counter() - t0
                if r.status_code == 204:
                    break
                mine.append(dt)
                c.post(f"/api/v1/windows/{wid}/finish")
        with lock:
            call_lat.extend(mine)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=window_client, args=(n,)) for n in range(clients)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    call_wall = time.perf_counter() - t0
    return {
        "clients": clients,
        "issue_p50": pct(issue_lat, 50), "issue_p99": pct(issue_lat, 99), "issue_tps": len(issue_lat) / issue_wall,
        "call_p50": pct(call_lat, 50), "call_p99": pct(call_lat, 99), "calls": len(call_lat), "call_wall": call_wall,
    }


def paced_round(url: str, kiosk: str, admin: str, windows: int, seconds: float, interval_s: float) -> dict:
    """40 windows each calling at a steady pace (a call every `interval_s` on average, far busier than
    a real hall, where a window calls every few minutes): call-next latency as a clerk feels it."""
    import random

    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {kiosk}"}, timeout=30) as c:
        for i in range(int(windows * seconds / interval_s * 1.2)):
            c.post("/api/v1/tickets", json={"service": "RS01", "idempotency_key": f"paced-{i}-{time.time_ns()}"})
    lat: list[float] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def window_client(n: int) -> None:
        rng = random.Random(n)
        wid = f"{n + 1:02d}"
        mine = []
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin}"}, timeout=30) as c:
            c.post(f"/api/v1/windows/{wid}/open")
            time.sleep(rng.uniform(0, interval_s))  # stagger: clerks do not press in step
            while time.monotonic() < stop_at:
                t0 = time.perf_counter()
                r = c.post(f"/api/v1/windows/{wid}/call-next")
                if r.status_code == 204:
                    break
                mine.append(time.perf_counter() - t0)
                c.post(f"/api/v1/windows/{wid}/finish")
                time.sleep(rng.expovariate(1 / interval_s))
        with lock:
            lat.extend(mine)

    threads = [threading.Thread(target=window_client, args=(n,)) for n in range(windows)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return {"calls": len(lat), "p50": pct(lat, 50), "p99": pct(lat, 99), "rate": len(lat) / seconds}


def scaling(waiting: int, db_url: str | None, calls: int = 200) -> tuple[float, float]:
    """In-process: call-next + finish on one window with `waiting` tickets in line."""
    from sqlalchemy import insert

    from queue_server.db.engine import Database
    from queue_server.db.migrate import upgrade
    from queue_server.db.tables import Counter, Ticket
    from queue_server.domain.model import WindowState
    from queue_server.service import Actor, HallService
    from yizhan.clock import ManualClock
    from yizhan.config.model import HallConfig

    tmp = Path(tempfile.mkdtemp(prefix="yz-bench-"))
    db = Database(db_url or f"sqlite:///{tmp / 'b.db'}")
    upgrade(db.engine)
    start = datetime.fromisoformat(MONDAY_0930)
    clock = ManualClock(start + timedelta(minutes=30))
    cfg = HallConfig.model_validate(small_hall(windows=2, cap=9999 if waiting < 9999 else 9999))
    svc = HallService(cfg, db, clock)
    svc.ensure_windows()
    day = start.date()
    rows = [
        dict(day=day, queue="B", seq=i + 1, number=f"B{i + 1:06d}", service="RS01", state="waiting", priority="none",
             priority_detail="", issued_at=start + timedelta(milliseconds=i), sort_at=start + timedelta(milliseconds=i),
             token=f"bench-{i}", recall_count=0, masked_id="", masked_name="", source="kiosk", print_failed=False)
        for i in range(waiting)
    ]
    with db.write() as s:
        for chunk in range(0, len(rows), 5000):
            s.execute(insert(Ticket), rows[chunk:chunk + 5000])
        s.add(Counter(day=day, queue="B", last_seq=waiting, waiting=waiting))
    actor = Actor(role="admin", name="bench")
    svc.set_window_state("02", WindowState.OPEN, actor)
    lat = []
    for _ in range(min(calls, waiting // 2)):
        t0 = time.perf_counter()
        svc.call_next("02", actor)
        lat.append(time.perf_counter() - t0)
        svc.finish("02", actor)
        clock.advance(1)
    db.dispose()
    return pct(lat, 50), pct(lat, 99)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db-url", help="PostgreSQL URL for the scaling part (default: SQLite)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    per_client_total = 200 if args.quick else 800

    tmp = Path(tempfile.mkdtemp(prefix="yz-bench-"))
    results = []
    for clients in (1, 10, 40):
        d = tmp / f"c{clients}"
        env = yizhan_env(write_hall(d / "config", small_hall(windows=40, cap=9999)), d / "state")
        server = start_server(env)
        try:
            admin = yizhan("token", "--role", "admin", env=env)
            kiosk = yizhan("token", "--role", "kiosk", "--device", "bench", env=env)
            results.append(http_round(server.url, kiosk, admin, clients, max(1, per_client_total // clients)))
        finally:
            server.stop()

    d = tmp / "paced"
    env = yizhan_env(write_hall(d / "config", small_hall(windows=40, cap=9999)), d / "state")
    server = start_server(env)
    try:
        admin = yizhan("token", "--role", "admin", env=env)
        kiosk = yizhan("token", "--role", "kiosk", "--device", "bench", env=env)
        paced = paced_round(server.url, kiosk, admin, 40, 20 if args.quick else 60, 2.0)
    finally:
        server.stop()

    print("| concurrent clients | issue p50 ms | issue p99 ms | issue tickets/s | call-next p50 ms | call-next p99 ms | calls/s (call+finish) |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['clients']} | {r['issue_p50']:.1f} | {r['issue_p99']:.1f} | {r['issue_tps']:.0f} | {r['call_p50']:.1f} | {r['call_p99']:.1f} | {r['calls'] / r['call_wall']:.0f} |")
    print()
    print("| 40 windows at a steady pace (a call every 2 s each) | calls | calls/s | call-next p50 ms | call-next p99 ms |")
    print("|---|---|---|---|---|")
    print(f"| closed windows stagger, exponential gaps | {paced['calls']} | {paced['rate']:.1f} | {paced['p50']:.1f} | {paced['p99']:.1f} |")
    print()
    print("| waiting tickets | call-next p50 ms | call-next p99 ms |")
    print("|---|---|---|")
    for waiting in (100, 10_000, 100_000):
        p50, p99 = scaling(waiting, args.db_url)
        print(f"| {waiting:,} | {p50:.2f} | {p99:.2f} |")


if __name__ == "__main__":
    main()
