"""The rules a ticket must pass at issue: opening hours, daily cap, real-name limits (实名取号)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from yizhan.config.model import Policy, Queue, RealName, Service, WorkCalendar
from yizhan.i18n import t

from queue_server.domain.hours import hours_text, is_working_day, issuing_open


@dataclass(frozen=True)
class Refusal:
    code: str  # queue_closed | daily_cap_reached | per_person_limit | open_ticket_exists | real_name_required
    params: dict = field(default_factory=dict)

    def message(self, lang: str = "zh_CN") -> str:
        return t(f"refusal.{self.code}", lang, **self.params)


@dataclass(frozen=True)
class PersonCounts:
    today: int  # tickets this person took today, in any queue
    open_in_queue: int  # tickets of this person still waiting/called/serving in this queue


def check_issue(
    service: Service,
    queue: Queue,
    policy: Policy,
    now: datetime,
    issued_today: int,
    person: PersonCounts | None,
    *,
    cal: WorkCalendar,
) -> Refusal | None:
    if not issuing_open(queue.hours, now, cal).open:
        if queue.hours.days == "workdays" and not is_working_day(now.date(), cal):
            return Refusal("hall_closed_day", {"day": f"{now.month}月{now.day}日"})
        return Refusal("queue_closed", {"queue": queue.name, "hours": hours_text(queue.hours)})
    if issued_today >= queue.daily_cap:
        return Refusal("daily_cap_reached", {"queue": queue.name, "cap": queue.daily_cap})
    if person is None:
        if service.real_name is RealName.REQUIRED:
            return Refusal("real_name_required", {"service": service.name})
        return None
    if person.open_in_queue > 0:
        return Refusal("open_ticket_exists", {"queue": queue.name})
    if person.today >= policy.per_person_daily_limit:
        return Refusal("per_person_limit", {"limit": policy.per_person_daily_limit})
    return None


def ticket_number(queue: Queue, seq: int) -> str:
    return f"{queue.id}{seq:0{queue.digits}d}"
