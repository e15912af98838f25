"""Audit records: who changed what in the manager's console."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from queue_server.db.engine import Database
from queue_server.db.tables import AuditLog


def record(db: Database, now: datetime, actor: str, action: str, **detail: object) -> None:
    with db.write() as s:
        s.add(AuditLog(at=now, actor=actor, action=action, detail=dict(detail)))


def recent(db: Database, limit: int = 100) -> list[AuditLog]:
    with db.read() as s:
        return list(s.scalars(select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)))
