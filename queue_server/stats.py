"""Statistics from the event log (ticket_events, ratings, followups) for a day, week or month.

Definitions (docs/consoles.md says the same):
- issued: tickets issued in the period, counted in the queue and service they were issued for;
- served: tickets finished (办结), counted where they were finished (queue, window, clerk);
- no-shows (未到/过号): tickets whose last state in the period is skipped or no_show,
  counted at the window and clerk that skipped them;
- paused (暂停): minutes a window was paused, from the window log, at the window and the clerk
  signed in there, and per reason; a pause never ended counts until the hall closes that day;
- gave up (放弃排队): tickets cancelled before they were ever called — mostly citizens who gave
  the number up on the phone page — counted in the queue and service they were issued for;
- wait: first call − issue; service time: finish − the last call (or a later 开始办理);
- averages and p90 (nearest rank: the smallest value ≥ 90 % of the values) in seconds;
- 好评率: (非常满意 + 满意 + 基本满意) / all ratings, the national 好差评 convention;
- 流动红旗: windows ranked by 好评率, then fewer 差评, then more served, then shorter service time.
The tickets table is the event log folded per ticket (written in the same transaction as every
event); one index range scan reads a period's tickets, and the event log itself supplies what the
fold drops — first calls of tickets called more than once, the issue queue of transferred tickets,
calls per window and clerk — by primary-key range scans. Counts, means and p90s are then
computed with numpy; a month of a 40-window hall (~40,000 tickets) answers in well under a
second on SQLite (bench/stats_bench.py).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time as dtime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Float, cast, func, literal, select

from yizhan.config.model import HallConfig
from yizhan.i18n import t

from queue_server.db.engine import Database
from queue_server.db.tables import Followup, Rating, Ticket, TicketEvent, WindowLog
from queue_server.domain.hours import is_working_day
from queue_server.domain.model import PauseReason
from queue_server.domain.pauses import StateChange, pauses

SCORES = (5, 4, 3, 2, 1)
SCORE_NAMES = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
GOOD_MIN = 3
PERIODS = ("day", "week", "month")
_ACTIONS = ("issue", "call", "start", "finish", "skip", "no_show", "cancel", "transfer", "rejoin")


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date  # exclusive

    @property
    def label(self) -> str:
        if self.kind == "day":
            return f"{self.start:%Y年%-m月%-d日}"
        if self.kind == "week":
            last = self.end - timedelta(days=1)
            return f"{self.start:%Y年%-m月%-d日}–{last:%-m月%-d日}（第{self.start.isocalendar().week}周）"
        return f"{self.start:%Y年%-m月}"

    def previous(self) -> "Period":
        return period_for(self.kind, self.start - timedelta(days=1))

    def next(self) -> "Period":
        return period_for(self.kind, self.end)


def period_for(kind: str, day: date) -> Period:
    if kind == "week":
        start = day - timedelta(days=day.weekday())
        return Period("week", start, start + timedelta(days=7))
    if kind == "month":
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
        return Period("month", start, end)
    return Period("day", day, day + timedelta(days=1))


def p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[(9 * len(ordered) + 9) // 10 - 1]  # nearest rank ceil(0.9 n), in integers (0.9 * 70 > 63.0 in floats)


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass
class Group:
    key: str
    name: str
    issued: int = 0
    called: int = 0
    served: int = 0
    no_shows: int = 0
    gave_up: int = 0
    paused_s: float = 0.0
    avg_wait_s: float | None = None
    p90_wait_s: float | None = None
    avg_service_s: float | None = None
    p90_service_s: float | None = None

    def row(self) -> dict:
        return {
            "key": self.key, "name": self.name, "issued": self.issued, "called": self.called, "served": self.served,
            "no_shows": self.no_shows, "gave_up": self.gave_up, "paused_s": self.paused_s, "avg_wait_s": self.avg_wait_s, "p90_wait_s": self.p90_wait_s,
            "avg_service_s": self.avg_service_s, "p90_service_s": self.p90_service_s,
        }


def _epoch(col, db: Database):  # type: ignore[no-untyped-def]
    # Durations are computed in SQL-native numbers: far cheaper than building 100k datetimes.
    if db.is_sqlite:
        # julianday() carries a few microseconds of float error: back to the millisecond stored.
        return func.round((func.julianday(col) - literal(2440587.5)) * literal(86400.0), 3)
    return cast(func.extract("epoch", col), Float)


def _ep(col, db: Database):  # type: ignore[no-untyped-def]
    return _epoch(col, db)


def _ticket_rows(db: Database, period: "Period"):  # type: ignore[no-untyped-def]
    """One row per ticket of the period: the tickets table is the event log folded per ticket
    (written in the same transaction as each event), read with one index range scan."""
    t = Ticket.__table__
    def ep(col):  # type: ignore[no-untyped-def]
        return func.coalesce(_ep(col, db), literal(-1.0))  # -1 = never happened (numbers for numpy)

    return select(
        t.c.id, t.c.service, t.c.queue, t.c.window, t.c.clerk, t.c.state, _ep(t.c.issued_at, db), ep(t.c.called_at),
        ep(t.c.serving_at), ep(t.c.finished_at),
    ).where(t.c.day >= period.start, t.c.day < period.end)


def _first_calls(db: Database, lo: int, hi: int, in_period: tuple):  # type: ignore[no-untyped-def]
    """From the event log, for tickets called more than once (过号 and called back, or transferred):
    the first call, its window and clerk — the ticket row keeps only the last call."""
    e = TicketEvent.__table__
    a = (
        select(e.c.ticket_id, func.min(e.c.id).label("first_id"))
        # Events are appended in time order, so a period is one id range: a primary-key range scan.
        .where(e.c.id >= lo, e.c.id <= hi, *in_period, e.c.action == "call")
        .group_by(e.c.ticket_id)
        .having(func.count() > 1)
        .subquery()
    )
    fc = e.alias("fc")
    return select(a.c.ticket_id, _ep(fc.c.at, db), fc.c.window, fc.c.clerk).select_from(a.join(fc, fc.c.id == a.c.first_id))


def _issue_queues(lo: int, hi: int, in_period: tuple):  # type: ignore[no-untyped-def]
    """The queue each transferred ticket was issued in (the ticket row holds the queue it ended in)."""
    e = TicketEvent.__table__
    moved = select(e.c.ticket_id).where(e.c.id >= lo, e.c.id <= hi, *in_period, e.c.action == "transfer")
    return select(e.c.ticket_id, e.c.queue).where(e.c.id >= lo, e.c.id <= hi, *in_period, e.c.action == "issue", e.c.ticket_id.in_(moved))


class _Groups(dict):
    def __init__(self, names: dict[str, str]) -> None:
        super().__init__()
        self.names = names

    def __missing__(self, key: str) -> Group:
        g = Group(key, self.names.get(key, key))
        self[key] = g
        return g


class _Labels:
    """Strings coded as small integers once, so grouping is bincount and lexsort on integers."""

    def __init__(self, values: list) -> None:
        self.names: list = []
        codes: dict = {}
        self.codes = np.array([codes.setdefault(v, len(codes)) for v in values], dtype=np.int64)
        self.names = list(codes)


def _grouped(labels: _Labels, values: np.ndarray, mask: np.ndarray) -> dict:
    """Per label: (count, mean, nearest-rank p90) of values[mask]."""
    lab, val = labels.codes[mask], values[mask]
    if not len(lab):
        return {}
    size = len(labels.names)
    counts = np.bincount(lab, minlength=size)
    sums = np.bincount(lab, weights=val, minlength=size)
    ordered = val[np.lexsort((val, lab))]  # by label, then value
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    out = {}
    for code in np.flatnonzero(counts).tolist():
        n = int(counts[code])
        out[labels.names[code]] = (n, float(sums[code]) / n, float(ordered[starts[code] + (9 * n + 9) // 10 - 1]))
    return out


def _counted(labels: _Labels, mask: np.ndarray) -> dict:
    counts = np.bincount(labels.codes[mask], minlength=len(labels.names))
    return {labels.names[c]: int(counts[c]) for c in np.flatnonzero(counts).tolist()}


def _hours(epochs: np.ndarray, tz: ZoneInfo) -> np.ndarray:
    """Local hour of each instant (the offset looked up once per day: time zones with DST too)."""
    days, inv = np.unique(np.floor(epochs / 86400).astype(np.int64), return_inverse=True)
    offsets = np.array([datetime.fromtimestamp(int(d) * 86400 + 43200, timezone.utc).astimezone(tz).utcoffset().total_seconds() for d in days])
    return ((epochs + offsets[inv]) // 3600 % 24).astype(np.int64)


def _fold(rows: list, first_calls: list, issue_queues: list, tz: ZoneInfo, total: Group,
          by_queue: "_Groups", by_service: "_Groups", by_window: "_Groups", by_clerk: "_Groups") -> list[dict]:
    """Counts, means and p90s of one period's tickets, vectorised with numpy (a month of a large
    hall is ~40,000 rows). Fills the groups; returns the hour-by-hour rows."""
    hourly = [{"hour": h, "issued": 0, "served": 0, "avg_wait_s": None, "p90_wait_s": None} for h in range(24)]
    if not rows:
        return hourly
    ids, services, queues, windows, clerks, states, issued, called, serving, finished = zip(*rows)
    issued, called, serving, finished = (np.array(x, dtype=float) for x in (issued, called, serving, finished))
    windows = [w or "" for w in windows]
    clerks = [c or "" for c in clerks]
    issue_queue, fc_window, fc_clerk, fc_at = list(queues), list(windows), list(clerks), called.copy()
    if first_calls or issue_queues:
        index = {tid: i for i, tid in enumerate(ids)}
        for tid, q in issue_queues:  # transferred: counted in the queue it was issued in
            if tid in index:
                issue_queue[index[tid]] = q
        for tid, at, w, c in first_calls:  # called more than once: the wait ends at the first call
            if tid in index:
                i = index[tid]
                fc_at[i], fc_window[i], fc_clerk[i] = at, w or "", c or ""
    service_a, queue_a, window_a, clerk_a = (_Labels(x) for x in (services, queues, windows, clerks))
    issue_queue_a, fc_window_a, fc_clerk_a = _Labels(issue_queue), _Labels(fc_window), _Labels(fc_clerk)
    state_a = np.array(states)
    everyone = np.ones(len(ids), dtype=bool)
    was_called = fc_at >= 0
    wait = fc_at - issued
    done = (state_a == "done") & (finished >= 0)
    start = np.where(serving > called, serving, called)
    timed = done & (start >= 0)
    service_time = finished - start
    no_show = (state_a == "skipped") | (state_a == "no_show")
    gave_up = (state_a == "cancelled") & ~was_called
    has_fc_window, has_fc_clerk = np.array(fc_window) != "", np.array(fc_clerk) != ""
    has_window, has_clerk = np.array(windows) != "", np.array(clerks) != ""

    def put(groups, issued_by, waits, served_by, services_by, no_shows_by, gave_up_by=None) -> None:  # type: ignore[no-untyped-def]
        for key, n in issued_by.items():
            groups[key].issued = n
        for key, n in (gave_up_by or {}).items():
            groups[key].gave_up = n
        for key, (_n, avg, p) in waits.items():
            groups[key].avg_wait_s, groups[key].p90_wait_s = avg, p
        for key, n in served_by.items():
            groups[key].served = n
        for key, (_n, avg, p) in services_by.items():
            groups[key].avg_service_s, groups[key].p90_service_s = avg, p
        for key, n in no_shows_by.items():
            groups[key].no_shows = n

    everything = _Labels([""] * len(ids))
    totals = _grouped(everything, wait, was_called), _grouped(everything, service_time, timed)
    total.issued, total.served, total.no_shows, total.gave_up = len(ids), int(done.sum()), int(no_show.sum()), int(gave_up.sum())
    if totals[0]:
        _n, total.avg_wait_s, total.p90_wait_s = totals[0][""]
    if totals[1]:
        _n, total.avg_service_s, total.p90_service_s = totals[1][""]
    put(by_queue, _counted(issue_queue_a, everyone), _grouped(issue_queue_a, wait, was_called), _counted(queue_a, done),
        _grouped(queue_a, service_time, timed), _counted(queue_a, no_show), _counted(issue_queue_a, gave_up))
    put(by_service, _counted(service_a, everyone), _grouped(service_a, wait, was_called), _counted(service_a, done),
        _grouped(service_a, service_time, timed), _counted(service_a, no_show), _counted(service_a, gave_up))
    put(by_window, {}, _grouped(fc_window_a, wait, was_called & has_fc_window), _counted(window_a, done & has_window),
        _grouped(window_a, service_time, timed & has_window), _counted(window_a, no_show & has_window))
    put(by_clerk, {}, _grouped(fc_clerk_a, wait, was_called & has_fc_clerk), _counted(clerk_a, done & has_clerk),
        _grouped(clerk_a, service_time, timed & has_clerk), _counted(clerk_a, no_show & has_clerk))
    issue_hour = _hours(issued, tz)
    served_hour = _hours(np.where(done, finished, issued), tz)
    for h, n in zip(range(24), np.bincount(issue_hour, minlength=24).tolist()):
        hourly[h]["issued"] = n
    for h, n in zip(range(24), np.bincount(served_hour[done], minlength=24).tolist()):
        hourly[h]["served"] = n
    hours = _Labels(issue_hour.tolist())
    for h, (_n, avg, p) in _grouped(hours, wait, was_called).items():
        hourly[h]["avg_wait_s"], hourly[h]["p90_wait_s"] = avg, p
    return hourly


def compute(db: Database, cfg: HallConfig, period: Period, tz: ZoneInfo | None = None, today: date | None = None,
            now: datetime | None = None) -> dict:
    tz = tz or ZoneInfo(cfg.hall.timezone)
    now = now or datetime.now(tz)
    today = today or now.astimezone(tz).date()
    in_period = (TicketEvent.day >= period.start, TicketEvent.day < period.end)
    queue_names = {q.id: q.name for q in cfg.queues}
    service_names = {s.code: s.name for s in cfg.services}
    window_names = {w.id: w.display_name for w in cfg.windows}
    by_queue, by_service = _Groups(queue_names), _Groups(service_names)
    by_window, by_clerk = _Groups(window_names), _Groups({})
    total = Group("total", "全部")
    hourly_rows: list[dict] = []

    with db.read() as s:
        conn = s.connection()  # Core rows: no ORM bookkeeping for tens of thousands of tuples
        lo, hi = conn.execute(select(func.min(TicketEvent.id), func.max(TicketEvent.id)).where(*in_period)).one()
        lo, hi = lo or 0, hi or 0
        first_calls = conn.execute(_first_calls(db, lo, hi, in_period)).all()
        issue_queues = conn.execute(_issue_queues(lo, hi, in_period)).all()
        rows = conn.execute(_ticket_rows(db, period)).all()
        hourly_rows = _fold(rows, first_calls, issue_queues, tz, total, by_queue, by_service, by_window, by_clerk)
        calls = conn.execute(
            select(TicketEvent.window, TicketEvent.clerk, func.count())
            .where(TicketEvent.id >= lo, TicketEvent.id <= hi, *in_period, TicketEvent.action == "call")
            .group_by(TicketEvent.window, TicketEvent.clerk)
        ).all()
        for window, clerk, n in calls:
            total.called += n
            if window:
                by_window[window].called += n
            if clerk:
                by_clerk[clerk].called += n
        ratings = conn.execute(
            select(Rating.window, Rating.clerk, Rating.score, func.count()).where(Rating.day >= period.start, Rating.day < period.end)
            .group_by(Rating.window, Rating.clerk, Rating.score)
        ).all()
        f, tk = Followup.__table__, Ticket.__table__
        followups = conn.execute(
            select(f.c.id, f.c.window, f.c.clerk, f.c.score, f.c.opened_at, f.c.deadline, f.c.status, f.c.closed_at, f.c.closed_by, f.c.note,
                   tk.c.number, tk.c.day, tk.c.service)
            .select_from(f.join(tk, tk.c.id == f.c.ticket_id))
            .where((f.c.status == "open") | ((f.c.opened_at >= _utc(period.start, tz)) & (f.c.opened_at < _utc(period.end, tz))))
            .order_by(f.c.deadline, f.c.id)
        ).all()
        window_log = conn.execute(
            select(WindowLog.window, WindowLog.state, WindowLog.reason, WindowLog.clerk, WindowLog.at)
            .where(WindowLog.day >= period.start, WindowLog.day < period.end).order_by(WindowLog.id)
        ).all()
    pause_reasons = _pauses(cfg, tz, now, window_log, total, by_window, by_clerk)
    satisfaction = _satisfaction([score for _w, _c, score, n in ratings for _ in range(n)])
    per_window_scores: dict[str, list[int]] = defaultdict(list)
    per_clerk_scores: dict[str, list[int]] = defaultdict(list)
    for w, c, score, n in ratings:
        if w:
            per_window_scores[w].extend([score] * n)
        if c:
            per_clerk_scores[c].extend([score] * n)
    followup_rows = []
    for fid, window, clerk, score, opened_at, deadline, status, closed_at, closed_by, note, number, day, service in followups:
        followup_rows.append({
            "id": fid, "ticket": number, "day": day.isoformat(), "service": service_names.get(service, service),
            "window": window_names.get(window or "", window or ""), "clerk": clerk or "", "score": score, "score_name": SCORE_NAMES.get(score, ""),
            "opened_at": opened_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), "deadline": deadline.isoformat(),
            "status": status, "overdue": status == "open" and deadline < today,
            "closed_at": closed_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if closed_at else "", "closed_by": closed_by or "", "note": note,
        })

    def rows(groups: _Groups, scores: dict[str, list[int]] | None = None, order: list[str] | None = None) -> list[dict]:
        keys = [k for k in (order or []) if k in groups] + sorted(k for k in groups if k not in (order or []))
        out = []
        for k in keys:
            row = groups[k].row()
            if scores is not None:
                row |= {"ratings": len(scores.get(k, [])), "good_rate": _good_rate(scores.get(k, [])),
                        "bad": sum(1 for x in scores.get(k, []) if x < GOOD_MIN)}
            out.append(row)
        return out

    window_rows = rows(by_window, per_window_scores, [w.id for w in cfg.windows])
    for k, sc in per_window_scores.items():
        if k not in by_window:
            window_rows.append(Group(k, window_names.get(k, k)).row() | {"ratings": len(sc), "good_rate": _good_rate(sc), "bad": sum(1 for x in sc if x < GOOD_MIN)})
    ranking = sorted(
        (r for r in window_rows if r["served"] or r["ratings"]),
        key=lambda r: (-(r["good_rate"] if r["good_rate"] is not None else -1), r["bad"], -r["served"], r["avg_service_s"] or 0),
    )
    for i, r in enumerate(ranking, 1):
        r["rank"] = i
    hourly = hourly_rows
    busiest = sorted((h for h in hourly if h["issued"]), key=lambda h: (-h["issued"], h["hour"]))[:3]
    return {
        "period": {"kind": period.kind, "start": period.start.isoformat(), "end": period.end.isoformat(), "label": period.label,
                   "working_days": sum(1 for i in range((period.end - period.start).days) if is_working_day(period.start + timedelta(days=i), cfg.calendar))},
        "total": total.row(),
        "by_queue": rows(by_queue, None, [q.id for q in cfg.queues]),
        "by_service": [r for r in rows(by_service, None, [s.code for s in cfg.services]) if r["issued"] or r["served"] or r["no_shows"]],
        "by_window": [r for r in window_rows if r["called"] or r["served"] or r["ratings"] or r["no_shows"] or r["paused_s"]],
        "by_clerk": rows(by_clerk, per_clerk_scores),
        "hourly": hourly,
        "busiest_hours": [h["hour"] for h in busiest],
        "satisfaction": satisfaction,
        "followups": followup_rows,
        "ranking": ranking,
        "pauses": pause_reasons,
    }


def _pauses(cfg: HallConfig, tz: ZoneInfo, now: datetime, log: list, total: Group, by_window: "_Groups", by_clerk: "_Groups") -> list[dict]:
    """Adds paused time to the window and clerk groups; returns count and time per reason."""
    closing = max((span.end for q in cfg.queues for span in q.hours.spans()), default=dtime(23, 59))
    changes = [StateChange(w, state, reason, clerk, at.astimezone(tz)) for w, state, reason, clerk, at in log]
    per_reason = {r.value: {"reason": r.value, "name": t(f"pause.{r.value}"), "count": 0, "seconds": 0.0} for r in PauseReason}
    for p in pauses(changes, lambda d: datetime.combine(d, closing, tz), now.astimezone(tz)):
        total.paused_s += p.seconds
        by_window[p.window].paused_s += p.seconds
        if p.clerk:
            by_clerk[p.clerk].paused_s += p.seconds
        item = per_reason.setdefault(p.reason, {"reason": p.reason, "name": p.reason, "count": 0, "seconds": 0.0})
        item["count"] += 1
        item["seconds"] += p.seconds
    return list(per_reason.values())


def _utc(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, datetime.min.time(), tz).astimezone(timezone.utc)


def _good_rate(scores: list[int]) -> float | None:
    return sum(1 for x in scores if x >= GOOD_MIN) / len(scores) if scores else None


def _satisfaction(scores: list[int]) -> dict:
    counts = {s: 0 for s in SCORES}
    for x in scores:
        counts[x] = counts.get(x, 0) + 1
    return {"total": len(scores), "counts": [{"score": s, "name": SCORE_NAMES[s], "count": counts[s]} for s in SCORES],
            "good_rate": _good_rate(scores), "bad": counts[1] + counts[2]}


# ---- formatting and export -----------------------------------------------------------------
def minutes(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 60:.1f}"


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


_COLUMNS = [
    ("name", "名称"), ("issued", "取号数"), ("called", "叫号数"), ("served", "办结数"), ("no_shows", "过号/未到"),
    ("gave_up", "放弃排队"),
    ("avg_wait_s", "平均等候(分钟)"), ("p90_wait_s", "90%等候(分钟)"), ("avg_service_s", "平均办理(分钟)"), ("p90_service_s", "90%办理(分钟)"),
]
_RATED = [("ratings", "评价数"), ("good_rate", "好评率"), ("bad", "差评数")]


def tables(report: dict) -> list[tuple[str, list[str], list[list]]]:
    """The report as (sheet title, header, rows) — the same figures the page shows."""

    def cell(key: str, value: object) -> object:
        if key.endswith("_s"):
            return None if value is None else round(value / 60, 1)
        if key == "good_rate":
            return None if value is None else round(value * 100, 1)
        return value

    def table(rows: list[dict], cols: list[tuple[str, str]]) -> list[list]:
        return [[cell(k, r.get(k)) for k, _ in cols] for r in rows]

    total = report["total"]
    sat = report["satisfaction"]
    overview = [
        ["统计期间", report["period"]["label"]], ["取号数", total["issued"]], ["办结数", total["served"]], ["过号/未到", total["no_shows"]],
        ["放弃排队", total["gave_up"]],
        ["平均等候(分钟)", cell("avg_wait_s", total["avg_wait_s"])], ["90%等候(分钟)", cell("p90_wait_s", total["p90_wait_s"])],
        ["平均办理(分钟)", cell("avg_service_s", total["avg_service_s"])], ["90%办理(分钟)", cell("p90_service_s", total["p90_service_s"])],
        ["评价数", sat["total"]], ["好评率(%)", cell("good_rate", sat["good_rate"])],
        ["最忙时段", "、".join(f"{h}:00-{h + 1}:00" for h in report["busiest_hours"])],
    ]
    queue_cols = [c for c in _COLUMNS if c[0] != "called"]
    window_cols = [c for c in _COLUMNS if c[0] not in ("issued", "gave_up")] + [("paused_s", "暂停(分钟)")] + _RATED
    hourly_cols = [("hour", "时段"), ("issued", "取号数"), ("served", "办结数"), ("avg_wait_s", "平均等候(分钟)"), ("p90_wait_s", "90%等候(分钟)")]
    fu_cols = [("ticket", "号码"), ("day", "日期"), ("service", "事项"), ("window", "窗口"), ("clerk", "工作人员"), ("score_name", "评价"),
               ("opened_at", "产生时间"), ("deadline", "整改期限"), ("status", "状态"), ("closed_at", "办结时间"), ("closed_by", "办结人"), ("note", "整改说明")]
    rank_cols = [("rank", "名次"), ("name", "窗口"), ("served", "办结数"), ("ratings", "评价数"), ("good_rate", "好评率(%)"), ("bad", "差评数"),
                 ("avg_service_s", "平均办理(分钟)")]
    return [
        ("概览", ["项目", "数值"], overview),
        ("按队列", [h for _, h in queue_cols], table(report["by_queue"], queue_cols)),
        ("按事项", [h for _, h in queue_cols], table(report["by_service"], queue_cols)),
        ("按窗口", [h for _, h in window_cols], table(report["by_window"], window_cols)),
        ("按工作人员", [h for _, h in window_cols], table(report["by_clerk"], window_cols)),
        ("按小时", [h for _, h in hourly_cols], [[f"{r['hour']:02d}:00"] + table([r], hourly_cols)[0][1:] for r in report["hourly"]]),
        ("满意度", ["评价", "数量"], [[c["name"], c["count"]] for c in sat["counts"]] + [["好评率(%)", cell("good_rate", sat["good_rate"])]]),
        ("差评整改", [h for _, h in fu_cols], [[("已整改" if v == "closed" else "待整改") if k == "status" else v for k, v in zip([c for c, _ in fu_cols], row)]
                                             for row in table(report["followups"], fu_cols)]),
        ("流动红旗", [h for _, h in rank_cols], table(report["ranking"], rank_cols)),
        ("暂停原因", ["原因", "次数", "合计(分钟)"], [[p["name"], p["count"], cell("seconds_s", p["seconds"])] for p in report["pauses"]]),
    ]


def to_csv(report: dict) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    for title, header, rows in tables(report):
        w.writerow([f"【{title}】"])
        w.writerow(header)
        w.writerows(["" if v is None else v for v in row] for row in rows)
        w.writerow([])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel on Windows opens UTF-8 Chinese correctly


def to_xlsx(report: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for title, header, rows in tables(report):
        ws = wb.create_sheet(title)
        ws.append(header)
        for c in ws[1]:
            c.font = Font(bold=True)
        for row in rows:
            ws.append(row)
        for i, _ in enumerate(header, 1):
            ws.column_dimensions[ws.cell(1, i).column_letter].width = 16 if i > 1 else 28
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def close_followup(db: Database, followup_id: int, now: datetime, by: str, note: str) -> Followup | None:
    with db.write() as s:
        f = s.get(Followup, followup_id)
        if f is None or f.status != "open":
            return None
        f.status, f.closed_at, f.closed_by, f.note = "closed", now, by, note.strip()[:2000]
        s.flush()
        return f
