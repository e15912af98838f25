"""Appointment booking API (预约): bookable services, free places per slot, book, the day's
list, cancel — for staff (a booking taken on the telephone), kiosks and integrations, each with
its token. Citizens book without an account on the phone pages (booking.py: /book), which use
the same AppointmentBook and are limited per client address. The check-in at the kiosk is
`POST /appointments/check-in` (people.py)."""

from __future__ import annotations

import logging
import re
import threading
from collections import deque
from datetime import date, datetime, time, timedelta

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from yizhan.privacy import id_hash, mask_id, mask_name
from yizhan.settings import load_settings, read_secret

from queue_server.api.auth import require
from queue_server.api.urls import public_base
from queue_server.appointments import AppointmentBook
from queue_server.db.tables import Appointment
from queue_server.service import CommandError
from queue_server.tokens import Principal

logger = logging.getLogger(__name__)

router = APIRouter()

STAFF = ("admin", "clerk")
BOOKERS = (*STAFF, "kiosk")  # a kiosk may book a later day for someone at the hall
# 2–30 characters: Chinese names (with the middle dot of minority names, e.g. 阿依古丽·买买提) or Latin letters
_NAME_RE = re.compile(r"^[\u3400-\u9fffA-Za-z][\u3400-\u9fff\u00b7\u30fbA-Za-z .'-]{1,29}$")


# ---- shared with the phone pages (booking.py) ----------------------------------------------------
def book_of(request: Request) -> AppointmentBook:
    state = request.app.state
    book = getattr(state, "appointment_book", None)
    if book is None:
        book = state.appointment_book = AppointmentBook(state.service)
    return book


def id_key(request: Request) -> bytes:
    """The hall's ID-number hashing key: the same `id_hash_key` secret the kiosks use, so a
    citizen who booked here is found when the kiosk reads the ID card."""
    state = request.app.state
    key = getattr(state, "id_hash_key", None)
    if key is None:
        settings = state.settings or load_settings()
        key = state.id_hash_key = read_secret("id_hash_key", settings.state_dir)
    return key


def identity_from(request: Request, id_number: str, name: str) -> tuple[str, str, str]:
    """(keyed hash, masked ID number, masked name) of a typed-in identity, or a refusal.
    The full number lives only in this call."""
    from kiosk.devices.base import InvalidIdNumber
    from kiosk.devices.idcard.idnumber import validate

    try:
        number = validate(id_number or "")
    except InvalidIdNumber:
        raise CommandError(422, "appointment_bad_id") from None
    name = (name or "").strip()
    if not _NAME_RE.match(name):
        raise CommandError(422, "appointment_bad_name")
    return id_hash(number, id_key(request)), mask_id(number), mask_name(name)


class RateLimit:
    """At most `limit` booking attempts per client address in a sliding hour (on the hall's clock).
    Failed attempts count too: guessing ID numbers costs as much as booking."""

    MAX_ADDRESSES = 50_000  # memory bound: the oldest address is forgotten first

    def __init__(self) -> None:
        self._hits: dict[str, deque[datetime]] = {}
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def hit(self, address: str, now: datetime, limit: int) -> bool:
        start = now - timedelta(hours=1)
        with self._lock:
            hits = self._hits.pop(address, None) or deque()
            while hits and hits[0] <= start:
                hits.popleft()
            allowed = len(hits) < limit
            if allowed:
                hits.append(now)
                self._warned.discard(address)
            elif address not in self._warned:
                # once per address and episode: a script hammering the form must not flood the log
                self._warned.add(address)
                logger.warning("booking attempts from %s over the limit of %s an hour", address, limit)
            self._hits[address] = hits  # re-inserted: dict order = least recently seen first
            while len(self._hits) > self.MAX_ADDRESSES:
                oldest = next(iter(self._hits))
                del self._hits[oldest]
                self._warned.discard(oldest)
            return allowed


def check_rate(request: Request) -> None:
    state = request.app.state
    limiter = getattr(state, "booking_rate", None)
    if limiter is None:
        limiter = state.booking_rate = RateLimit()
    address = request.client.host if request.client else "unknown"
    if not limiter.hit(address, state.clock.now(), state.service.cfg.appointments.per_ip_hourly):
        raise CommandError(429, "appointment_rate_limited")


