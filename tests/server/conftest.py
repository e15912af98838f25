from __future__ import annotations


import pytest

from tests.fixtures_app import auth, client, clock, db, tokens  # noqa: F401  (shared fixtures, re-exported)
from tests.fixtures_hall import small_hall
from yizhan.clock import ManualClock
from yizhan.config.model import HallConfig
from queue_server.api.app import create_app
from queue_server.db.engine import Database
from queue_server.service import HallService


@pytest.fixture
def cfg() -> HallConfig:
    return HallConfig.model_validate(small_hall())


@pytest.fixture
def svc(cfg: HallConfig, db: Database, clock: ManualClock) -> HallService:
    service = HallService(cfg, db, clock)
    service.ensure_windows()
    return service


@pytest.fixture
def app(cfg, db, clock):
    return create_app(cfg, db, clock)


