"""A small test hall (built in code so tests do not depend on config/hall.yaml's content),
plus helpers to run a real `yizhan server` subprocess. Shared by several test folders."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from yizhan.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
# Monday 23 November 2026, 09:30 in Shanghai: a working day inside opening hours.
MONDAY_0930 = "2026-11-23T09:30:00+08:00"


def small_hall(windows: int = 4, cap: int = 999, extra_policy: dict | None = None) -> dict:
    """Queues A (户政, real name required) and B (社保), window 01 serves A(3)+B(1), the rest B, etc."""
    hours = {"morning": "08:30-12:00", "afternoon": "14:00-17:30"}
    cfg = {
        "version": 1,
        "hall": {"id": "testhall", "name": "测试政务服务中心", "timezone": "Asia/Shanghai", "notice": "测试"},
        "policy": {"max_wait_min": 60, "recall_limit": 2, "per_person_daily_limit": 3, "ahead_notify_places": 3}
        | (extra_policy or {}),
        "departments": [{"id": "ga", "name": "公安户政"}, {"id": "rs", "name": "人社"}],
        "queues": [
            {"id": "A", "name": "户政", "hours": hours, "daily_cap": cap},
            {"id": "B", "name": "社保", "hours": hours | {"lunch": "12:00-14:00"}, "daily_cap": cap},
        ],
        "services": [
            {"code": "GA01", "name": "身份证换领", "department": "ga", "queue": "A", "class": "即收即办",
             "promised_days": 0, "materials": ["居民户口簿"], "real_name": "required"},
            {"code": "RS01", "name": "社保卡申领", "department": "rs", "queue": "B", "class": "当日办结",
             "promised_days": 0, "materials": ["身份证"], "real_name": "optional"},
        ],
        "windows": [{"id": "01", "queues": {"A": 3, "B": 1}}]
        + [{"id": f"{i:02d}", "queues": {"B": 1, "A": 1}} for i in range(2, windows + 1)],
        "keypad_buses": [{"id": "bus-1", "port": "simulator", "windows": {"01": {"keypad": 1, "caller": 2}}}],
    }
    return cfg


def write_hall(directory: Path, cfg: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "hall.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return directory


def yizhan_env(config_dir: Path, state_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIZHAN_")}
    env |= {"YIZHAN_CONFIG": str(config_dir), "YIZHAN_STATE_DIR": str(state_dir), "YIZHAN_NOW": MONDAY_0930, "YIZHAN_LOG_LEVEL": "WARNING", "YIZHAN_MQTT_PORT": "0"}
    env |= extra
    return env


def yizhan(*args: str, env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, "-m", "yizhan.cli", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"yizhan {' '.join(args)} failed: {out.stderr}")
    return out.stdout.strip()


@dataclass
class ServerProcess:
    url: str
    proc: subprocess.Popen
    env: dict[str, str]
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_server(env: dict[str, str], port: int | None = None, log_name: str = "server.log") -> ServerProcess:
    port = port or free_port()
    env = env | {"YIZHAN_PORT": str(port), "YIZHAN_HOST": "127.0.0.1"}
    log = Path(env["YIZHAN_STATE_DIR"]) / log_name
    log.parent.mkdir(parents=True, exist_ok=True)
    fh = open(log, "ab")
    proc = subprocess.Popen([sys.executable, "-m", "yizhan.cli", "server"], env=env, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(url + "/api/v1/health", timeout=1).status_code == 200:
                return ServerProcess(url, proc, env, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.05)  # polling a port that is not yet listening; not synchronisation of logic
    proc.kill()
    raise RuntimeError("server did not become ready")
