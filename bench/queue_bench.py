"""Queue server benchmark (not a test): ticket-issue and call-next latency and throughput at
1, 10 and 40 concurrent clients over HTTP against a real `yizhan server` on SQLite (closed loop),
40 windows calling at a steady pace and all at the same instant, and how call-next latency
grows with 100, 10,000 and 100,000 waiting tickets.

    .venv/bin/python bench/queue_bench.py [--db-url postgresql://…] [--quick]

Prints a Markdown table for docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures_hall import MONDAY_0930, small_hall, start_server, write_hall, yizhan, yizhan_env  # noqa: E402


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] * 1000


class RawClient:
    """A minimal keep-alive HTTP/1.1 client on asyncio streams. The load generator shares the two
    cores with the server, so it must cost next to nothing: a thread with httpx per window spent
    as much CPU as the server did, and that showed up as server latency."""

    def __init__(self, url: str, token: str) -> None:
        u = urlsplit(url)
        self.host, self.port, self.token = u.hostname, u.port, token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.used = 0.0

    async def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        if self.writer is not None and time.monotonic() - self.used > 4:  # uvicorn closes idle connections after 5 s
            await self.close()
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.used = time.monotonic()
        data = json.dumps(body).encode() if body is not None else b""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {self.token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        self.writer.write(head.encode() + data)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        payload = await self.reader.readexactly(length) if length else b""
        return int(status_line.split()[1]), payload

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


async def issue_tickets(url: str, kiosk: str, clients: int, per_client: int) -> tuple[list[float], float]:
    lat: list[float] = []

    async def one(n: int) -> None:
        c = RawClient(url, kiosk)
        for i in range(per_client):
            t0 = time.perf_counter()
            status, body = await c.request("POST", "/api/v1/tickets", {"service": "RS01", "idempotency_key": f"b{clients}-{n}-{i}-{time.time_ns()}"})
            lat.append(time.perf_counter() - t0)
            assert status == 201, body
        await c.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(clients)))
    return lat, time.perf_counter() - t0


async def open_windows(url: str, admin: str, windows: int) -> None:
    c = RawClient(url, admin)
    for n in range(windows):
        await c.request("POST", f"/api/v1/windows/{n + 1:02d}/open")
    await c.close()


async def http_round(url: str, kiosk: str, admin: str, clients: int, per_client: int) -> dict:
    """Closed loop: each client sends its next request as soon as the previous one answers."""
    issue_lat, issue_wall = await issue_tickets(url, kiosk, clients, per_client)
    await open_windows(url, admin, clients)
    call_lat: list[float] = []

    async def window_client(n: int) -> None:
        c = RawClient(url, admin)
        wid = f"{n + 1:02d}"
        while True:
            t0 = time.perf_counter()
            status, _ = await c.request("POST", f"/api/v1/windows/{wid}/call-next")
            dt = time.perf_counter() - t0
            if status == 204:
                break
            call_lat.append(dt)
            await c.request("POST", f"/api/v1/windows/{wid}/finish")
        await c.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(window_client(n) for n in range(clients)))
    call_wall = time.perf_counter() - t0
    return {
        "clients": clients,
        "issue_p50": pct(issue_lat, 50), "issue_p99": pct(issue_lat, 99), "issue_tps": len(issue_lat) / issue_wall,
        "call_p50": pct(call_lat, 50), "call_p99": pct(call_lat, 99), "calls": len(call_lat), "call_wall": call_wall,
    }


async def paced_round(url: str, kiosk: str, admin: str, windows: int, seconds: float, interval_s: float) -> dict:
    """`windows` windows each calling at a steady pace (a call every `interval_s` on average, with
    exponential gaps, staggered start): call-next latency as a clerk feels it."""
    import random

    await issue_tickets(url, kiosk, 4, int(windows * seconds / interval_s * 1.3 / 4) + 10)
    await open_windows(url, admin, windows)
    lat: list[float] = []
    stop_at = time.monotonic() + seconds

    async def window_client(n: int) -> None:
        rng = random.Random(n)
        wid = f"{n + 1:02d}"
        c = RawClient(url, admin)
        await asyncio.sleep(rng.uniform(0, interval_s))  # clerks do not press in step
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            status, _ = await c.request("POST", f"/api/v1/windows/{wid}/call-next")
            if status == 204:
                break
            lat.append(time.perf_counter() - t0)
            await c.request("POST", f"/api/v1/windows/{wid}/finish")
            await asyncio.sleep(rng.expovariate(1 / interval_s))
        await c.close()

    await asyncio.gather(*(window_client(n) for n in range(windows)))
    return {"interval": interval_s, "calls": len(lat), "p50": pct(lat, 50), "p99": pct(lat, 99), "max": max(lat) * 1000, "rate": len(lat) / seconds}


async def burst_round(url: str, kiosk: str, admin: str, windows: int, rounds: int) -> dict:
    """All windows press call-next at the same instant (the hall opens at nine), `rounds` times."""
    await issue_tickets(url, kiosk, 4, windows * rounds // 4 + 10)
    await open_windows(url, admin, windows)
    clients = [RawClient(url, admin) for _ in range(windows)]
    lat: list[float] = []

    async def press(n: int) -> None:
        t0 = time.perf_counter()
        status, _ = await clients[n].request("POST", f"/api/v1/windows/{n + 1:02d}/call-next")
        lat.append(time.perf_counter() - t0)
        assert status == 200

    for _ in range(rounds):
        await asyncio.gather(*(press(n) for n in range(windows)))
        await asyncio.gather(*(clients[n].request("POST", f"/api/v1/windows/{n + 1:02d}/finish") for n in range(windows)))
    for c in clients:
        await c.close()
    return {"calls": len(lat), "p50": pct(lat, 50), "p99": pct(lat, 99), "max": max(lat) * 1000}


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


def hall_server(tmp: Path, name: str):  # type: ignore[no-untyped-def]
    d = tmp / name
    env = yizhan_env(write_hall(d / "config", small_hall(windows=40, cap=9999)), d / "state")
    server = start_server(env)
    admin = yizhan("token", "--role", "admin", env=env)
    kiosk = yizhan("token", "--role", "kiosk", "--device", "bench", env=env)
    return server, admin, kiosk


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db-url", help="PostgreSQL URL for the scaling part (default: SQLite)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    per_client_total = 200 if args.quick else 800
    paced_s = 20 if args.quick else 60

    tmp = Path(tempfile.mkdtemp(prefix="yz-bench-"))
    load_start = "%.2f %.2f %.2f" % os.getloadavg()  # the two cores are shared: say how busy they were
    results, paced = [], []
    for clients in (1, 10, 40):
        server, admin, kiosk = hall_server(tmp, f"c{clients}")
        try:
            results.append(asyncio.run(http_round(server.url, kiosk, admin, clients, max(1, per_client_total // clients))))
        finally:
            server.stop()
    for interval in (10.0, 2.0):
        server, admin, kiosk = hall_server(tmp, f"paced{interval:g}")
        try:
            paced.append(asyncio.run(paced_round(server.url, kiosk, admin, 40, paced_s, interval)))
        finally:
            server.stop()
    server, admin, kiosk = hall_server(tmp, "burst")
    try:
        burst = asyncio.run(burst_round(server.url, kiosk, admin, 40, 10 if args.quick else 25))
    finally:
        server.stop()

    print(f"load average at start {load_start}, at end {'%.2f %.2f %.2f' % os.getloadavg()} ({os.cpu_count()} cores)")
    print()
    print("| concurrent clients | issue p50 ms | issue p99 ms | issue tickets/s | call-next p50 ms | call-next p99 ms | calls/s (call+finish) |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['clients']} | {r['issue_p50']:.1f} | {r['issue_p99']:.1f} | {r['issue_tps']:.0f} | {r['call_p50']:.1f} | {r['call_p99']:.1f} | {r['calls'] / r['call_wall']:.0f} |")
    print()
    print("| 40 windows, each calling every … on average | calls | calls/s | call-next p50 ms | call-next p99 ms | max ms |")
    print("|---|---|---|---|---|---|")
    for p in paced:
        print(f"| {p['interval']:g} s | {p['calls']} | {p['rate']:.1f} | {p['p50']:.1f} | {p['p99']:.1f} | {p['max']:.0f} |")
    print()
    print("| 40 windows pressing call-next at the same instant | calls | call-next p50 ms | call-next p99 ms | max ms |")
    print("|---|---|---|---|---|")
    print(f"| {burst['calls'] // 40} rounds | {burst['calls']} | {burst['p50']:.1f} | {burst['p99']:.1f} | {burst['max']:.0f} |")
    print()
    print("| waiting tickets | call-next p50 ms | call-next p99 ms |")
    print("|---|---|---|")
    for waiting in (100, 10_000, 100_000):
        p50, p99 = scaling(waiting, args.db_url)
        print(f"| {waiting:,} | {p50:.2f} | {p99:.2f} |")


if __name__ == "__main__":
    main()
