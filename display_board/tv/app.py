"""The TV as a full-screen Kivy application around a DisplayService."""

from __future__ import annotations

import logging
import signal

from kivy.app import App
from kivy.clock import Clock

from display_board.service import DisplayService
from display_board.tv.screen import TvScreen, TvSink, load_style

logger = logging.getLogger(__name__)


class TvApp(App):
    title = "yizhan 叫号屏"

    def __init__(self, service: DisplayService, **kw) -> None:
        super().__init__(**kw)
        self.service = service
        self.sink: TvSink | None = None

    def load_kv(self, filename=None) -> bool:
        # Kivy would load tv.kv a second time by the class name (TvApp → tv.kv): every rule
        # applied twice doubles every widget. load_style() loads it once.
        return False

    def build(self) -> TvScreen:
        tv = self.service.cfg.tv
        load_style(tv.font)
        screen = TvScreen(self.service.clock, history=tv.history, flash_s=tv.flash_s, notice_fps=tv.notice_fps)
        self.sink = TvSink(screen, self.service.log, is_connected=lambda: self.service.messenger.connected)
        self.service.attach_tv(self.sink)
        return screen

    def on_start(self) -> None:
        self.service.status.set("tv", True, "")
        self.service.start()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *a: Clock.schedule_once(lambda dt: self.stop(), 0))

    def on_stop(self) -> None:
        self.service.stop()
