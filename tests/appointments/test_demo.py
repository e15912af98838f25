"""`yizhan demo` shows appointments: simulated citizens book today's first slots on the phone
form, check in at the kiosk with their synthetic ID card, and a window calls them with the
reason "预约到时". The demo's clock starts 20 s before 09:30, so the 10:00 slots are due at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

from tests.fixtures_hall import ROOT, free_port, yizhan_env


def test_demo_books_checks_in_and_calls_appointments(tmp_path):
    env = yizhan_env(ROOT / "config", tmp_path / "state", YIZHAN_NOW="2026-11-23T09:29:40+08:00", YIZHAN_PORT=str(free_port()),
                     YIZHAN_LOG_LEVEL="INFO")
    env.pop("DISPLAY", None)
    proc = subprocess.Popen([sys.executable, "-m", "yizhan.cli", "demo", "--no-devices", "--pace", "20", "--duration", "300"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: list[str] = []
    called = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if "叫号" in line and "预约到时" in line:
                called.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert called.wait(240), "".join(lines[-40:])
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        reader.join(10)
    text = "".join(lines)
    assert "市民在手机上预约" in text and "预约市民在自助机刷身份证签到" in text
    booked = [line for line in lines if "市民在手机上预约" in line]
    assert len(booked) == 6
    # nothing personal in the demo's log: masked names only, no ID number
    assert "620102" not in text
