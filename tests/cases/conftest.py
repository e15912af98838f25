"""Fixtures for the case (办件) tests: the small test hall plus a 限时办结 service, an in-process
app on a ManualClock for the API tests, and a real `yizhan server` for the browser and kiosk."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from tests.fixtures_app import auth, client, clock, db, tokens  # noqa: F401  (shared fixtures, re-exported)
from tests.fixtures_hall import small_hall
from yizhan.config.model import HallConfig
from yizhan.privacy import id_hash
from queue_server.api.app import create_app

KEY = b"test-hash-key-for-cases"
ID_NUMBER = "11010519491231002X"  # a valid test number (checksum X); only its hash is sent


def case_hall(windows: int = 3) -> dict:
    cfg = small_hall(windows=windows)
    cfg["departments"].append({"id": "bdc", "name": "不动产登记中心"})
    cfg["services"].append({"code": "BDC01", "name": "不动产转移登记", "department": "bdc", "queue": "A", "class": "限时办结",
                            "promised_days": 5, "materials": ["不动产权证书", "身份证"], "real_name": "optional"})
    cfg["services"].append({"code": "RS02", "name": "失业登记", "department": "rs", "queue": "B", "class": "限时办结",
                            "promised_days": 3, "materials": ["身份证"], "real_name": "optional"})
    return cfg


def identity() -> dict:
    return {"id_hash": id_hash(ID_NUMBER, KEY), "masked_id": "1101**********002X", "masked_name": "张*"}


@pytest.fixture
def app(db, clock):
    return create_app(HallConfig.model_validate(case_hall()), db, clock)


class Desk:
    """Drives one window through the HTTP API like the console does."""

    def __init__(self, client: TestClient, tokens: dict[str, str], window: str = "01") -> None:
        self.c, self.tokens, self.window = client, tokens, window
        self.h = auth(tokens[f"clerk{window}"])
        assert self.c.post(f"/api/v1/windows/{window}/open", headers=self.h).status_code == 200

    def take(self, service: str, real_name: bool = True) -> dict:
        body = {"service": service, "idempotency_key": uuid.uuid4().hex}
        if real_name:
            body["identity"] = identity()
        r = self.c.post("/api/v1/tickets", json=body, headers=auth(self.tokens["kiosk"]))
        assert r.status_code == 201, r.text
        return r.json()

    def call(self) -> dict:
        r = self.c.post(f"/api/v1/windows/{self.window}/call-next", headers=self.h)
        assert r.status_code == 200, r.text
        return r.json()["ticket"]

    def register(self, **body) -> "object":
        return self.c.post(f"/api/v1/windows/{self.window}/cases", json=body, headers=self.h)


@pytest.fixture
def desk(client, tokens) -> Desk:
    return Desk(client, tokens)
