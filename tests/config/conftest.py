"""Fixtures for the configuration tests: the shipped hall's text and a runner for
`yizhan check-config` as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from yizhan.settings import PROJECT_ROOT

SHIPPED_DIR = PROJECT_ROOT / "config"


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_check_config(*args: str, env: dict[str, str] | None = None) -> Run:
    full_env = {**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "yizhan.cli", "check-config", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=full_env,
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="session")
def shipped_text() -> str:
    return (SHIPPED_DIR / "hall.yaml").read_text(encoding="utf-8")


@pytest.fixture
def write_config(tmp_path: Path):
    """Writes `text` as hall.yaml into a fresh directory and returns the directory."""
    counter = iter(range(1000))

    def write(text: str) -> Path:
        d = tmp_path / f"cfg{next(counter)}"
        d.mkdir()
        (d / "hall.yaml").write_text(text, encoding="utf-8")
        return d

    return write


@pytest.fixture(scope="session")
def check_config():
    """`check_config(*args, env=...)` runs `yizhan check-config` in a subprocess."""
    return run_check_config
