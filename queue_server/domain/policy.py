"""The call policy: which waiting ticket a window calls next, and why.

Rules, in order (each call records the rule that decided it, in words a clerk reads):
1. max-wait override — a ticket waiting longer than `policy.max_wait_min` goes first, so nobody waits forever;
2. appointments due now (slot start − early … slot end + late);
3. green channel (age ≥ min age, disability, military, pregnancy), with an optional N:1 ratio
   (N normal calls, then one priority call) when `policy.priority_ratio` > 0;
4. otherwise the queue whose head has the largest weight × waited time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from yizhan.config.model import Policy
from yizhan.i18n import t

from queue_server.domain.model import Candidate, PriorityKind


@dataclass(frozen=True)
class Choice:
    ticket: Candidate
    rule: str  # max_wait | appointment | green | ratio | weight | specific
    params: dict = field(default_factory=dict)

    def reason(self, lang: str = "zh_CN") -> str:
        params = dict(self.params)
        if "kind" in params:
            params["kind"] = t(f"green.{params['kind']}", lang)
        return t(f"policy.{self.rule}", lang, **params)


def _minutes(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds() // 60))


def _green_params(c: Candidate) -> dict:
    kind, _, value = c.priority_detail.partition(":")
    return {"number": c.number, "kind": kind or "other", "detail": value}


def appointment_due(c: Candidate, now: datetime, policy: Policy) -> bool:
    if c.priority is not PriorityKind.APPOINTMENT or c.slot_start is None:
        return False
    start = c.slot_start - timedelta(minutes=policy.appointment_early_min)
    end = (c.slot_end or c.slot_start) + timedelta(minutes=policy.appointment_late_min)
    return start <= now <= end


def choose_next(
    candidates: list[Candidate],
    weights: dict[str, int],
    now: datetime,
    policy: Policy,
    normal_since_priority: int = 0,
) -> Choice | None:
    """Picks from the heads of the queues a window serves.

    `candidates` holds, per queue, at least the longest-waiting normal ticket, the
    longest-waiting green-channel ticket and the appointments; order does not matter.
    `normal_since_priority` counts this window's normal calls since its last priority call.
    """
    pool = [c for c in candidates if c.queue in weights]
    if not pool:
        return None

    # 1. nobody waits forever
    limit = timedelta(minutes=policy.max_wait_min)
    overdue = [c for c in pool if now - c.issued_at >= limit]
    if overdue:
        c = min(overdue, key=lambda c: (c.issued_at, c.id))
        return Choice(c, "max_wait", {"number": c.number, "minutes": _minutes(now - c.issued_at), "limit": policy.max_wait_min})

    # 2. appointments due now, earliest slot first
    due = [c for c in pool if appointment_due(c, now, policy)]
    if due:
        c = min(due, key=lambda c: (c.slot_start, c.sort_at, c.id))
        return Choice(c, "appointment", {"number": c.number, "slot": f"{c.slot_start:%H:%M}"})

    # 3. green channel
    green = [c for c in pool if c.priority is PriorityKind.GREEN]
    normal = [c for c in pool if c.priority is PriorityKind.NONE or (c.priority is PriorityKind.APPOINTMENT and not due)]
    if green:
        g = min(green, key=lambda c: (c.sort_at, c.id))
        ratio = policy.priority_ratio
        if ratio == 0 or not normal or normal_since_priority >= ratio:
            params = _green_params(g)
            if ratio:
                params |= {"ratio": ratio}
                return Choice(g, "green_ratio", params)
            return Choice(g, "green", params)

    # 4. weighted longest wait across the window's queues
    best = max(
        normal,
        key=lambda c: (weights[c.queue] * max((now - c.sort_at).total_seconds(), 0.0) + weights[c.queue] * 1e-6, -c.id),
    )
    waited = _minutes(now - best.sort_at)
    if len({c.queue for c in normal}) > 1:
        return Choice(best, "weight", {"number": best.number, "queue": best.queue, "minutes": waited, "weight": weights[best.queue]})
    return Choice(best, "fifo", {"number": best.number, "queue": best.queue, "minutes": waited})
