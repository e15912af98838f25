"""The phone page's data: one ticket's live position, and a hub that wakes the page's
event streams when the ticket or its queue changes.

The hub tails the outbox (one indexed range query every `poll_s`, whatever the number of
open pages), so it sees every change made by any server process on the same database,
without a broker connection of its own."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field

from sqlalchemy import func, select

from yizhan.i18n import local_name, t
from yizhan.messaging import topics

from queue_server.db.tables import Outbox, Ticket
from queue_server.cases import phone_status
from queue_server.service import HallService

logger = logging.getLogger(__name__)

TERMINAL = ("done", "cancelled", "no_show", "expired")


def spaced(name: str | None) -> str:
    """'5号窗口' → '5 号窗口': the number stands out on a small screen."""
    return re.sub(r"^(\d+)\s*(?=\D)", r"\1 ", name or "")


def snapshot(svc: HallService, token: str, lang: str = "zh_CN") -> dict | None:
    """What the page shows; nothing personal (no name, no ID, no clerk)."""
    with svc.db.read() as s:
        ticket = s.scalar(select(Ticket).where(Ticket.token == token))
    if ticket is None:
        return None
    cfg = svc.cfg
    queue = cfg.queue(ticket.queue)
    service = cfg.service(ticket.service)
    base = {
        "number": ticket.number,
        "queue": ticket.queue,
        "queue_name": local_name(queue, lang),
        "service_name": local_name(service, lang),
        "ahead": None,
        "wait_min": None,
        "window": None,
        "window_name": None,
    }
    if ticket.day != svc.today():
        case = phone_status(svc, ticket.id, lang)  # the QR code follows the case (办件) after the visit
        headline, detail = case or (t("phone.expired", lang), t("phone.expired_detail", lang))
        return base | {"state": "expired", "headline": headline, "detail": detail}
    _, ahead, wait_s = svc.ticket_position(ticket.id)
    state = ticket.state
    window_name = cfg.window(ticket.window).display_name if ticket.window else None
    out = base | {"state": state, "window": ticket.window, "window_name": window_name}
    if state == "waiting":
        minutes = max(1, round(wait_s / 60)) if ahead else 0
        out |= {"ahead": ahead, "wait_min": minutes,
                "headline": t("phone.next", lang) if ahead == 0 else t("phone.waiting", lang, ahead=ahead),
                "detail": t("phone.waiting_detail", lang, minutes=minutes) if ahead else t("phone.next_detail", lang)}
    elif state == "called":
        out |= {"headline": t("phone.called", lang, window=spaced(window_name)), "detail": t("phone.called_detail", lang, number=ticket.number)}
    elif state == "serving":
        out |= {"headline": t("phone.serving", lang, window=spaced(window_name)), "detail": ""}
    elif state in ("skipped", "no_show"):
        out |= {"headline": t("phone.skipped", lang), "detail": t("phone.skipped_detail", lang)}
    elif state == "done":
        headline, detail = phone_status(svc, ticket.id, lang) or (t("phone.done", lang), t("phone.done_detail", lang))
        out |= {"headline": headline, "detail": detail}
    else:
        out |= {"headline": t("phone.cancelled", lang), "detail": t("phone.cancelled_detail", lang)}
    return out


@dataclass(eq=False)
class Watcher:
    token: str
    queue: str
    event: asyncio.Event = field(default_factory=asyncio.Event)


class PhoneHub:
    def __init__(self, svc: HallService, poll_s: float = 0.3) -> None:
        self.svc = svc
        self.poll_s = poll_s
        self.hall = svc.cfg.hall.id
        self._watchers: set[Watcher] = set()
        self._last_id: int | None = None
        self._task: asyncio.Task | None = None
        self.closing = False

    def watch(self, token: str, queue: str) -> Watcher:
        w = Watcher(token, queue)
        self._watchers.add(w)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        return w

    def unwatch(self, w: Watcher) -> None:
        self._watchers.discard(w)

    def stop(self) -> None:
        """Ends every open stream (the server is stopping; browsers reconnect to its successor)."""
        self.closing = True
        if self._task is not None:
            self._task.cancel()
        for w in list(self._watchers):
            w.event.set()

    def _fetch(self) -> list[str]:
        with self.svc.db.read() as s:
            if self._last_id is None:
                self._last_id = s.scalar(select(func.max(Outbox.id))) or 0
                return []
            rows = s.execute(select(Outbox.id, Outbox.topic).where(Outbox.id > self._last_id).order_by(Outbox.id).limit(5000)).all()
        if rows:
            self._last_id = rows[-1][0]
        return [topic for _, topic in rows]

    def _wake(self, changed: list[str]) -> None:
        ticket_prefix = topics.ticket(self.hall, "")
        tokens, queues = set(), set()
        for topic in changed:
            if topic.startswith(ticket_prefix):
                tokens.add(topic[len(ticket_prefix):])
            else:
                parts = topic.split("/")
                if len(parts) == 5 and parts[2] in ("queue", "window") and parts[4] == "state":
                    # A window opening or closing changes the estimates of its queues too.
                    queues.update([parts[3]] if parts[2] == "queue" else self._queues_of_window(parts[3]))
        for w in list(self._watchers):
            if w.token in tokens or w.queue in queues:
                w.event.set()

    def _queues_of_window(self, window_id: str) -> list[str]:
        try:
            return list(self.svc.cfg.window(window_id).queues)
        except StopIteration:
            return []

    async def _run(self) -> None:
        while self._watchers or self._last_id is None:
            try:
                changed = await asyncio.to_thread(self._fetch)
                if changed:
                    self._wake(changed)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("phone page: reading the outbox failed; trying again")
            await asyncio.sleep(self.poll_s)
        self._task = None
