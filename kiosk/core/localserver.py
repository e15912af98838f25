"""A private `yizhan server` in a subprocess, for the tour, the UI tests and the bench.

It gets its own state dir (SQLite), a free loopback port, its own embedded broker on a free
port, and a YIZHAN_NOW inside opening hours; `stop()`/`start()` on the same port and state
dir play "the server went down and came back".
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from yizhan.ports import free_port

logger = logging.getLogger(__name__)


def _yizhan() -> list[str]:
    return [sys.executable, "-m", "yizhan.cli"]


def _die_with_parent() -> None:
    """The server goes when its parent goes, even on SIGKILL (Linux PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except OSError:
        pass


class LocalServer:
    def __init__(self, config_dir: Path | str, now: str, state_dir: Path | None = None, port: int | None = None) -> None:
        self.config_dir = Path(config_dir)
        self.now = now
        self._own_state = state_dir is None
        self.state_dir = Path(state_dir or tempfile.mkdtemp(prefix="yizhan-kiosk-server-"))
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = self.state_dir / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        for k in ("YIZHAN_DB_URL", "YIZHAN_MQTT_URL", "YIZHAN_SERVER_URL", "YIZHAN_TOKEN"):
            env.pop(k, None)
        env.update(
            YIZHAN_CONFIG=str(self.config_dir),
            YIZHAN_STATE_DIR=str(self.state_dir),
            YIZHAN_NOW=self.now,
            YIZHAN_HOST="127.0.0.1",
            YIZHAN_PORT=str(self.port),
            YIZHAN_MQTT_PORT="0",
            YIZHAN_LOG_LEVEL="WARNING",
        )
        return env

    def token(self, role: str = "kiosk", device: str | None = "kiosk-1", window: str | None = None) -> str:
        cmd = _yizhan() + ["token", "--role", role]
        if device:
            cmd += ["--device", device]
        if window:
            cmd += ["--window", window]
        out = subprocess.run(cmd, env=self.env(), capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"yizhan token failed: {out.stderr.strip()}")
        return out.stdout.strip().splitlines()[-1]

    def start(self, timeout: float = 60.0) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            _yizhan() + ["server"], env=self.env(), stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"yizhan server exited ({self.proc.returncode}); see {self.log_path}:\n{self.log_tail()}")
            try:
                if httpx.get(self.url + "/api/v1/health", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)  # polling a starting process: nothing to wait on but the port
        raise TimeoutError(f"yizhan server not ready in {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None

    def close(self) -> None:
        self.stop()
        if self._own_state:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def __enter__(self) -> "LocalServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
