"""The queue server's tables. Times are stored in UTC and come back as aware datetimes."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator):
    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # type: ignore[override]
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; the hall's clock is always aware")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):  # type: ignore[override]
        return None if value is None else value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict: JSON, date: Date}


class Ticket(Base):
    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[date]
    queue: Mapped[str] = mapped_column(String(4))
    seq: Mapped[int]
    number: Mapped[str] = mapped_column(String(8))
    service: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16), default="none")  # none | green | appointment
    priority_detail: Mapped[str] = mapped_column(String(64), default="")
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"), default=None)
    issued_at: Mapped[datetime]
    sort_at: Mapped[datetime]  # place in line; transfer and rejoin move it, issued_at never changes
    called_at: Mapped[datetime | None] = mapped_column(default=None)
    serving_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    skipped_at: Mapped[datetime | None] = mapped_column(default=None)
    window: Mapped[str | None] = mapped_column(String(8), default=None)
    clerk: Mapped[str | None] = mapped_column(String(64), default=None)
    recall_count: Mapped[int] = mapped_column(default=0)
    token: Mapped[str] = mapped_column(String(48), unique=True)
    id_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    masked_id: Mapped[str] = mapped_column(String(32), default="")
    masked_name: Mapped[str] = mapped_column(String(32), default="")
    source: Mapped[str] = mapped_column(String(16), default="kiosk")
    idempotency_key: Mapped[str | None] = mapped_column(String(80), unique=True, default=None)
    print_failed: Mapped[bool] = mapped_column(Boolean, default=False)
    last_ahead_sent: Mapped[int | None] = mapped_column(default=None)
    __table_args__ = (
        UniqueConstraint("day", "number", name="uq_ticket_number"),
        # call-next reads the head of each queue: O(log n) whatever the length of the line
        Index("ix_tickets_head", "day", "queue", "state", "priority", "sort_at", "id"),
        Index("ix_tickets_person", "day", "id_hash"),
        Index("ix_tickets_done", "day", "queue", "state", "finished_at"),
        Index("ix_tickets_window", "window", "state"),
    )


class TicketEvent(Base):
    """Every transition, with its time, window and clerk: the basis of all statistics."""

    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    day: Mapped[date] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(index=True)
    queue: Mapped[str] = mapped_column(String(4))
    window: Mapped[str | None] = mapped_column(String(8), default=None)
    clerk: Mapped[str | None] = mapped_column(String(64), default=None)
    detail: Mapped[dict] = mapped_column(default=dict)


class Counter(Base):
    """Daily numbering per queue; the last number issued, so numbers are never reused that day."""

    __tablename__ = "counters"
    day: Mapped[date] = mapped_column(primary_key=True)
    queue: Mapped[str] = mapped_column(String(4), primary_key=True)
    last_seq: Mapped[int] = mapped_column(default=0)
    waiting: Mapped[int] = mapped_column(default=0)  # kept with every change: O(1) queue length


class WindowRow(Base):
    __tablename__ = "windows"
    id: Mapped[str] = mapped_column(String(8), primary_key=True)
    state: Mapped[str] = mapped_column(String(8), default="closed")
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), default=None)
    clerk: Mapped[str | None] = mapped_column(String(64), default=None)
    normal_since_priority: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime | None] = mapped_column(default=None)
    pause_reason: Mapped[str | None] = mapped_column(String(16), default=None)
    state_since: Mapped[datetime | None] = mapped_column(default=None)


class WindowLog(Base):
    """Every change of a window's state (opened, paused and why, closed), for 暂停时长 by reason."""

    __tablename__ = "window_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(index=True)
    window: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(String(16), default=None)
    clerk: Mapped[str | None] = mapped_column(String(64), default=None)
    at: Mapped[datetime]


