"""Appointment booking against a real `yizhan server` (SQLite, the shipped 青岚县 hall.yaml).

    .venv/bin/python bench/appointments_bench.py [--days 5]

Books every place of every bookable service for the next --days open days over HTTP (one
client, a staff token so the per-address limit does not apply), then times the free-places
query, the booking page and the day list with the hall full, and a burst of 16 citizens racing
for one 3-place slot (from 16 threads). Prints the figures; docs/performance.md
("## Appointments") quotes them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.devices.idcard.idnumber import check_digit  # noqa: E402
from tests.fixtures_hall import start_server, yizhan, yizhan_env  # noqa: E402

NOW = "2026-11-23T08:00:00+08:00"  # Monday before opening: every slot of the week is free


def id_number(seq: int) -> str:
    first17 = f"620102{19500101 + seq // 1000 * 10000:08d}{seq % 1000:03d}"
    return first17 + check_digit(first17)


def ms(values: list[float]) -> str:
    v = sorted(values)
    return f"p50 {statistics.median(v) * 1000:.1f} ms, p95 {v[int(len(v) * 0.95) - 1] * 1000:.1f} ms, max {v[-1] * 1000:.1f} ms (n={len(v)})"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=5)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="yz-appt-bench-"))
    env = yizhan_env(ROOT / "config", tmp / "state", YIZHAN_NOW=NOW, YIZHAN_ID_HASH_KEY="bench-key")
    server = start_server(env)
    try:
        admin = yizhan("token", "--role", "admin", env=env)
        staff = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {admin}"}, timeout=30)
        public = httpx.Client(base_url=server.url, timeout=30)
        services = staff.get("/api/v1/appointments/services").json()
        book_t: list[float] = []
        seq = 0
        for s in services:
            for day in s["days"][1: args.days + 1]:
                for slot in staff.get("/api/v1/appointments/slots", params={"service": s["code"], "day": day}).json():
                    for _ in range(slot["free"]):
                        seq += 1
                        t0 = time.perf_counter()
                        r = staff.post("/api/v1/appointments", json={"service": s["code"], "day": day, "start": slot["start"],
                                                                     "id_number": id_number(seq), "name": "张三"})
                        book_t.append(time.perf_counter() - t0)
                        assert r.status_code == 201, r.text
        print(f"booked {len(book_t)} places ({len(services)} services × {args.days} days, every place): {ms(book_t)}")

        s, day = services[0], services[0]["days"][1]
        slots_t, page_t, list_t = [], [], []
        for _ in range(50):
            t0 = time.perf_counter()
            staff.get("/api/v1/appointments/slots", params={"service": s["code"], "day": day}).raise_for_status()
            slots_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            public.get(f"/book/{s['code']}", params={"day": day}).raise_for_status()
            page_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            rows = staff.get("/api/v1/appointments", params={"day": day}).json()
            list_t.append(time.perf_counter() - t0)
        print(f"free places of a day (GET /appointments/slots, full day): {ms(slots_t)}")
        print(f"booking page /book/{s['code']}?day= (server-rendered): {ms(page_t)}")
        print(f"day list of {len(rows)} bookings (GET /appointments?day=): {ms(list_t)}")

        # 16 citizens race for one 3-place slot of the last bookable day (free again: cancel its bookings)
        code, last_day = "BDC01", services[0]["days"][-1]
        slot = staff.get("/api/v1/appointments/slots", params={"service": code, "day": last_day}).json()[0]
        for a in staff.get("/api/v1/appointments", params={"day": last_day}).json():
            if a["service"] == code and a["start"] == slot["start"]:
                staff.post(f"/api/v1/appointments/{a['id']}/cancel").raise_for_status()
        barrier = threading.Barrier(16)
        results: list[int] = []
        times: list[float] = []

        def racer(i: int) -> None:
            with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {admin}"}, timeout=30) as c:
                barrier.wait()
                t0 = time.perf_counter()
                r = c.post("/api/v1/appointments", json={"service": code, "day": last_day, "start": slot["start"],
                                                         "id_number": id_number(5000 + i), "name": "李四"})
                times.append(time.perf_counter() - t0)
                results.append(r.status_code)

        threads = [threading.Thread(target=racer, args=(i,)) for i in range(16)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        print(f"16 concurrent bookings for one 3-place slot: {results.count(201)} booked, {results.count(409)} refused as full; {ms(times)}")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
