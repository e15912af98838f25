"""The TV screen widget and the sink that feeds it from the message thread.

Kivy must be configured (SDL_VIDEODRIVER, KIVY_HOME …) before this module is imported.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from kivy.clock import Clock
from kivy.core.text import DEFAULT_FONT, LabelBase
from kivy.core.window import Window
from kivy.metrics import dp
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.label import Label

from display_board.announcements import AnnouncementLog
from display_board.fonts import chinese_font
from display_board.model import CallUpdate
from display_board.snapshot import Snapshot
from display_board.tv.backdrop import Shape
from display_board.tv.gl import finish as gl_finish
from yizhan.clock import Clock as HallClock
from yizhan.i18n import t

logger = logging.getLogger(__name__)

KV = Path(__file__).with_name("tv.kv")
_loaded = False

# The backdrop's colours (the text colours are in tv.kv).
NAVY = (0.04, 0.11, 0.23, 1)
BAR = (0.02, 0.07, 0.16, 1)  # header and notice
PANEL = (0.07, 0.17, 0.33, 1)
STRIPE = (0.126, 0.22, 0.37, 1)  # PANEL under 6 % white: every other history row, opaque
FLASH = (0.78, 0.06, 0.18, 1)


def load_style(font: str = "") -> None:
    """Registers the Chinese face as Kivy's default font and loads tv.kv (once per process)."""
    global _loaded
    if _loaded:
        return
    LabelBase.register(DEFAULT_FONT, chinese_font(font))
    Builder.load_file(str(KV))
    _loaded = True


class TvLabel(Label):
    """The TV's label: bold, tight texture (see tv.kv). A changed text costs a texture upload,
    so the screen changes as few labels per call as it can (see TvScreen._show_history)."""

    def on_texture(self, _, texture) -> None:
        # Kivy places a label's texture on whole pixels, one texel a pixel: nearest sampling
        # draws the same picture as linear, ~15 % faster in Mesa's software renderer.
        if texture is not None:
            texture.mag_filter = "nearest"
            texture.min_filter = "nearest"


class HistoryRow(BoxLayout):
    key: tuple = ()
    ticket = StringProperty("")
    window_name = StringProperty("")
    odd = BooleanProperty(False)


class QueueChip(BoxLayout):
    title = StringProperty("")
    detail = StringProperty("")
    open = BooleanProperty(True)


