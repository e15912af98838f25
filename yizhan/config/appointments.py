"""Appointment booking (预约) settings of a hall: which services take bookings, slot length
and places per slot, and how far ahead citizens may book (docs/appointments.md)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class BookableService(_Strict):
    slot_min: int = Field(30, ge=5, le=240, description="length of one slot in minutes (slots fill the queue's opening hours)")
    capacity: int = Field(ge=1, le=200, description="places per slot (how many people one slot takes)")


class AppointmentsConfig(_Strict):
    days_ahead: int = Field(5, ge=1, le=30, description="how many of the queue's open days after today can be booked")
    same_day: bool = Field(True, description="later slots of today can be booked too")
    same_day_lead_min: int = Field(30, ge=0, le=480, description="a slot today must start at least this many minutes later")
    max_open_per_person: int = Field(3, ge=1, le=20, description="bookings one ID number may hold at a time (all services)")
    per_ip_hourly: int = Field(20, ge=1, le=10000, description="booking attempts per client address per hour (against scripted abuse)")
    services: dict[str, BookableService] = Field(
        default_factory=dict, description="service code → slot_min, capacity; only these services take bookings"
    )