class Outbox(Base):
    """Events written with the state change that caused them; the publisher delivers them in id order."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)
    retain: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None] = mapped_column(default=None, index=True)


class Token(Base):
    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    window: Mapped[str | None] = mapped_column(String(8), default=None)
    device: Mapped[str | None] = mapped_column(String(64), default=None)
    name: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)


class Rating(Base):
    __tablename__ = "ratings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    day: Mapped[date] = mapped_column(index=True)
    window: Mapped[str | None] = mapped_column(String(8))
    clerk: Mapped[str | None] = mapped_column(String(64))
    service: Mapped[str] = mapped_column(String(40))
    score: Mapped[int]  # 5 非常满意 … 1 非常不满意
    at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(16), default="keypad")


class Followup(Base):
    """差评整改: a bad rating the hall manager must follow up and close before the deadline."""

    __tablename__ = "followups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("ratings.id"), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    window: Mapped[str | None] = mapped_column(String(8))
    clerk: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[int]
    opened_at: Mapped[datetime]
    deadline: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    note: Mapped[str] = mapped_column(Text, default="")


class Appointment(Base):
    __tablename__ = "appointments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(index=True)
    service: Mapped[str] = mapped_column(String(40))
    id_hash: Mapped[str] = mapped_column(String(64), index=True)
    masked_name: Mapped[str] = mapped_column(String(32), default="")
    slot_start: Mapped[datetime]
    slot_end: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="booked")  # booked | checked_in | cancelled
    ticket_id: Mapped[int | None] = mapped_column(default=None)  # no FK: tickets already reference appointments
    # booking (migration 0002): the citizen's page token, masked ID number, source, when booked/cancelled
    token: Mapped[str | None] = mapped_column(String(48), default=None)
    masked_id: Mapped[str] = mapped_column(String(32), default="", server_default="")
    source: Mapped[str] = mapped_column(String(16), default="phone", server_default="phone")
    created_at: Mapped[datetime | None] = mapped_column(default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)
    __table_args__ = (
        Index("ix_appointments_token", "token", unique=True),
        Index("ix_appointments_slot", "day", "service", "slot_start", "status"),
    )


class Case(Base):
    """办件: an accepted application with a deadline in working days (电子监察)."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_number: Mapped[str] = mapped_column(String(40), unique=True)
    service: Mapped[str] = mapped_column(String(40))
    id_hash: Mapped[str] = mapped_column(String(64), index=True)
    masked_name: Mapped[str] = mapped_column(String(32), default="")
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), default=None)
    window: Mapped[str | None] = mapped_column(String(8), default=None)
    accepted_at: Mapped[datetime]
    deadline: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), default="accepted")  # accepted | processing | done | returned
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class Document(Base):
    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), default=None, index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), default=None)
    filename: Mapped[str] = mapped_column(String(120))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(400))
    pages: Mapped[int] = mapped_column(default=1)
    uploaded_at: Mapped[datetime]
    device: Mapped[str | None] = mapped_column(String(64), default=None)


class DeviceStatus(Base):
    __tablename__ = "device_status"
    device: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    parts: Mapped[dict] = mapped_column(default=dict)
    updated_at: Mapped[datetime]


class User(Base):
    """Console accounts (admin, clerk); passwords hashed with argon2."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    role: Mapped[str] = mapped_column(String(16))
    window: Mapped[str | None] = mapped_column(String(8), default=None)
    password_hash: Mapped[str] = mapped_column(String(200))
    failed_attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(default=dict)


class WechatBinding(Base):
    """A WeChat follower bound to one ticket for one day (deleted at the end of the day)."""

    __tablename__ = "wechat_bindings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_token: Mapped[str] = mapped_column(String(48), index=True)
    openid: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(index=True)
    created_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    __table_args__ = (UniqueConstraint("ticket_token", "openid", name="uq_binding"),)


class WechatNotice(Base):
    """Notices already sent, so a restarted bridge never sends one twice."""

    __tablename__ = "wechat_notices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_token: Mapped[str] = mapped_column(String(48))
    openid: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))  # ahead:3 | ahead:1 | called | skipped
    sent_at: Mapped[datetime]
    __table_args__ = (UniqueConstraint("ticket_token", "openid", "kind", name="uq_notice"),)
