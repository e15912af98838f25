from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.fixtures_hall import MONDAY_0930, small_hall
from yizhan.clock import ManualClock
from yizhan.config.model import HallConfig
from queue_server.api.app import create_app
from queue_server.db.engine import Database
from queue_server.db.migrate import upgrade
from queue_server.service import HallService
from queue_server.tokens import create_token


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.fromisoformat(MONDAY_0930))


@pytest.fixture
def cfg() -> HallConfig:
    return HallConfig.model_validate(small_hall())


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'hall.db'}")
    upgrade(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def svc(cfg: HallConfig, db: Database, clock: ManualClock) -> HallService:
    service = HallService(cfg, db, clock)
    service.ensure_windows()
    return service


@pytest.fixture
def app(cfg, db, clock):
    return create_app(cfg, db, clock)


@pytest.fixture
def client(app) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def tokens(db, clock) -> dict[str, str]:
    now = clock.now()
    return {
        "admin": create_token(db, now, "admin"),
        "kiosk": create_token(db, now, "kiosk", device="kiosk-1"),
        "clerk01": create_token(db, now, "clerk", window="01", name="王芳"),
        "clerk02": create_token(db, now, "clerk", window="02", name="李强"),
        "display": create_token(db, now, "display", device="tv-1"),
        "device": create_token(db, now, "device", device="bus-1"),
        "wechat": create_token(db, now, "wechat"),
    }


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
