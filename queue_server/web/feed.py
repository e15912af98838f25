"""A small in-process change feed for the consoles' server-sent events.

Every state change writes its events to the `outbox` table in the same transaction, whichever
server process made it. One task per process asks the database for the outbox's highest id a few
times a second (an index look-up), reads the new rows and hands them to the subscribers (the open
SSE streams). So consoles on any process see changes made on any other, and browsers never poll.
The same loop notices configuration changes other processes recorded in the audit log.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import func, select

from queue_server.db.engine import Database
from queue_server.db.tables import AuditLog, Outbox

logger = logging.getLogger(__name__)

INTERVAL_S = 0.2
BATCH = 500


@dataclass(frozen=True)
class Change:
    id: int
    topic: str
    payload: dict


RESYNC = Change(0, "", {})  # "you may have missed something: take a fresh snapshot"


class Subscription:
    def __init__(self, feed: "ChangeFeed") -> None:
        self.feed = feed
        self.queue: asyncio.Queue[Change] = asyncio.Queue(maxsize=1000)

    def put(self, change: Change) -> None:
        try:
            self.queue.put_nowait(change)
        except asyncio.QueueFull:
            # A slow reader: drop its backlog and tell it to take a snapshot instead.
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(RESYNC)

    async def next_batch(self, timeout: float) -> list[Change] | None:
        """Waits for changes; returns everything pending at once (one snapshot per burst), or None on timeout."""
        try:
            first = await asyncio.wait_for(self.queue.get(), timeout)
        except asyncio.TimeoutError:
            return None
        batch = [first]
        while not self.queue.empty():
            batch.append(self.queue.get_nowait())
        return batch

    def close(self) -> None:
        self.feed._subs.discard(self)


class ChangeFeed:
    def __init__(self, db: Database, on_config_change: Callable[[], None] | None = None) -> None:
        self.db = db
        self.on_config_change = on_config_change
        self._subs: set[Subscription] = set()
        self._task: asyncio.Task | None = None
        self._last_outbox: int | None = None
        self._last_audit: int | None = None

    def start(self) -> None:
        """Starts the loop in the running event loop (at server start, or with the first stream)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="yizhan-change-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None

    def subscribe(self) -> Subscription:
        sub = Subscription(self)
        self._subs.add(sub)
        self.start()
        return sub

    def _heads(self) -> tuple[int, int]:
        with self.db.read() as s:
            return (s.scalar(select(func.max(Outbox.id))) or 0, s.scalar(select(func.max(AuditLog.id))) or 0)

    def _rows(self, after: int) -> list[Change]:
        with self.db.read() as s:
            rows = s.execute(select(Outbox.id, Outbox.topic, Outbox.payload).where(Outbox.id > after).order_by(Outbox.id).limit(BATCH)).all()
        out = []
        for id_, topic, payload in rows:
            try:
                body = json.loads(payload)
            except ValueError:
                body = {}
            out.append(Change(id_, topic, body))
        return out

    def _config_changed(self, after: int) -> bool:
        with self.db.read() as s:
            return s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.id > after, AuditLog.action.like("config.%"))) > 0

    async def _run(self) -> None:
        failing = False
        while True:
            try:
                outbox_head, audit_head = await asyncio.to_thread(self._heads)
                if failing:
                    logger.info("change feed: database reachable again")
                    failing = False
                if self._last_outbox is None:
                    self._last_outbox, self._last_audit = outbox_head, audit_head
                if outbox_head < self._last_outbox:
                    # Rows were purged and ids reused: start over from a snapshot.
                    self._last_outbox = outbox_head
                    self._broadcast(RESYNC)
                while outbox_head > self._last_outbox:
                    rows = await asyncio.to_thread(self._rows, self._last_outbox)
                    if not rows:
                        self._last_outbox = outbox_head
                        break
                    for change in rows:
                        self._broadcast(change)
                    self._last_outbox = rows[-1].id
                if audit_head != self._last_audit:
                    changed = await asyncio.to_thread(self._config_changed, self._last_audit or 0)
                    self._last_audit = audit_head
                    if changed and self.on_config_change is not None:
                        self.on_config_change()
                        self._broadcast(RESYNC)
            except Exception:  # the database may be restarting: keep the streams, retry
                if not failing:
                    logger.exception("change feed: cannot read the outbox")
                    failing = True
            await asyncio.sleep(INTERVAL_S)

    def _broadcast(self, change: Change) -> None:
        for sub in list(self._subs):
            sub.put(change)
