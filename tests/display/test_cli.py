"""`yizhan display --simulate` as a real process: config in, broker in, every output out."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from display_board.announcements import read_log
from tests.display.helpers import DISPLAY, HALL, call_payload, display_hall_dict, wait_for, window_payload
from tests.fixtures_mqtt import USERS, Collector
from yizhan.messaging import topics

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.mosquitto


def env_for(tmp_path: Path, port: int | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YIZHAN_", "KIVY_"))}
    env |= {
        "YIZHAN_CONFIG": str(tmp_path / "config"), "YIZHAN_STATE_DIR": str(tmp_path / "state"),
        "SDL_VIDEODRIVER": "offscreen", "YIZHAN_LOG_LEVEL": "INFO",
    }
    if port:
        env["YIZHAN_MQTT_URL"] = f"mqtt://{DISPLAY}:{USERS[DISPLAY]}@127.0.0.1:{port}"
    return env | extra


def write_config(tmp_path: Path, cfg: dict) -> None:
    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "config" / "hall.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_display_process_shows_speaks_reports_and_stops_cleanly(tmp_path, mosquitto, messenger_factory):
    write_config(tmp_path, display_hall_dict())
    server = messenger_factory(mosquitto, "yizhan-server")
    statuses = Collector()
    server.subscribe(topics.device_status(HALL, DISPLAY), statuses)
    log = open(tmp_path / "display.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "yizhan.cli", "display", "--simulate"], cwd=ROOT,
                            env=env_for(tmp_path, mosquitto.port), stdout=log, stderr=subprocess.STDOUT)
    try:
        def online(msgs):
            for m in msgs:
                data = json.loads(m.payload)
                parts = data["parts"]
                if data["state"] == "online" and all(parts.get(p, {}).get("ok") for p in ("tv", "led_board", "window_strips", "voice")):
                    return data
            return None

        statuses.wait_for(online, timeout=60, what="the display online with all four outputs healthy")
        server.publish(topics.window_state(HALL, "03"), window_payload("03", ticket="A123"), retain=True)
        # The call may race the display's subscription only before it is online; it is online now.
        server.publish(topics.call(HALL), call_payload("A123", "03"))
        state = tmp_path / "state"
        wait_for(lambda: len(read_log(state)) >= 4, timeout=30, what="the call on every output")
        assert {(r["ticket"], r["output"], r.get("board")) for r in read_log(state)} == {
            ("A123", "tv", None), ("A123", "led", "hall"), ("A123", "led", "strip"), ("A123", "voice", None)}
        work = state / "display" / DISPLAY
        # the log records the voice when it starts; the simulated speaker's file is complete after
        wait_for(lambda: list((work / "voice").glob("*.wav")), what="the spoken call written out")
        assert [p.name for p in (work / "voice").glob("*.wav")] == ["000001-A123.wav"]
        wait_for(lambda: (work / "led-board.png").exists() and (work / "led-strips.png").exists(), what="simulator pictures")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        statuses.wait_for(lambda ms: json.loads(ms[-1].payload)["state"] == "offline", what="offline on a clean stop")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        log.close()
    text = (tmp_path / "display.log").read_text(errors="replace")
    assert "Traceback" not in text, text[-3000:]


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "yizhan.cli", "display", *args], cwd=ROOT, env=env_for(tmp_path, 1),
                          capture_output=True, text=True, timeout=60)


def test_unknown_display_id_is_a_clear_chinese_error(tmp_path):
    write_config(tmp_path, display_hall_dict())
    out = run(tmp_path, "--id", "no-such-board")
    assert out.returncode == 2 and "没有编号为 no-such-board 的显示屏" in out.stderr and "Traceback" not in out.stderr


def test_broken_config_stops_with_file_and_line(tmp_path):
    cfg = display_hall_dict()
    cfg["displays"][0]["led_board"]["lines"] = 0
    write_config(tmp_path, cfg)
    out = run(tmp_path)
    assert out.returncode == 1 and "hall.yaml:" in out.stderr and "lines" in out.stderr and "Traceback" not in out.stderr


def test_a_voice_template_without_the_number_is_refused_with_its_line(tmp_path):
    cfg = display_hall_dict(voice={"engine": "espeak", "template": "请到{window}办理"})
    write_config(tmp_path, cfg)
    out = run(tmp_path)
    assert out.returncode == 1 and "template" in out.stderr and "{number}" in out.stderr and "Traceback" not in out.stderr
