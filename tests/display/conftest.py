"""Fixtures for the display board: offscreen Kivy, a real Mosquitto, pty pairs, a small hall."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Kivy reads these once, at its first import: before anything imports kivy.
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))

import pytest  # noqa: E402

from tests.display.helpers import display_hall  # noqa: E402
from tests.fixtures_mqtt import messenger_factory, mosquitto, mosquitto_factory  # noqa: E402,F401


@pytest.fixture
def hall_config():
    return display_hall()


@pytest.fixture(scope="session")
def kivy_window():
    """Kivy's one window per process, at the TV's size, configured as `yizhan display` does."""
    from kivy.config import Config

    Config.set("graphics", "multisamples", "0")
    from kivy.base import EventLoop
    from kivy.core.window import Window

    EventLoop.ensure_window()
    Window.size = (1920, 1080)
    from display_board.tv.screen import load_style

    load_style()
    return Window
