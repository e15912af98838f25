"""Request bodies and the JSON shapes of tickets, windows, queues and services."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from yizhan.config.model import HallConfig

from queue_server.db.tables import Ticket, TicketEvent, WindowRow


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IdentityBody(Body):
    id_hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="keyed hash of the ID number (never the number)")
    masked_id: str = Field("", max_length=32)
    masked_name: str = Field("", max_length=32)
    age: int | None = Field(None, ge=0, le=150)
    card_type: Literal["resident", "hk_macau_taiwan", "foreign_permanent", "social_security"] = "resident"
    categories: list[Literal["disability", "military", "pregnancy"]] = Field(default_factory=list, max_length=3)


class TicketRequest(Body):
    service: str = Field(max_length=40)
    idempotency_key: str = Field(min_length=8, max_length=80)
    identity: IdentityBody | None = None
    source: Literal["kiosk", "desk", "wechat", "web"] = "kiosk"


class CheckInRequest(Body):
    identity: IdentityBody
    idempotency_key: str = Field(min_length=8, max_length=80)


class RatingRequest(Body):
    score: int = Field(ge=1, le=5, description="5 = 非常满意 … 1 = 非常不满意")


class PrintStatusRequest(Body):
    printed: bool
    error: str = Field("", max_length=200)


class TransferRequest(Body):
    queue: str = Field(max_length=4)
    position: Literal["first", "last"] = "last"


class PauseRequest(Body):
    reason: str | None = Field(None, max_length=16, description="away | meeting | training | meal | backoffice (default away)")


class CallRequest(Body):
    number: str | None = Field(None, max_length=8)
    ticket_id: int | None = None


class DeviceStatusRequest(Body):
    kind: str = Field(max_length=32)
    state: Literal["online", "offline", "degraded"]
    parts: dict[str, dict] = Field(default_factory=dict)


def ticket_json(cfg: HallConfig, t: Ticket, history: list[TicketEvent] | None = None) -> dict:
    service = cfg.service(t.service)
    out = {
        "id": t.id,
        "number": t.number,
        "queue": t.queue,
        "service": t.service,
        "service_name": service.name,
        "state": t.state,
        "priority": t.priority,
        "issued_at": t.issued_at.isoformat(),
        "called_at": t.called_at.isoformat() if t.called_at else None,
        "finished_at": t.finished_at.isoformat() if t.finished_at else None,
        "window": t.window,
        "window_name": cfg.window(t.window).display_name if t.window else None,
        "recall_count": t.recall_count,
        "token": t.token,
        "masked_name": t.masked_name,
        "print_failed": t.print_failed,
    }
    if history is not None:
        out["history"] = [
            {"action": e.action, "state": e.state, "at": e.at.isoformat(), "window": e.window, "clerk": e.clerk,
             "reason": e.detail.get("reason") if isinstance(e.detail, dict) else None}
            for e in history
        ]
    return out


def window_json(cfg: HallConfig, row: WindowRow, current: Ticket | None) -> dict:
    w = cfg.window(row.id)
    return {
        "id": w.id,
        "name": w.display_name,
        "kind": w.kind.value,
        "department": w.department,
        "queues": list(w.queues),
        "weights": dict(w.queues),
        "state": row.state,
        "pause_reason": row.pause_reason,
        "state_since": row.state_since.isoformat() if row.state_since else None,
        "clerk": row.clerk,
        "ticket": ticket_json(cfg, current) if current else None,
    }
