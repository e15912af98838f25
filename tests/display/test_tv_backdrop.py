"""The TV's backdrop fills each pixel once: the background only where no panel is."""

from __future__ import annotations

import random
from datetime import datetime

import numpy as np
import pytest

from display_board.announcements import AnnouncementLog, read_log
from display_board.model import HallView
from display_board.snapshot import snapshot
from display_board.tv.backdrop import uncovered
from tests.display.helpers import HALL, call_payload, kivy_pump, wait_for
from yizhan.clock import ManualClock


def inside(p, r) -> bool:
    return r[0] <= p[0] < r[0] + r[2] and r[1] <= p[1] < r[1] + r[3]


def test_background_and_panels_tile_the_screen_without_overlap():
    rng = random.Random(4)
    area = (0.0, 0.0, 1920.0, 1080.0)
    for _ in range(30):
        covers = []
        for _ in range(rng.randint(0, 12)):
            x, y = rng.uniform(-50, 1900), rng.uniform(-50, 1060)
            covers.append((x, y, rng.uniform(1, 700), rng.uniform(1, 400)))
        free = uncovered(area, covers)
        for _ in range(400):
            p = (rng.uniform(0, 1920), rng.uniform(0, 1080))
            in_free = sum(inside(p, r) for r in free)
            assert in_free == (0 if any(inside(p, c) for c in covers) else 1)
        assert all(r[2] > 0 and r[3] > 0 for r in free)


def test_the_tv_layout_needs_few_background_pieces():
    # header, two panels, five chips, the notice bar (the layout of tv.kv at 1920×1080)
    covers = [(0, 972, 1920, 108), (21.6, 287.3, 1032.8, 663.1), (1076, 287.3, 822.4, 663.1), (0, 0, 1920, 86.4)]
    covers += [(16.2 + i * 377.5 + 6, 91.8 + 4, 365.5, 178.5) for i in range(5)]
    free = uncovered((0, 0, 1920, 1080), covers)
    assert 0 < len(free) <= 20
    assert sum(w * h for _, _, w, h in free) < 0.2 * 1920 * 1080


def window_pixel(x: float, y: float) -> tuple[int, int, int]:
    from kivy.core.window import Window
    from kivy.graphics import opengl as gl

    data = gl.glReadPixels(int(x), int(y), 1, 1, gl.GL_RGBA, gl.GL_UNSIGNED_BYTE)
    return tuple(data[:3])


def close(rgb, rgba) -> bool:
    return all(abs(a - round(b * 255)) <= 2 for a, b in zip(rgb, rgba[:3]))


@pytest.mark.kivy
def test_each_frame_paints_every_pixel_and_the_flash_is_the_panel_colour(kivy_window, tmp_path):
    """The TV draws without clearing the window (it costs a software renderer several ms a
    frame): the backdrop must cover every pixel, whatever the window held before."""
    from kivy.graphics import opengl as gl

    from display_board.tv.screen import FLASH, PANEL, TvScreen, TvSink

    clock = ManualClock(datetime.fromisoformat("2026-11-23T09:30:00+08:00"))
    screen = TvScreen(clock, history=8, flash_s=0, notice_fps=0)  # flash_on set by hand below
    kivy_window.add_widget(screen)
    screen.size = kivy_window.size
    sink = TvSink(screen, AnnouncementLog(tmp_path, clock, "tv-1"))
    try:
        view = HallView(HALL)
        update = view.apply(f"yizhan/{HALL}/call", call_payload("A012", "05"))
        sink.push(snapshot(view, hall_name="大厅", notice="请保管好号票", history=8, by_name=False, connected=True), update)
        wait_for(lambda: read_log(tmp_path), pump=kivy_pump, what="A012 drawn")
        screen.flash_on = True
        gl.glClearColor(1, 0, 1, 1)  # magenta garbage where the last frame was
        gl.glClear(gl.GL_COLOR_BUFFER_BIT)
        screen.canvas.ask_update()
        kivy_pump()
        w, h = kivy_window.size
        pixels = np.frombuffer(gl.glReadPixels(0, 0, w, h, gl.GL_RGBA, gl.GL_UNSIGNED_BYTE), np.uint8).reshape(h, w, 4)
        magenta = (pixels[..., 0] > 240) & (pixels[..., 1] < 15) & (pixels[..., 2] > 240)
        assert not magenta.any(), f"{int(magenta.sum())} pixels not painted"
        panel = screen.ids.current_panel
        spot = (panel.x + panel.width * 0.05, panel.y + panel.height * 0.05)  # inside, clear of text
        assert close(window_pixel(*spot), FLASH)
        screen.flash_on = False
        kivy_pump()
        assert close(window_pixel(*spot), PANEL)
    finally:
        kivy_window.remove_widget(screen)
