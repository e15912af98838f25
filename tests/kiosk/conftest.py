"""Fixtures of the kiosk tests: a real `yizhan server` per test, the real kiosk widgets offscreen,
and the devices' own simulators (the SAM ID-card module and the ESC/POS printer model)."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import httpx
import pytest

# Kivy reads its environment at import: offscreen SDL, no argv parsing, a private KIVY_HOME.
from kiosk.ui.harness import prepare_kivy

prepare_kivy()

from kiosk.core.localserver import LocalServer  # noqa: E402

HALL_DIR = Path(__file__).parent / "hall"
# A Monday inside the test hall's morning hours (queue C opens only in the afternoon).
NOW = "2026-11-23T09:30:00+08:00"


class Server(LocalServer):
    """The real queue server plus the few look-ups the tests make as a hall manager would."""

    def api(self, method: str, path: str, **kw):
        token = getattr(self, "_admin", None) or self.token("admin", None)
        self._admin = token
        r = httpx.request(method, self.url + "/api/v1" + path, headers={"Authorization": f"Bearer {token}"}, timeout=10, **kw)
        r.raise_for_status()
        return r.json()

    def issued(self, queue: str) -> int:
        """Tickets issued today in `queue`, as the server counts them."""
        return next(q["issued"] for q in self.api("GET", "/queues") if q["id"] == queue)


@pytest.fixture
def refused_url():
    """A server address that refuses every connection: its port is bound but never listens,
    so no other test can start a server on it meanwhile (a merely free port could be taken)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture
def server(tmp_path):
    srv = Server(HALL_DIR, NOW, state_dir=tmp_path / "server")
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def kiosk_env(server, tmp_path):
    """KioskEnv for the test hall with a ManualClock, pointing at the test's server."""
    from kiosk.core.setup import KioskEnv
    from yizhan.clock import ManualClock
    from yizhan.config import load_config
    from yizhan.settings import load_settings

    from datetime import datetime

    env = {
        "YIZHAN_CONFIG": str(HALL_DIR),
        "YIZHAN_STATE_DIR": str(tmp_path / "kiosk"),
        "YIZHAN_SERVER_URL": server.url,
        "YIZHAN_TOKEN": server.token("kiosk", "kiosk-1"),
    }
    config = load_config(HALL_DIR)
    return KioskEnv(
        settings=load_settings(env),
        config=config,
        kiosk=config.kiosks[0],
        clock=ManualClock(datetime.fromisoformat(NOW)),
        id_hash_key=b"test-id-hash-key",
    )


@pytest.fixture
def ui(kiosk_env):
    """The kiosk app on the shared offscreen window, with simulated devices; yields the Harness."""
    from kiosk.app import KioskApp
    from kiosk.core.setup import build_core, build_devices
    from kiosk.core.voice import Voice
    from kiosk.ui.harness import Harness

    devices = build_devices(kiosk_env.kiosk, simulate=True)
    app = KioskApp(lambda post: build_core(kiosk_env, devices, post, simulate=True, voice=Voice("off")))
    h = Harness(app)
    h.devices = devices
    h.core = app.core
    h.clock = kiosk_env.clock
    h.until(lambda: app.core.health.server_ok is True, what="first health check")
    try:
        yield h
    finally:
        h.close()
        for dev in (devices.reader, devices.printer):
            if dev is not None:
                dev.close()
