"""Fixtures for the console tests: a real `yizhan server` on a temp state dir and config copy,
console accounts created in its database, and real headless Chromium through Playwright."""

from __future__ import annotations

import shutil
import uuid
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from tests.fixtures_hall import ROOT, ServerProcess, small_hall, start_server, write_hall, yizhan, yizhan_env
from tests.fixtures_browser import CHROMIUM_ARGS, browser  # noqa: F401  (fixture, re-exported)
from queue_server.db.engine import Database
from queue_server.web import users

ADMIN_PASSWORD = "admin-pass-2026"
CLERK_PASSWORD = "clerk-pass-2026"
NOW = datetime.fromisoformat("2026-11-23T09:30:00+08:00")


class Hall:
    """A running server with its config dir, state dir and database."""

    def __init__(self, tmp: Path, cfg: dict | None = None) -> None:
        self.config_dir = write_hall(tmp / "config", cfg or small_hall(windows=4))
        hall_yaml = self.config_dir / "hall.yaml"
        # A comment the console's YAML round trip must keep.
        hall_yaml.write_text("# 测试大厅：这行注释在线修改后必须保留\n" + hall_yaml.read_text(encoding="utf-8"), encoding="utf-8")
        self.state_dir = tmp / "state"
        self.env = yizhan_env(self.config_dir, self.state_dir, YIZHAN_ADMIN_PASSWORD=ADMIN_PASSWORD)
        self.server: ServerProcess | None = None
        self.port: int | None = None
        self._db: Database | None = None

    def start(self) -> "Hall":
        self.server = start_server(self.env, port=self.port)
        self.port = int(self.server.url.rsplit(":", 1)[1])
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database(f"sqlite:///{self.state_dir / 'yizhan.db'}")
        return self._db

    def add_clerk(self, username: str, window: str | None, name: str = "") -> None:
        users.create_user(self.db, NOW, username, CLERK_PASSWORD, "clerk", display_name=name or username, window=window)

    def token(self, role: str, **kw: str) -> str:
        args = ["token", "--role", role]
        for k, v in kw.items():
            args += [f"--{k}", v]
        return yizhan(*args, env=self.env)

    def issue(self, kiosk_token: str, service: str = "RS01") -> httpx.Response:
        return httpx.post(self.url + "/api/v1/tickets", json={"service": service, "idempotency_key": uuid.uuid4().hex},
                          headers={"Authorization": f"Bearer {kiosk_token}"}, timeout=30)

    def close(self) -> None:
        self.stop()
        if self._db is not None:
            self._db.dispose()


@pytest.fixture
def hall(tmp_path: Path):
    h = Hall(tmp_path).start()
    yield h
    h.close()


def login(browser, url: str, username: str, password: str, path: str = "/console"):
    """A fresh browser context signed in through the login form; returns its page."""
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(45_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.js_errors = errors  # type: ignore[attr-defined]
    page.goto(url + path)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path}*")
    return page


@pytest.fixture
def screens_dir() -> Path:
    d = ROOT / "docs" / "screens"
    d.mkdir(parents=True, exist_ok=True)
    return d


def copy_config(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst)