def parse_day(value: str) -> date:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        raise CommandError(422, "appointment_bad_day") from None


def parse_start(value: str) -> time:
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", (value or "").strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise CommandError(422, "appointment_bad_slot")
    return time(int(m.group(1)), int(m.group(2)))


def page_url(request: Request, appt: Appointment) -> str:
    return f"{public_base(request)}/b/{appt.token}"


def appointment_json(request: Request, appt: Appointment, with_token: bool = False) -> dict:
    book = book_of(request)
    tz = request.app.state.clock.tz
    try:
        service_name = book.cfg.service(appt.service).name
    except StopIteration:
        service_name = appt.service
    out = {
        "id": appt.id,
        "service": appt.service,
        "service_name": service_name,
        "day": appt.day.isoformat(),
        "start": f"{appt.slot_start.astimezone(tz):%H:%M}",
        "end": f"{appt.slot_end.astimezone(tz):%H:%M}",
        "status": book.state(appt),
        "masked_name": appt.masked_name,
        "masked_id": appt.masked_id,
        "source": appt.source,
        "ticket_id": appt.ticket_id,
    }
    if with_token:
        out |= {"token": appt.token, "url": page_url(request, appt)}
    return out


# ---- routes -----------------------------------------------------------------------------------
class BookingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    service: str = Field(max_length=40, description="service code (one of GET /appointments/services)")
    day: str = Field(max_length=10, description="YYYY-MM-DD")
    start: str = Field(max_length=5, description="the slot's start, HH:MM")
    id_number: str = Field(max_length=18, description="18-digit resident ID number; stored only as keyed hash + masked form")
    name: str = Field(max_length=30)


@router.get("/appointments/services")
def bookable_services(request: Request, _p: Principal = Depends(require(*BOOKERS))) -> list[dict]:
    """The services that take bookings, with the days that can be booked."""
    book = book_of(request)
    out = []
    for b in book.bookable_services():
        out.append({
            "code": b.service.code, "name": b.service.name, "queue": b.queue.id, "slot_min": b.rule.slot_min,
            "capacity": b.rule.capacity, "days": [d.isoformat() for d in book.days(b.service.code)],
        })
    return out


@router.get("/appointments/slots")
def slots(request: Request, service: str = Query(max_length=40), day: str = Query(max_length=10),
          _p: Principal = Depends(require(*BOOKERS))) -> list[dict]:
    """Every slot of the day with its free places."""
    book = book_of(request)
    return [
        {"start": f"{p.slot.start:%H:%M}", "end": f"{p.slot.end:%H:%M}", "capacity": p.capacity, "free": p.free,
         "bookable": p.bookable and p.free > 0}
        for p in book.slots(service, parse_day(day))
    ]


@router.post("/appointments", status_code=201)
def create(body: BookingRequest, request: Request, principal: Principal = Depends(require(*BOOKERS))) -> JSONResponse:
    book = book_of(request)
    book.bookable(body.service)  # an unknown service is refused before the identity is looked at
    day, start = parse_day(body.day), parse_start(body.start)
    hashed, masked_id, masked_name = identity_from(request, body.id_number, body.name)
    source = "kiosk" if principal.role == "kiosk" else "staff"
    appt = book.book(body.service, day, start, hashed, masked_id, masked_name, source)
    return JSONResponse(appointment_json(request, appt, with_token=True), status_code=201)


@router.get("/appointments")
def day_list(request: Request, day: str | None = Query(None, max_length=10), _p: Principal = Depends(require(*STAFF))) -> list[dict]:
    book = book_of(request)
    d = parse_day(day) if day else request.app.state.service.today()
    return [appointment_json(request, a) for a in book.day_list(d)]


@router.post("/appointments/{appt_id}/cancel")
def cancel(appt_id: int, request: Request, p: Principal = Depends(require(*STAFF))) -> dict:
    book = book_of(request)
    appt = book.cancel(book.get(appt_id))
    logger.info("appointment %s cancelled by %s %s", appt.id, p.role, p.window or "")
    return appointment_json(request, appt)
