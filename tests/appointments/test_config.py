"""The appointments section of hall.yaml: the shipped hall books the services halls typically
book, and mistakes are reported by `yizhan check-config` at their line with a fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures_hall import ROOT, yizhan_env
from yizhan.config import ConfigError, load_config

SHIPPED = ROOT / "config" / "hall.yaml"


def test_shipped_hall_books_land_registry_provident_fund_and_police_services():
    cfg = load_config(ROOT / "config")
    booked = {cfg.service(code).department for code in cfg.appointments.services}
    assert booked == {"budongchan", "gongjijin", "gongan"}  # 不动产登记, 公积金, 出入境/户政
    assert cfg.appointments.days_ahead == 5 and cfg.appointments.services["GJJ04"].slot_min == 60


def test_check_config_accepts_the_file_path_itself(tmp_path):
    out = subprocess.run([sys.executable, "-m", "yizhan.cli", "check-config", str(SHIPPED)], cwd=ROOT, capture_output=True, text=True,
                         env=yizhan_env(ROOT / "config", tmp_path), timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("配置正确")


def write(tmp_path: Path, old: str, new: str) -> Path:
    text = SHIPPED.read_text(encoding="utf-8")
    assert old in text
    (tmp_path / "hall.yaml").write_text(text.replace(old, new), encoding="utf-8")
    return tmp_path


def line_of(directory: Path, fragment: str) -> int:
    return next(i for i, line in enumerate((directory / "hall.yaml").read_text(encoding="utf-8").splitlines(), 1) if fragment in line)


@pytest.mark.parametrize(("old", "new", "marker", "words"), [
    ("    GA04: {slot_min: 30, capacity: 2}", "    GA99: {slot_min: 30, capacity: 2}", "GA99:", "事项编码 'GA99' 未定义"),
    ("    GA04: {slot_min: 30, capacity: 2}", "    GA04: {slot_min: 3, capacity: 2}", "GA04:", "slot_min"),
    ("    GA04: {slot_min: 30, capacity: 2}", "    GA04: {slot_min: 30}", "GA04:", "capacity"),
    ("  days_ahead: 5 ", "  days_ahed: 5 ", "days_ahed", "未知的键"),
])
def test_mistakes_are_reported_at_their_line(tmp_path, old, new, marker, words):
    directory = write(tmp_path, old, new)
    with pytest.raises(ConfigError) as err:
        load_config(directory)
    problems = [str(p) for p in err.value.problems]
    assert len(problems) == 1, problems
    assert f"hall.yaml:{line_of(directory, marker)}:" in problems[0] and words in problems[0]
