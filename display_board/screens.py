"""`python -m display_board.screens DIR`: draws the TV (1920×1080) and the LED simulator with a
sample morning in a hall, for the documentation (docs/screens/tv.png, docs/screens/led.png).

Runs offscreen (SDL_VIDEODRIVER=offscreen); needs no broker and no hardware.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path


def _msg(kind: str, hall: str, **data) -> tuple[str, dict]:
    topic = {"call": f"yizhan/{hall}/call"}.get(kind, f"yizhan/{hall}/{kind}")
    return topic, {"event_id": uuid.uuid4().hex, "hall": hall, "at": "2026-11-23T10:05:00+08:00"} | data


def sample_view(hall: str):
    from display_board.model import HallView

    view = HallView(hall)
    queues = [("A", "综合受理", 12), ("B", "社保医保", 5), ("C", "不动产登记", 8), ("D", "税务", 3), ("E", "公积金", 0)]
    for q, name, n in queues:
        view.apply(*_msg(f"queue/{q}/state", hall, queue=q, name=name, waiting=n, estimated_wait_s=n * 240, open=q != "E"))
    fresh = None
    for ticket, w in [("C021", "11"), ("A045", "02"), ("B018", "07"), ("D009", "15"), ("A046", "03"), ("A047", "01"),
                      ("C022", "12"), ("B019", "08"), ("A048", "05")]:
        name = f"{int(w)}号窗口"
        fresh = view.apply(*_msg("call", hall, ticket=ticket, ticket_id=1, window=w, window_name=name, window_spoken=name,
                                 text=f"请{ticket}号到{name}办理", recall=0, queue=ticket[0]))
    return view, fresh


def save_window(path: Path) -> None:
    """The window's pixels as the last frame left them: what the TV really shows (a widget's
    export_to_png draws it again into a texture of its own, without the window's settings)."""
    from kivy.core.window import Window
    from kivy.graphics import opengl as gl
    from PIL import Image

    w, h = Window.size
    data = gl.glReadPixels(0, 0, w, h, gl.GL_RGBA, gl.GL_UNSIGNED_BYTE)
    Image.frombytes("RGBA", (w, h), data).transpose(Image.Transpose.FLIP_TOP_BOTTOM).convert("RGB").save(path)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else "docs/screens")
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))
    from kivy.config import Config

    Config.set("graphics", "width", "1920")
    Config.set("graphics", "height", "1080")
    Config.set("graphics", "multisamples", "0")  # as `yizhan display` (display_board/cli.py)
    from kivy.base import EventLoop
    from kivy.core.window import Window

    from display_board.announcements import AnnouncementLog
    from display_board.led.layout import board_lines, strip_line
    from display_board.led.protocol import brightness_frame
    from display_board.led.simulator import BusSimulator
    from display_board.led.protocol import text_frame, scroll_frame, clear_frame
    from display_board.snapshot import snapshot
    from display_board.tv.screen import TvScreen, TvSink, load_style
    from yizhan.clock import ManualClock

    hall = "qinglan"
    view, fresh = sample_view(hall)
    EventLoop.ensure_window()
    Window.size = (1920, 1080)
    load_style()
    clock = ManualClock(datetime.fromisoformat("2026-11-23T10:05:32+08:00"))
    screen = TvScreen(clock, history=8, flash_s=0)
    Window.add_widget(screen)
    screen.size = Window.size
    sink = TvSink(screen, AnnouncementLog(Path(tempfile.mkdtemp()), clock, "docs"))
    sink.push(snapshot(view, hall_name="青岚县政务服务中心", notice="办事指南请在自助机查询；过号请到窗口咨询；预约办理请关注“青岚政务”公众号。",
                       history=8, by_name=False, connected=True), fresh)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and screen.current_ticket != fresh.call.ticket:
        EventLoop.idle()
    screen.notice_offset = screen.ids.notice_box.width * 0.9
    for _ in range(5):
        EventLoop.idle()
    save_window(out / "tv.png")

    # The LED simulator: the hall board and three window strips, fed the same frames a board gets.
    bus = BusSimulator({1: (4, 16), 101: (1, 4), 102: (1, 4), 103: (1, 4)})
    lines = board_lines(view, title="青岚县政务服务中心", lines=4, columns=16, show_waiting=True)
    bus.feed(brightness_frame(1, 1, 15).encode())
    for i, line in enumerate(lines):
        maker = scroll_frame if line.scroll else text_frame
        bus.feed((maker(1, i + 2, i, line.text, line.colour) if line.text else clear_frame(1, i + 2, i)).encode())
    from display_board.model import WindowState

    strips = [strip_line(None, "A048"), strip_line(WindowState("02", "2号窗口", "paused", None, None)),
              strip_line(WindowState("03", "3号窗口", "open", None, None))]
    for addr, line in zip((101, 102, 103), strips):
        bus.feed(text_frame(addr, addr, 0, line.text, line.colour).encode())
    bus.render_png(out / "led.png", title="LED 模拟器：大厅综合屏（地址 1）与窗口屏（5号、2号、3号窗口）")
    print(f"wrote {out / 'tv.png'} and {out / 'led.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
