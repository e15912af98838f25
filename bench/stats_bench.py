"""Statistics query on a month of a 40-window hall (~40,000 tickets) on SQLite.

    .venv/bin/python bench/stats_bench.py [--tickets 40000] [--db-url sqlite:////tmp/x.db]

Generates a month of tickets with their event log (issue, call, start, finish or skip), ratings
and follow-ups straight into the tables (bulk insert, like a month of real traffic would leave
them), then times queue_server.stats.compute for the month, a week and a day, and the XLSX export.
Prints the figures; docs/performance.md ("## Consoles") quotes them.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, time as dtime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select  # noqa: E402

from queue_server import stats  # noqa: E402
from queue_server.db.engine import Database  # noqa: E402
from queue_server.db.migrate import upgrade  # noqa: E402
from queue_server.db.tables import Followup, Rating, Ticket, TicketEvent  # noqa: E402
from queue_server.domain.hours import is_working_day  # noqa: E402
from yizhan.config import load_config  # noqa: E402
from yizhan.config.model import HallConfig, Window  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parent.parent


def hall_with_40_windows() -> HallConfig:
    cfg = load_config(ROOT / "config")
    extra = [Window(id=f"{35 + i}", queues={"L": 3, "B": 1}) for i in range(40 - len(cfg.windows))]
    return cfg.model_copy(update={"windows": list(cfg.windows) + extra})


def generate(db: Database, cfg: HallConfig, month: date, total: int, rng: random.Random) -> int:
    days = [month + timedelta(days=i) for i in range(31) if (month + timedelta(days=i)).month == month.month and is_working_day(month + timedelta(days=i), cfg.calendar)]
    per_day = total // len(days)
    services_by_queue: dict[str, list[str]] = {}
    for s in cfg.services:
        services_by_queue.setdefault(s.queue, []).append(s.code)
    queues = [q.id for q in cfg.queues if q.id in services_by_queue]
    weights = [q.daily_cap for q in cfg.queues if q.id in services_by_queue]
    windows_for = {q: [w.id for w in cfg.windows_for_queue(q)] for q in queues}
    clerks = {w.id: f"clerk{w.id}" for w in cfg.windows}
    tickets, events, ratings, followups = [], [], [], []
    tid = eid = rid = 0
    for day in days:
        seqs: dict[str, int] = {}
        opening = datetime.combine(day, dtime(8, 30), TZ)
        for _ in range(per_day):
            q = rng.choices(queues, weights)[0]
            seqs[q] = seqs.get(q, 0) + 1
            tid += 1
            issued = opening + timedelta(seconds=rng.uniform(0, 8 * 3600))
            called = issued + timedelta(seconds=rng.expovariate(1 / 900))
            window = rng.choice(windows_for[q])
            skipped = rng.random() < 0.06
            finished = None if skipped else called + timedelta(seconds=60 + rng.expovariate(1 / 420))
            state = "skipped" if skipped else "done"
            tickets.append({"id": tid, "day": day, "queue": q, "seq": seqs[q], "number": f"{q}{seqs[q]:03d}", "service": rng.choice(services_by_queue[q]),
                            "state": state, "priority": "none", "priority_detail": "", "issued_at": issued, "sort_at": issued, "called_at": called,
                            "finished_at": finished, "skipped_at": called + timedelta(minutes=2) if skipped else None, "window": window,
                            "clerk": clerks[window], "token": f"bench{tid}", "masked_id": "", "masked_name": "", "source": "kiosk",
                            "print_failed": False, "recall_count": 0})
            base = {"ticket_id": tid, "day": day, "queue": q, "detail": {}}
            for action, st, at, w in (("issue", "waiting", issued, None), ("call", "called", called, window)):
                eid += 1
                events.append(base | {"id": eid, "action": action, "state": st, "at": at, "window": w, "clerk": clerks[window] if w else None})
            eid += 1
            if skipped:
                events.append(base | {"id": eid, "action": "skip", "state": "skipped", "at": called + timedelta(minutes=2), "window": window, "clerk": clerks[window]})
                continue
            events.append(base | {"id": eid, "action": "finish", "state": "done", "at": finished, "window": window, "clerk": clerks[window]})
            if rng.random() < 0.6:
                rid += 1
                score = rng.choices([5, 4, 3, 2, 1], [70, 20, 6, 3, 1])[0]
                ratings.append({"id": rid, "ticket_id": tid, "day": day, "window": window, "clerk": clerks[window], "service": tickets[-1]["service"],
                                "score": score, "at": finished + timedelta(seconds=20), "source": "keypad"})
                if score <= 2:
                    followups.append({"rating_id": rid, "ticket_id": tid, "window": window, "clerk": clerks[window], "score": score,
                                      "opened_at": finished + timedelta(seconds=20), "deadline": day + timedelta(days=5),
                                      "status": "closed" if rng.random() < 0.8 else "open", "note": ""})
    with db.write() as s:
        for table, rows in ((Ticket, tickets), (TicketEvent, events), (Rating, ratings), (Followup, followups)):
            for i in range(0, len(rows), 5000):
                s.execute(insert(table), rows[i:i + 5000])
    return len(tickets)


def timed(fn, runs: int) -> tuple[float, float, float]:
    """Median and worst wall time, and the median CPU time of this process (the machine may be shared)."""
    samples, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        samples.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(samples), max(samples), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=40000)
    parser.add_argument("--db-url")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    db = Database(args.db_url or f"sqlite:///{Path(tmp.name) / 'bench.db'}")
    upgrade(db.engine)
    cfg = hall_with_40_windows()
    month = date(2026, 11, 1)
    t0 = time.perf_counter()
    n = generate(db, cfg, month, args.tickets, random.Random(2026))
    gen_s = time.perf_counter() - t0
    with db.read() as s:
        n_events = s.scalar(select(func.count()).select_from(TicketEvent))
        n_ratings = s.scalar(select(func.count()).select_from(Rating))
    print(f"hall: {len(cfg.windows)} windows, {len(cfg.queues)} queues, {len(cfg.services)} services; database {db.engine.url.get_backend_name()}")
    print(f"generated {n} tickets, {n_events} events, {n_ratings} ratings for {month:%Y-%m} in {gen_s:.1f} s")
    today = date(2026, 11, 30)
    report = None
    for kind, day in (("month", month), ("week", date(2026, 11, 16)), ("day", date(2026, 11, 18))):
        period = stats.period_for(kind, day)
        median, worst, cpu = timed(lambda: stats.compute(db, cfg, period, TZ, today=today), args.runs)
        r = stats.compute(db, cfg, period, TZ, today=today)
        report = report or r
        print(f"statistics {kind:5s} ({r['total']['issued']:>5} tickets): median {median * 1000:.0f} ms, worst {worst * 1000:.0f} ms "
              f"of {args.runs} runs; CPU {cpu * 1000:.0f} ms")
    median, worst, cpu = timed(lambda: stats.to_xlsx(report), 3)
    print(f"XLSX export of the month: median {median * 1000:.0f} ms; CPU {cpu * 1000:.0f} ms")
    print(f"load average while measuring: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    db.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
