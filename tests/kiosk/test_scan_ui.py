"""材料扫描 as a citizen uses it: the simulated document camera, real widgets offscreen, a real server."""

from __future__ import annotations

import pytest

from kiosk.devices.camera.document import pdf_page_count

pytestmark = pytest.mark.kivy


def on(h, screen: str, what: str = "") -> None:
    h.until(lambda: h.app.sm.current == screen, what=what or screen)


def pages(h) -> int:
    return len(h.core.scan_doc)


def capture(h, n: int) -> None:
    """Taps 拍照 once the preview has found the page; waits for the page to join the list."""
    sv = h.core.scan_view
    h.until(lambda: h.core.scan_feed.latest_full() is not None and h.core.scan_feed.latest_full()[1] is not None
            and sv.phase == "live", timeout=30, what="a page under the camera")
    if pages(h) < n:
        h.tap("capture")
    h.until(lambda: pages(h) >= n and sv.phase == "live", timeout=30, what=f"page {n} captured")


def hold_camera(h) -> None:
    """Stops the camera (it keeps its last frame for 拍照) and waits for a capture in flight:
    from then on no automatic capture races the test's taps (buttons are disabled while one runs)."""
    h.core.scan_feed.stop()
    h.until(lambda: h.core.scan_view.phase == "live", timeout=30, what="a capture still in flight to finish")


def test_scan_two_pages_delete_one_and_send_to_the_ticket(ui, server):
    h = ui
    h.tap("take")
    on(h, "services")
    h.tap("service:SB002")  # no real name: straight to the ticket
    on(h, "ticket")
    ticket_id = h.core.ticket_view.ticket_id
    h.tap("scan")
    on(h, "scan")
    assert "A001" in h.texts() and "拍照" in h.texts() and "30 天后自动删除" in h.texts()  # told how long the scans are kept
    h.until(lambda: h.screen.ids.preview.texture is not None, timeout=30, what="the live preview")
    capture(h, 1)
    capture(h, 2)
    hold_camera(h)
    sv = h.core.scan_view
    assert h.core.scan_feed.latest_full()[1] is not None  # the page is still under the camera
    # 重拍 page 1: the kiosk says so, and the next capture replaces page 1 instead of adding a page.
    first, n = h.core.scan_doc.pages[0], pages(h)
    h.tap("retake:0")
    h.until(lambda: "重拍第 1 页" in h.texts(), what="the retake hint")
    h.tap("capture")
    h.until(lambda: sv.retake is None and sv.phase == "live", timeout=30, what="retaken")
    assert h.core.scan_doc.pages[0] is not first and pages(h) == n
    assert pages(h) >= 2
    for _ in range(pages(h) - 2):  # pages auto-captured before the camera stopped
        n = pages(h)
        h.tap(f"delete:{n - 1}")
        h.until(lambda: pages(h) == n - 1, what=f"page {n} deleted")
    assert len(h.buttons("delete:1")) == 1 and "第 2 页" in h.texts()
    h.tap("delete:1")
    h.until(lambda: pages(h) == 1, what="page deleted")
    assert not h.buttons("delete:1") and "提交（1 页）" in h.texts()
    h.tap("send")
    h.until(lambda: h.core.scan_view is not None and h.core.scan_view.phase == "sent", timeout=30, what="sent")
    assert "已发送到号码 A001" in h.texts()
    # Personal data: nothing of the pages stays on the kiosk once the server has them.
    assert pages(h) == 0
    docs = server.api("GET", f"/tickets/{ticket_id}/documents")
    assert len(docs) == 1 and docs[0]["pages"] == 1
    import httpx

    r = httpx.get(server.url + docs[0]["url"], headers={"Authorization": f"Bearer {server._admin}"}, timeout=10)
    assert r.status_code == 200 and r.content.startswith(b"%PDF") and pdf_page_count(r.content) == 1


def test_scan_without_a_ticket_asks_for_a_number_first(ui, server):
    h = ui
    h.tap("scan")
    on(h, "scan")
    assert "您还没有取号" in h.texts()
    assert not h.buttons("send") and h.buttons("take_first")
    capture(h, 1)
    hold_camera(h)
    h.tap("take_first")
    on(h, "services")
    h.tap("service:SB002")
    on(h, "ticket")
    h.tap("scan")
    on(h, "scan")
    assert pages(h) >= 1, "the page taken before the number is kept for sending"
    h.tap("home")
    on(h, "home")
    assert pages(h) == 0, "going home drops unsent pages"


def test_no_camera_sends_the_citizen_to_the_desk(ui, server):
    h = ui
    h.core.devices.camera = None
    h.tap("scan")
    on(h, "scan")
    assert "请到服务台扫描材料" in h.texts()
    assert not h.buttons("capture") and not h.buttons("take_first") and not h.buttons("send")
    h.tap("home")
    on(h, "home")
    h.tap("take")
    on(h, "services")


def test_a_camera_that_stops_giving_frames_says_where_to_scan(ui, server, tmp_path):
    """A camera unplugged mid-use (here: a folder of one frame, then nothing) — the kiosk keeps working."""
    import cv2

    from kiosk.devices.camera.sources import FolderSource
    from kiosk.devices.camera.synth import make_frame

    cv2.imwrite(str(tmp_path / "f.png"), make_frame(640, 360, seed=3).image)
    h = ui
    h.core.devices.camera = FolderSource(tmp_path)
    h.tap("scan")
    on(h, "scan")
    h.until(lambda: "请到服务台扫描材料" in h.texts(), timeout=30, what="the camera-failed message")
    assert not h.buttons("capture")
    h.tap("home")
    on(h, "home")


def test_a_failed_send_keeps_the_pages_and_can_be_tried_again(ui, server, refused_url):
    from kiosk.core.api import ApiClient

    h = ui
    h.tap("take")
    on(h, "services")
    h.tap("service:SB002")
    on(h, "ticket")
    ticket_id = h.core.ticket_view.ticket_id
    h.tap("scan")
    on(h, "scan")
    capture(h, 1)
    hold_camera(h)
    real_api = h.core.api
    h.core.api = ApiClient(refused_url, "x", timeout=2)
    try:
        h.tap("send")
        h.until(lambda: h.core.scan_view.problem_key != "", timeout=60, what="the upload error")
    finally:
        h.core.api.close()
        h.core.api = real_api
    assert "材料上传失败" in h.texts() and pages(h) >= 1
    assert server.api("GET", f"/tickets/{ticket_id}/documents") == []
    h.tap("send")
    h.until(lambda: h.core.scan_view.phase == "sent", timeout=30, what="sent on the second try")
    assert len(server.api("GET", f"/tickets/{ticket_id}/documents")) == 1
