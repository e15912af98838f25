"""Drives the real kiosk widgets without a main loop: for the tour, the UI tests and the bench.

`prepare_kivy()` must run before anything imports kivy (offscreen SDL, no argv parsing,
a private KIVY_HOME). Taps are real touch events (kivy.tests.common.UnitTestTouch)
dispatched through the window, so they hit whatever a finger would hit.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Callable

PORTRAIT = (1080, 1920)
LANDSCAPE = (1920, 1080)


def prepare_kivy(size: tuple[int, int] = PORTRAIT, offscreen: bool = True) -> None:
    if "kivy" in __import__("sys").modules:
        return
    if offscreen:
        os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")  # our logging config, and stderr left alone
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))
    from kivy.config import Config

    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "resizable", "1")
    Config.set("graphics", "multisamples", "0")  # as the kiosk runs (kiosk/cli.py)
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("input", "mouse", "mouse,multitouch_on_demand")


class Harness:
    def __init__(self, app) -> None:  # app: kiosk.app.KioskApp
        from kivy.base import EventLoop

        self.app = app
        EventLoop.ensure_window()
        self.window = EventLoop.window
        self.app._run_prepare()
        self.pump(3)

    # ---- time ------------------------------------------------------------------------------
    def pump(self, frames: int = 1) -> None:
        from kivy.base import EventLoop

        for _ in range(frames):
            EventLoop.idle()

    def until(self, cond: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
        """Runs frames until `cond()` holds; raises TimeoutError naming `what` after `timeout` s."""
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout:.0f} s for {what or cond} (screen: {self.app.sm.current})")
            self.pump()
        self.pump(2)  # let the triggered refresh and layout settle

    # ---- finding and touching ---------------------------------------------------------------------
    @property
    def screen(self):
        return self.app.sm.current_screen

    def buttons(self, action: str | None = None) -> list:
        from kiosk.ui.widgets import KButton

        out = [w for w in self.screen.walk() if isinstance(w, KButton) and w.opacity > 0]
        if action is not None:
            out = [b for b in out if b.action == action]
        return out

    def button(self, action: str):
        found = self.buttons(action)
        if not found:
            have = sorted({b.action for b in self.buttons()})
            raise LookupError(f"no button {action!r} on {self.app.sm.current}; there are {have}")
        return found[0]

    def tap_widget(self, widget) -> None:
        from kivy.tests.common import UnitTestTouch

        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()
        self.pump(1)

    def tap(self, action: str) -> None:
        self.tap_widget(self.button(action))

    def tap_at(self, x: float, y: float) -> None:
        from kivy.tests.common import UnitTestTouch

        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()
        self.pump(2)

    def texts(self) -> str:
        """Every text on the current screen, for assertions about what a citizen reads."""
        from kivy.uix.label import Label

        parts = []
        for w in self.screen.walk():
            if isinstance(w, Label) and w.opacity > 0 and w.text:
                parts.append(w.text)
        return "\n".join(parts)

    # ---- pictures -----------------------------------------------------------------------------------
    def resize(self, size: tuple[int, int]) -> None:
        self.window.size = size
        self.pump(4)

    def screenshot(self, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.pump(3)
        stem = path.with_suffix("")
        written = self.window.screenshot(name=str(stem) + ".png")
        # Kivy appends a counter (name0001.png): give the file its intended name.
        Path(written).replace(path)
        return path

    def close(self) -> None:
        from kivy.app import App

        app = self.app
        if app.sm is not None:
            app.sm.current_screen.on_leave()  # stops animations that read `app`
        app.dispatch("on_stop")
        for child in list(self.window.children):
            self.window.remove_widget(child)
        App._running_app = None
