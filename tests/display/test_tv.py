"""The TV screen, drawn offscreen at 1920×1080: the current call in the largest type, the recent
calls, waiting counts, masked names only when the hall calls by name."""

from __future__ import annotations

from datetime import datetime

import pytest
from PIL import Image

from display_board.announcements import AnnouncementLog, read_log
from display_board.model import CallUpdate, HallView
from display_board.snapshot import snapshot
from tests.display.helpers import HALL, call_payload, kivy_pump, queue_payload, wait_for, window_payload
from yizhan.clock import ManualClock

pytestmark = pytest.mark.kivy


@pytest.fixture
def tv(kivy_window, tmp_path):
    from display_board.tv.screen import TvScreen, TvSink

    clock = ManualClock(datetime.fromisoformat("2026-11-23T09:30:00+08:00"))
    screen = TvScreen(clock, history=8, flash_s=5)
    kivy_window.add_widget(screen)
    screen.size = kivy_window.size
    log = AnnouncementLog(tmp_path, clock, "tv-1")
    sink = TvSink(screen, log)
    yield screen, sink
    kivy_window.remove_widget(screen)


def labels(widget):
    from kivy.uix.label import Label

    return [w for w in widget.walk() if isinstance(w, Label) and w.text and w.opacity > 0]


def feed(view: HallView, rest: str, payload: bytes):
    return view.apply(f"yizhan/{HALL}/{rest}", payload)


def test_current_call_is_the_largest_type_and_history_follows(tv, tmp_path):
    screen, sink = tv
    view = HallView(HALL)
    feed(view, "queue/A/state", queue_payload("A", 7, "综合受理"))
    feed(view, "queue/B/state", queue_payload("B", 3, "社保医保"))
    last = None
    for i, (ticket, window) in enumerate([("A010", "01"), ("B003", "04"), ("A011", "02"), ("A012", "05")]):
        last = feed(view, "call", call_payload(ticket, window))
        sink.push(snapshot(view, hall_name="青岚县政务服务中心", notice="请保管好号票", history=8, by_name=False, connected=True), last)
    wait_for(lambda: screen.current_ticket == "A012" and len(read_log(tmp_path)) == 4, pump=kivy_pump, what="the TV to draw A012")
    biggest = max(labels(screen), key=lambda w: w.font_size)
    assert biggest.text == "A012"
    assert all(w.font_size < biggest.font_size * 0.5 for w in labels(screen) if w is not biggest)
    assert "5号窗口" in screen.current_window
    texts = [w.text for w in labels(screen)]
    for expected in ("A011", "2号窗口", "B003", "4号窗口", "A010", "综合受理", "等候 7 人", "社保医保", "等候 3 人", "青岚县政务服务中心"):
        assert expected in " ".join(texts)
    assert screen.flash_on  # a fresh call flashes
    assert [r["ticket"] for r in read_log(tmp_path) if r["output"] == "tv"] == ["A010", "B003", "A011", "A012"]
    path = tmp_path / "tv.png"
    screen.export_to_png(str(path))
    with Image.open(path) as img:
        assert img.size == (1920, 1080)


def test_masked_names_only_when_the_hall_calls_by_name(tv):
    screen, sink = tv
    view = HallView(HALL)
    update = feed(view, "call", call_payload("A020", "03", masked_name="张*"))
    sink.push(snapshot(view, hall_name="大厅", notice="", history=8, by_name=False, connected=True), update)
    wait_for(lambda: screen.current_ticket == "A020", pump=kivy_pump, what="A020")
    assert "张*" not in " ".join(w.text for w in labels(screen))
    sink.push(snapshot(view, hall_name="大厅", notice="", history=8, by_name=True, connected=True), None)
    wait_for(lambda: "张*" in screen.current_note, pump=kivy_pump, what="the masked name")


def test_rebooted_tv_shows_windows_from_retained_state_without_flashing(tv):
    screen, sink = tv
    view = HallView(HALL)
    feed(view, "window/01/state", window_payload("01", ticket="A009", at="2026-11-23T09:10:00+08:00"))
    feed(view, "window/02/state", window_payload("02", ticket="B004", at="2026-11-23T09:20:00+08:00"))
    sink.push(snapshot(view, hall_name="大厅", notice="", history=8, by_name=False, connected=True), None)
    wait_for(lambda: screen.current_ticket == "B004", pump=kivy_pump, what="B004 from the retained state")
    assert screen.rows[0].ticket == "A009" and not screen.flash_on


def test_lost_server_link_shows_a_banner(tv):
    screen, sink = tv
    view = HallView(HALL)
    sink.push(snapshot(view, hall_name="大厅", notice="", history=8, by_name=False, connected=False), None)
    wait_for(lambda: screen.banner, pump=kivy_pump, what="the banner")
    assert "重连" in screen.banner


def test_a_lost_broker_shows_the_banner_without_any_message(kivy_window, tmp_path):
    from display_board.tv.screen import TvScreen, TvSink

    clock = ManualClock(datetime.fromisoformat("2026-11-23T09:30:00+08:00"))
    screen = TvScreen(clock)
    kivy_window.add_widget(screen)
    link = {"up": True}
    sink = TvSink(screen, AnnouncementLog(tmp_path, clock, "tv-1"), is_connected=lambda: link["up"])
    try:
        link["up"] = False
        wait_for(lambda: "重连" in screen.banner, pump=kivy_pump, what="the banner")
        link["up"] = True
        wait_for(lambda: screen.banner == "", pump=kivy_pump, what="the banner to go")
    finally:
        kivy_window.remove_widget(screen)
    assert sink.frames_logged == 0


def test_a_burst_faster_than_frames_still_shows_every_call_in_order(tv, tmp_path):
    """Twenty calls pushed before the TV draws a single frame: it catches up frame by frame,
    and every call is in a drawn frame once."""
    screen, sink = tv
    view = HallView(HALL)
    tickets = [f"A{i:03d}" for i in range(1, 21)]
    for t in tickets:
        update = feed(view, "call", call_payload(t, "02"))
        sink.push(snapshot(view, hall_name="大厅", notice="", history=8, by_name=False, connected=True), update)
    wait_for(lambda: len([r for r in read_log(tmp_path) if r["output"] == "tv"]) >= 20, pump=kivy_pump, what="20 TV records")
    assert [r["ticket"] for r in read_log(tmp_path) if r["output"] == "tv"] == tickets
    assert screen.current_ticket == "A020"


def test_a_still_notice_is_centred_and_readable(kivy_window):
    from display_board.tv.screen import TvScreen

    screen = TvScreen(ManualClock(datetime.fromisoformat("2026-11-23T09:30:00+08:00")), notice_fps=0)
    kivy_window.add_widget(screen)
    screen.size = kivy_window.size
    try:
        screen.notice = "过号请到窗口咨询"
        box, label = screen.ids.notice_box, screen.ids.notice
        wait_for(lambda: label.width > 1 and abs(label.center_x - box.center_x) < 2, pump=kivy_pump, what="the centred notice")
        assert box.x <= label.x and label.right <= box.right
    finally:
        kivy_window.remove_widget(screen)