class TvScreen(FloatLayout):
    hall_name = StringProperty("")
    clock_text = StringProperty("")
    banner = StringProperty("")
    calling_text = StringProperty("")
    current_ticket = StringProperty("")
    current_ticket_is_number = BooleanProperty(False)
    current_window = StringProperty("")
    current_note = StringProperty("")
    recent_title = StringProperty("")
    notice = StringProperty("")
    notice_offset = NumericProperty(0)
    notice_fps = NumericProperty(15)
    flash_on = BooleanProperty(False)

    def __init__(self, hall_clock: HallClock, history: int = 8, flash_s: float = 5.0, notice_fps: int = 15, **kw) -> None:
        super().__init__(**kw)
        self.hall_clock = hall_clock
        self.history_n = history
        self.flash_s = flash_s
        self.recent_title = t("display.tv.recent")
        self._repaint = Clock.create_trigger(self._paint_backdrop, -1)
        self.bind(pos=self._repaint, size=self._repaint, banner=self._repaint)
        for name in ("header", "banner", "current_panel", "history_panel", "notice_box"):
            self.ids[name].bind(pos=self._repaint, size=self._repaint)
        self.rows = [HistoryRow(odd=bool(i % 2)) for i in range(history)]
        for row in self.rows:
            self.ids.history.add_widget(row)
            row.bind(pos=self._repaint, size=self._repaint, odd=self._repaint)
        self._chips: list[QueueChip] = []
        self._flash_until = 0.0
        self._flash_event = None
        self.tick_clock()
        Clock.schedule_interval(lambda dt: self.tick_clock(), 1.0)
        # 15 steps a second by default: smooth enough to read, and half the frames a 30 fps
        # marquee costs a software-rendered TV (every frame delays the next label upload).
        self.notice_fps = notice_fps
        if notice_fps > 0:
            Clock.schedule_interval(self._scroll_notice, 1 / notice_fps)
        self.show(None)

    # -- backdrop --------------------------------------------------------------------------
    def _paint_backdrop(self, *_) -> None:
        ids = self.ids
        radius = self.height * 0.015
        shapes = [Shape(BAR, ids.header.pos, ids.header.size)]
        if self.banner:
            shapes.append(Shape(FLASH, ids.banner.pos, ids.banner.size))
        current = ids.current_panel
        shapes.append(Shape(FLASH if self.flash_on else PANEL, current.pos, current.size, radius, key="current"))
        shapes.append(Shape(PANEL, ids.history_panel.pos, ids.history_panel.size, radius))
        foot = ids.history_panel.y
        # A stripe at the panel's foot keeps the panel's rounded corners.
        shapes += [Shape(STRIPE, row.pos, row.size, radius if abs(row.y - foot) < 1 else 0, round_top=False)
                   for row in self.rows if row.odd]
        for chip in self._chips:
            inset = (chip.x + dp(6), chip.y + dp(4)), (chip.width - dp(12), chip.height - dp(8))
            shapes.append(Shape(PANEL, *inset, dp(10)))
        shapes.append(Shape(BAR, ids.notice_box.pos, ids.notice_box.size))
        ids.backdrop.paint(NAVY, shapes)

    def on_flash_on(self, _, on: bool) -> None:
        # A colour change only: no text is drawn again.
        self.ids.backdrop.recolor("current", FLASH if on else PANEL)

    # -- time and notice -----------------------------------------------------------------
    def tick_clock(self) -> None:
        now = self.hall_clock.now()
        weekday = t("display.tv.weekday").split()[now.weekday()]
        self.clock_text = f"{t('display.tv.date', y=now.year, m=now.month, d=now.day, weekday=weekday)}  {now:%H:%M:%S}"

    def _scroll_notice(self, dt: float) -> None:
        if self.notice_fps <= 0:
            return
        label = self.ids.notice
        span = self.ids.notice_box.width + label.width
        # ~ 4 characters a second at 1080p: slow enough to read from the back of the hall.
        self.notice_offset = (self.notice_offset + dt * self.height * 0.16) % max(span, 1)

    # -- content ---------------------------------------------------------------------------
    def show(self, snap: Snapshot | None, fresh: CallUpdate | None = None) -> None:
        if snap is None:
            self.calling_text = ""
            self.current_ticket = t("display.tv.no_call")
            self.current_ticket_is_number = False
            self.current_window = ""
            self.current_note = t("display.tv.no_call_hint")
            return
        self.hall_name = snap.hall_name
        if snap.notice != self.notice:
            self.notice = snap.notice
        if not snap.connected or snap.server_state == "offline":
            self.banner = t("display.tv.offline")
        elif snap.server_state == "stopped":
            self.banner = t("display.tv.server_stopped")
        else:
            self.banner = ""
        current = snap.current
        if current is None:
            self.show(None)
        else:
            self.calling_text = t("display.tv.now_calling")
            self.current_ticket = current.ticket
            self.current_ticket_is_number = True
            self.current_window = t("display.tv.to_window", window=current.window_name)
            notes = []
            if snap.by_name and current.masked_name:
                notes.append(current.masked_name)
            if current.recall:
                notes.append(t("display.tv.recall", n=current.recall + 1))
            self.current_note = "  ".join(notes)
        self._show_history(list(snap.recent[1 : self.history_n + 1]))
        self._show_queues(snap)
        if fresh is not None:
            self._start_flash()

    def _show_history(self, calls: list) -> None:
        """The calls before the current one. Rows keep their texts and move down as a block;
        only a row that shows a new call is redrawn (one or two uploads instead of sixteen)."""
        def key(call) -> tuple:
            return (call.ticket, call.window_name)

        by_key = {row.key: row for row in self.rows if row.key}
        wanted = [key(c) for c in calls]
        free = [row for row in self.rows if row.key not in wanted]
        ordered = []
        for call, k in zip(calls, wanted):
            row = by_key.get(k)
            if row is None:
                row = free.pop(0)
                row.key, row.ticket, row.window_name = k, call.ticket, call.window_name
            ordered.append(row)
        for row in free:
            if row.key:
                row.key, row.ticket, row.window_name = (), "", ""
        ordered += free
        if ordered != self.rows:
            box = self.ids.history
            box.clear_widgets()
            for i, row in enumerate(ordered):
                row.odd = bool(i % 2)
                box.add_widget(row)
            self.rows = ordered

    def _show_queues(self, snap: Snapshot) -> None:
        box = self.ids.queues
        while len(self._chips) < len(snap.queues):
            chip = QueueChip()
            chip.bind(pos=self._repaint, size=self._repaint)
            self._chips.append(chip)
            box.add_widget(chip)
            self._repaint()
        while len(self._chips) > len(snap.queues):
            box.remove_widget(self._chips.pop())
            self._repaint()
        for chip, q in zip(self._chips, snap.queues):
            chip.title = f"{q.queue} {q.name}"
            chip.detail = t("display.tv.waiting", n=q.waiting) if q.open else t("display.tv.queue_closed")
            chip.open = q.open

    def _start_flash(self) -> None:
        if self.flash_s <= 0:
            return
        self._flash_until = time.monotonic() + self.flash_s
        self.flash_on = True
        if self._flash_event is None:
            self._flash_event = Clock.schedule_interval(self._flash, 0.5)

    def _flash(self, dt: float) -> bool | None:
        if time.monotonic() >= self._flash_until:
            self.flash_on = False
            self._flash_event = None
            return False
        self.flash_on = not self.flash_on
        return None


