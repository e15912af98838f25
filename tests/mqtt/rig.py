"""A real hall for the fan-out tests and the latency benchmark: `yizhan server` as a
subprocess (the test hall of tests/fixtures_hall.py), its database, tokens and an HTTP client."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import select

from tests.fixtures_hall import MONDAY_0930, ServerProcess, small_hall, start_server, write_hall, yizhan_env
from queue_server.db.engine import Database
from queue_server.db.migrate import upgrade
from queue_server.db.tables import Outbox
from queue_server.tokens import create_token

HALL_ID = "testhall"
SERVICE_B = "RS01"  # queue B, served by every window of the test hall; no real-name requirement


class HallRig:
    def __init__(self, workdir: Path, *, windows: int = 20, mqtt_url: str | None = None, mqtt_port: str | None = None) -> None:
        self.workdir = workdir
        self.config_dir = write_hall(workdir / "config", small_hall(windows=windows, cap=9999))
        self.state_dir = workdir / "state"
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.db_url = f"sqlite:///{self.state_dir / 'yizhan.db'}"
        self.windows = [f"{i:02d}" for i in range(1, windows + 1)]
        extra = {"YIZHAN_DB_URL": self.db_url}
        if mqtt_url:
            extra["YIZHAN_MQTT_URL"] = mqtt_url
        if mqtt_port is not None:
            extra["YIZHAN_MQTT_PORT"] = mqtt_port
        self.env = yizhan_env(self.config_dir, self.state_dir, **extra)
        self.db = Database(self.db_url)
        upgrade(self.db.engine)
        now = datetime.fromisoformat(MONDAY_0930)
        self.kiosk = create_token(self.db, now, "kiosk", device="kiosk-1")
        self.admin = create_token(self.db, now, "admin")
        self.clerks = {w: create_token(self.db, now, "clerk", window=w, name=f"clerk{w}") for w in self.windows}
        self.server: ServerProcess | None = None
        self.port: int | None = None
        self._local = threading.local()

    # -- server process ------------------------------------------------------------------------
    def start(self) -> "HallRig":
        self.server = start_server(self.env, port=self.port)
        self.port = int(self.server.url.rsplit(":", 1)[1])  # a restart keeps the address
        return self

    def kill(self) -> None:
        """SIGKILL: no clean stop, no last publish."""
        assert self.server is not None
        self.server.proc.kill()
        self.server.proc.wait(10)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
        self.db.dispose()

    # -- HTTP ------------------------------------------------------------------------------------
    def http(self) -> httpx.Client:
        c = getattr(self._local, "client", None)
        if c is None:
            c = self._local.client = httpx.Client(base_url=self.server.url + "/api/v1", timeout=30)
        return c

    def issue(self, n: int) -> list[int]:
        ids = []
        for _ in range(n):
            r = self.http().post("/tickets", json={"service": SERVICE_B, "idempotency_key": uuid.uuid4().hex, "source": "kiosk"},
                                 headers={"Authorization": f"Bearer {self.kiosk}"})
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        return ids

    def window_post(self, window: str, action: str) -> httpx.Response:
        return self.http().post(f"/windows/{window}/{action}", headers={"Authorization": f"Bearer {self.clerks[window]}"})

    def open_all(self) -> None:
        for w in self.windows:
            r = self.window_post(w, "open")
            assert r.status_code == 200, r.text

    def call_next(self, window: str) -> dict:
        r = self.window_post(window, "call-next")
        assert r.status_code == 200, r.text
        return r.json()["ticket"]

    def finish(self, window: str) -> None:
        r = self.window_post(window, "finish")
        assert r.status_code == 200, r.text

    def windows_live(self) -> list[dict]:
        r = self.http().get("/windows", headers={"Authorization": f"Bearer {self.admin}"})
        assert r.status_code == 200, r.text
        return r.json()

    # -- the outbox, read directly -----------------------------------------------------------------
    def outbox(self, topic: str | None = None) -> list[Outbox]:
        with self.db.read() as s:
            stmt = select(Outbox).order_by(Outbox.id)
            if topic:
                stmt = stmt.where(Outbox.topic == topic)
            return list(s.scalars(stmt))

    def call_events(self) -> list[dict]:
        return [json.loads(r.payload) for r in self.outbox(f"yizhan/{HALL_ID}/call")]

    def undelivered(self) -> int:
        return sum(1 for r in self.outbox() if r.delivered_at is None)
