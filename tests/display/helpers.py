"""Helpers shared by the display tests: a small hall with one display, message builders, waiting."""

from __future__ import annotations

import json
import time
import uuid
from typing import Callable

from yizhan.config.model import HallConfig

HALL = "test-hall"  # the hall id the shipped Mosquitto ACL is rendered for in tests.fixtures_mqtt
DISPLAY = "tv-1"  # a device id with a password in tests.fixtures_mqtt.USERS


def display_hall(**kw) -> HallConfig:
    return HallConfig.model_validate(display_hall_dict(**kw))


def display_hall_dict(*, voice: dict | None = None, call_by_name: bool = False, led_address: str = "simulator",
                      strips_address: str = "simulator", fullscreen: bool = False) -> dict:
    hours = {"morning": "08:30-12:00", "afternoon": "14:00-17:30"}
    return {
        "hall": {"id": HALL, "name": "青岚县政务服务中心", "notice": "办事指南请在自助机查询；过号请到窗口咨询。",
                 "call_by_name": call_by_name},
        "departments": [{"id": "ga", "name": "公安户政"}, {"id": "rs", "name": "人社"}],
        "queues": [
            {"id": "A", "name": "综合受理", "hours": hours, "daily_cap": 999},
            {"id": "B", "name": "社保医保", "hours": hours, "daily_cap": 999},
        ],
        "services": [
            {"code": "GA01", "name": "身份证换领", "department": "ga", "queue": "A", "class": "即收即办",
             "promised_days": 0, "materials": ["居民户口簿"]},
            {"code": "RS01", "name": "社保卡申领", "department": "rs", "queue": "B", "class": "当日办结",
             "promised_days": 0, "materials": ["身份证"]},
        ],
        "windows": [{"id": f"{i:02d}", "queues": {"A": 1, "B": 1}} for i in range(1, 7)],
        "displays": [{
            "id": DISPLAY,
            "led_board": {"address": led_address, "bus_address": 1, "lines": 4, "columns": 16},
            "window_strips": {"address": strips_address, "windows": {f"{i:02d}": i for i in range(1, 7)}},
            "tv": {"fullscreen": fullscreen, "flash_s": 5},
            "voice": voice or {"engine": "espeak", "repeat": 1},
        }],
    }


def at() -> str:
    return "2026-11-23T09:30:00.000+08:00"


def call_payload(ticket: str, window: str, *, recall: int = 0, event_id: str | None = None, masked_name: str = "",
                 **extra) -> bytes:
    name = f"{int(window)}号窗口"
    data = {
        "event_id": event_id or uuid.uuid4().hex, "hall": HALL, "at": at(), "ticket": ticket, "ticket_id": int(ticket[1:]),
        "queue": ticket[0], "service": "GA01", "service_name": "身份证换领", "window": window, "window_name": name,
        "window_spoken": name, "text": f"请{ticket}号到{name}办理", "recall": recall, "masked_name": masked_name,
    } | extra
    return json.dumps(data, ensure_ascii=False).encode()


def window_payload(window: str, state: str = "open", ticket: str | None = None, **extra) -> bytes:
    data = {
        "event_id": uuid.uuid4().hex, "hall": HALL, "at": at(), "window": window, "window_name": f"{int(window)}号窗口",
        "state": state, "ticket": ticket, "ticket_id": int(ticket[1:]) if ticket else None,
        "ticket_state": "called" if ticket else None, "queues": ["A", "B"], "clerk": None, "finished": None,
    } | extra
    return json.dumps(data, ensure_ascii=False).encode()


def queue_payload(queue: str, waiting: int, name: str = "", is_open: bool = True) -> bytes:
    data = {"event_id": uuid.uuid4().hex, "hall": HALL, "at": at(), "queue": queue, "name": name or queue,
            "waiting": waiting, "estimated_wait_s": waiting * 300, "open": is_open}
    return json.dumps(data, ensure_ascii=False).encode()


def wait_for(predicate: Callable[[], object], timeout: float = 15.0, what: str = "condition", pump: Callable[[], None] | None = None):
    """Polls until `predicate` is truthy (pumping Kivy's loop when given); fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        if pump:
            pump()
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        if not pump:
            time.sleep(0.01)


def kivy_pump() -> None:
    from kivy.base import EventLoop

    EventLoop.idle()