class TvSink:
    """Receives snapshots on the message thread and applies them on Kivy's thread; records a
    call in the announcement log when the frame showing it has been drawn."""

    def __init__(self, screen: TvScreen, log: AnnouncementLog, is_connected=None) -> None:
        self.screen = screen
        self.log = log
        # The broker going away sends no message: look at the link once a second.
        self._is_connected = is_connected
        self._link_ok = True
        if is_connected is not None:
            Clock.schedule_interval(self._check_link, 1.0)
        self._lock = threading.Lock()
        self._pushes: list[tuple[Snapshot, CallUpdate | None]] = []
        self._drawn_pending: list[CallUpdate] = []
        self.frames_logged = 0
        Window.bind(on_draw=self._on_draw, on_flip=self._on_flip)
        # Triggered from the message thread (Kivy's clock is thread-safe): runs at the loop's
        # next tick. The frame after one that applied part of a burst triggers it again.
        self._wake = Clock.create_trigger(self._apply, 0)

    def push(self, snap: Snapshot, fresh: CallUpdate | None) -> None:
        with self._lock:
            self._pushes.append((snap, fresh))
            if len(self._pushes) > 1000:  # a TV stuck for minutes: keep the newest picture only
                logger.warning("TV: %d updates behind; showing the newest", len(self._pushes))
                self._pushes = self._pushes[-1:]
        self._wake()

    def _apply(self, dt: float) -> None:
        """Applies, each frame, the newest picture that still shows every call not yet drawn;
        a TV that falls behind a burst catches up frame by frame without skipping a call."""
        with self._lock:
            pushes = self._pushes
            if not pushes:
                return
            take = 1
            for j in range(len(pushes) - 1, 0, -1):
                visible = {c.event_id for c in pushes[j][0].recent[: self.screen.history_n + 1]}
                if all(f.call.event_id in visible for _, f in pushes[: j + 1] if f is not None):
                    take = j + 1
                    break
            batch, self._pushes = pushes[:take], pushes[take:]
        snap = batch[-1][0]
        fresh = [f for _, f in batch if f is not None]
        self.screen.show(snap, fresh[-1] if fresh else None)
        self._drawn_pending.extend(fresh)
        self.screen.canvas.ask_update()

    def _check_link(self, dt: float) -> None:
        ok = bool(self._is_connected())
        if ok != self._link_ok:
            self._link_ok = ok
            if not ok:
                self.screen.banner = t("display.tv.offline")
            elif self.screen.banner == t("display.tv.offline"):
                self.screen.banner = ""

    def _on_draw(self, *args) -> bool:
        """Draws without clearing: the backdrop paints every pixel, and clearing the window's
        colour, depth and stencil buffers cost ~7 ms a frame in software (nothing here uses
        depth or stencil)."""
        Window.render_context.draw()
        return True

    def _on_flip(self, *args) -> bool:
        """Flips, waits until the frame is really drawn, then records the calls it shows.

        Handlers bound to on_flip run before Kivy's own flip, so this one flips itself and
        returns True (Kivy then skips its flip). glFinish (tv/gl.py): Mesa's software renderer
        otherwise queues frames (an offscreen buffer never waits for a swap) and a later
        texture update stalled for up to 1.7 s behind them; a frame is also only on screen
        once rasterised."""
        Window.flip()
        gl_finish()
        with self._lock:
            if self._pushes:
                self._wake()  # a burst: its next part in the next frame
        if not self._drawn_pending:
            return True
        pending, self._drawn_pending = self._drawn_pending, []
        for upd in pending:
            c = upd.call
            self.log.record("tv", event_id=c.event_id, ticket=c.ticket, window=c.window, recall=c.recall)
            self.frames_logged += 1
        return True
