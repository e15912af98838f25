"""Fixtures for the appointment tests: the small test hall with bookable services, a manual
clock (Monday 23 November 2026, 09:30), a migrated SQLite database and the real app."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.devices.idcard.idnumber import check_digit
from queue_server.api.app import create_app
from tests.fixtures_app import auth, client, clock, db, tokens  # noqa: F401  (shared fixtures, re-exported)
from tests.fixtures_hall import ServerProcess, small_hall, start_server, write_hall, yizhan, yizhan_env
from yizhan.config.model import HallConfig

KEY = b"test-id-hash-key"  # the hall's id_hash_key: the same for the server and the kiosk
ADMIN_PASSWORD = "admin-pass-2026"


def id_number(seq: int, birth: str = "19800101") -> str:
    """A synthetic, checksum-valid resident ID number (甘肃兰州 area code, as in the demo)."""
    first17 = f"620102{birth}{seq:03d}"
    return first17 + check_digit(first17)


def booking_hall(**appointments: object) -> dict:
    cfg = small_hall()
    cfg["appointments"] = {
        "days_ahead": 3,
        "same_day_lead_min": 30,
        "max_open_per_person": 3,
        "per_ip_hourly": 20,
        "services": {"GA01": {"slot_min": 30, "capacity": 2}, "RS01": {"slot_min": 60, "capacity": 1}},
    } | appointments
    return cfg


@pytest.fixture
def cfg() -> HallConfig:
    return HallConfig.model_validate(booking_hall())


@pytest.fixture
def app(cfg, db, clock):
    application = create_app(cfg, db, clock)
    application.state.id_hash_key = KEY
    return application


@pytest.fixture
def hall_server(tmp_path: Path):
    """Starts a real `yizhan server` on the booking hall (clock from `now`, running) with the
    hall's id_hash_key and an admin password; returns it with a kiosk token and its config dir."""
    started: list[ServerProcess] = []

    def start(now: str = "2026-11-23T09:00:00+08:00", address: str = "青岚县城关镇民生路88号", **appointments: object) -> ServerProcess:
        cfg = booking_hall(**appointments)
        cfg["hall"]["address"] = address
        config_dir = write_hall(tmp_path / "config", cfg)
        env = yizhan_env(config_dir, tmp_path / "state", YIZHAN_ID_HASH_KEY=KEY.decode(), YIZHAN_ADMIN_PASSWORD=ADMIN_PASSWORD, YIZHAN_NOW=now)
        proc = start_server(env)
        started.append(proc)
        proc.config_dir = config_dir  # type: ignore[attr-defined]
        proc.kiosk = yizhan("token", "--role", "kiosk", "--device", "kiosk-1", env=env)  # type: ignore[attr-defined]
        proc.clerk = yizhan("token", "--role", "clerk", "--window", "01", env=env)  # type: ignore[attr-defined]
        return proc

    yield start
    for proc in started:
        proc.stop()
