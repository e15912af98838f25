"""The Kivy application: builds the screens, binds them to the core, marshals everything onto
the UI thread with Kivy's Clock, and turns any unexpected error into an apology and home."""

from __future__ import annotations

import logging

from kivy.app import App
from kivy.base import ExceptionHandler, ExceptionManager
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.core.kiosk import KioskCore
from kiosk.core.views import Screen
from kiosk.ui.screens import SCREENS, load_kv
from kiosk.core.runtime import QueuePost
from kiosk.ui.theme import register_font

logger = logging.getLogger(__name__)

ELDER_SCALE = 1.25


class _Apologise(ExceptionHandler):
    """Kivy's last line of defence: log, apologise, go home — never a traceback on screen."""

    def __init__(self, app: "KioskApp") -> None:
        self.app = app

    def handle_exception(self, inst: BaseException) -> int:
        if isinstance(inst, (KeyboardInterrupt, SystemExit)):
            return ExceptionManager.RAISE
        core = self.app.core
        if core is None:
            return ExceptionManager.RAISE
        core.fail(inst)
        return ExceptionManager.PASS


class KioskApp(App):
    scale = NumericProperty(1.0)
    portrait = BooleanProperty(True)
    elder = BooleanProperty(False)
    lang = StringProperty("zh_CN")
    hall_title = StringProperty("")
    now_text = StringProperty("")
    banner_text = StringProperty("")
    banner_level = StringProperty("")

    def __init__(self, core_factory, **kw) -> None:
        """`core_factory(post)` builds the KioskCore once Kivy's Clock exists."""
        super().__init__(**kw)
        self.title = "yizhan kiosk"
        self._core_factory = core_factory
        self.core: KioskCore | None = None
        self.sm: ScreenManager | None = None
        self._handler = _Apologise(self)
        self._refresh = Clock.create_trigger(self._apply, -1)
        self._events: list = []
        self._inbox = QueuePost()  # results from worker threads, run on the UI thread each frame

    # ---- helpers used by kv ----------------------------------------------------------------
    def tr(self, key: str, _lang: str | None = None, **kw: object) -> str:
        return self.core.tr(key, **kw) if self.core is not None else key

    # ---- lifecycle -------------------------------------------------------------------------------
    def build(self):
        register_font()
        self.core = self._core_factory(self._post)
        self.core.subscribe(self._refresh)
        self.hall_title = self.core.catalogue.hall_name
        self._resize(Window, Window.size)
        Window.bind(size=self._resize)
        Window.bind(on_touch_down=self._touched)
        ExceptionManager.add_handler(self._handler)
        load_kv()
        self.sm = ScreenManager(transition=NoTransition())
        # Only home is built at start (cold start); the other screens on their first use.
        self._screen("home")
        self._apply()
        return self.sm

    def on_start(self) -> None:
        self._events = [
            Clock.schedule_interval(self._drain, 0),
            Clock.schedule_interval(self._tick, 0.2),
            Clock.schedule_interval(self._clock, 1.0),
        ]
        self._clock(0)
        self.core.start()

    def on_stop(self) -> None:
        for ev in self._events:
            ev.cancel()
        ExceptionManager.remove_handler(self._handler)
        Window.unbind(size=self._resize, on_touch_down=self._touched)
        if self.core is not None:
            self.core.close()

    # ---- the bridge from the core ---------------------------------------------------------------
    def _post(self, fn) -> None:
        """Called from worker threads: the callback runs on the UI thread at the next frame
        (a queue drained by a Clock interval; scheduling on the Clock from another thread was
        measured to wait much longer)."""
        self._inbox(fn)

    def _drain(self, _dt: float) -> None:
        self._inbox.drain()

    def _touched(self, _win, _touch) -> None:
        if self.core is not None:
            self.core.activity()

    def _tick(self, _dt: float) -> None:
        self.core.tick()
        screen = self.sm.current_screen
        if hasattr(screen, "tick"):
            screen.tick()

    def _clock(self, _dt: float) -> None:
        now = self.core.clock.now()
        weekday = self.core.tr(f"kiosk.weekday.{now.isoweekday()}")
        self.now_text = f"{now:%Y-%m-%d} {weekday} {now:%H:%M}"

    def _resize(self, _win, size) -> None:
        w, h = size
        self.portrait = h >= w
        base = min(w, h) / 1080.0
        self.scale = base * (ELDER_SCALE if self.elder else 1.0)

    def _screen(self, name: str):
        if not self.sm.has_screen(name):
            self.sm.add_widget(SCREENS[name](name=name))
        return self.sm.get_screen(name)

    def _apply(self, *_a) -> None:
        core = self.core
        if core is None or self.sm is None:
            return
        relayout = core.elder != self.elder or core.lang != self.lang
        self.elder = core.elder
        self.lang = core.lang
        if relayout:
            self._resize(Window, Window.size)
            self.hall_title = core.catalogue.hall_name_for(core.lang)
            self._clock(0)
        banner = core.banner()
        self.banner_level, self.banner_text = (banner[0], core.tr(banner[1])) if banner else ("", "")
        name = core.screen.value if isinstance(core.screen, Screen) else str(core.screen)
        screen = self._screen(name)
        screen.refresh()
        if self.sm.current != name:
            self.sm.current = name
