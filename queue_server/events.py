"""Outgoing events: payloads for the MQTT topics of docs/mqtt.md, written to the outbox
in the same transaction as the state change that caused them."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from yizhan.config.model import HallConfig
from yizhan.messaging import topics

from queue_server.db.tables import Outbox, Ticket, TicketEvent, WindowRow

# Rows a command appends while it runs, written with one multi-row INSERT per table just before
# its transaction commits: a call writes up to a dozen outbox rows, and one statement for all
# of them is several times cheaper than one ORM insert each (the writer lock is held meanwhile).
_PENDING = {"yz_pending_outbox": Outbox, "yz_pending_events": TicketEvent}
OUTBOX_WRITTEN = "yz_outbox"  # session.info flag: this transaction wrote outbox rows


def pending(session: Session, key: str) -> list[dict]:
    return session.info.setdefault(key, [])


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    for key, table in _PENDING.items():
        rows = session.info.pop(key, None)
        if rows:
            session.execute(insert(table.__table__), rows)  # Core: the ORM's bulk path costs more than the insert
            if table is Outbox:
                session.info[OUTBOX_WRITTEN] = True


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    for key in _PENDING:
        session.info.pop(key, None)


def window_label(cfg: HallConfig, window_id: str) -> str:
    return cfg.window(window_id).display_name


def window_spoken(cfg: HallConfig, window_id: str) -> str:
    w = cfg.window(window_id)
    return w.spoken_name or w.display_name


class Emitter:
    """Collects the events of one transaction into the outbox."""

    def __init__(self, session: Session, cfg: HallConfig, now: datetime) -> None:
        self.s = session
        self.cfg = cfg
        self.hall = cfg.hall.id
        self.now = now

    def _put(self, topic: str, body: dict, retain: bool) -> dict:
        payload = {"event_id": uuid.uuid4().hex, "hall": self.hall, "at": self.now.isoformat(timespec="milliseconds")} | body
        pending(self.s, "yz_pending_outbox").append(
            {"topic": topic, "payload": json.dumps(payload, ensure_ascii=False), "retain": retain, "created_at": self.now}
        )
        return payload

    def call(self, ticket: Ticket, window_id: str) -> dict:
        service = self.cfg.service(ticket.service)
        label = window_label(self.cfg, window_id)
        return self._put(
            topics.call(self.hall),
            {
                "ticket": ticket.number,
                "ticket_id": ticket.id,
                "queue": ticket.queue,
                "service": ticket.service,
                "service_name": service.name,
                "window": window_id,
                "window_name": label,
                "window_spoken": window_spoken(self.cfg, window_id),
                "text": f"请{ticket.number}号到{label}办理",
                "recall": ticket.recall_count,
                "masked_name": ticket.masked_name if self.cfg.hall.call_by_name else "",
            },
            retain=False,
        )

    def window_state(self, row: WindowRow, current: Ticket | None, finished: Ticket | None = None) -> dict:
        w = self.cfg.window(row.id)
        return self._put(
            topics.window_state(self.hall, row.id),
            {
                "window": row.id,
                "window_name": w.display_name,
                "state": row.state,
                "pause_reason": row.pause_reason,
                "ticket": current.number if current else None,
                "ticket_id": current.id if current else None,
                "ticket_state": current.state if current else None,
                "queues": list(w.queues),
                "clerk": row.clerk,
                "finished": {"ticket_id": finished.id, "ticket": finished.number} if finished else None,
            },
            retain=True,
        )

    def queue_state(self, queue_id: str, waiting: int, estimated_wait_s: int, is_open: bool) -> dict:
        q = self.cfg.queue(queue_id)
        return self._put(
            topics.queue_state(self.hall, queue_id),
            {"queue": queue_id, "name": q.name, "waiting": waiting, "estimated_wait_s": estimated_wait_s, "open": is_open},
            retain=True,
        )

    def ticket_event(self, ticket: Ticket, kind: str, **extra: object) -> dict:
        return self._put(topics.ticket(self.hall, ticket.token), {"type": kind, "ticket": ticket.number} | extra, retain=False)

    def device_status(self, device: str, kind: str, state: str, parts: dict) -> dict:
        return self._put(
            topics.device_status(self.hall, device), {"device": device, "kind": kind, "state": state, "parts": parts}, retain=True
        )
