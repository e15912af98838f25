"""The window clerk's console in real headless Chromium: every action by keyboard, a second
browser on the same window following live, double clicks, and a server restart (network blip)."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from queue_server.db.tables import Ticket, TicketEvent, WindowRow
from tests.consoles.conftest import CLERK_PASSWORD, login

pytestmark = pytest.mark.browser


def wait_until(condition, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def both(pages, selector: str, text: str) -> None:
    for p in pages:
        expect(p.locator(selector)).to_have_text(text)


KEYS = {"1": "#btn-call", "2": "#btn-recall", "3": "#btn-skip", "4": "#btn-transfer", "5": "#btn-finish", "6": "#btn-pause", "7": "#btn-start", "p": "#btn-pause"}


def press(page, key: str) -> None:
    """Presses a shortcut once its button is usable (the previous action has been answered)."""
    expect(page.locator(KEYS[key])).to_be_enabled()
    page.keyboard.press(key)


def ticket(hall, number: str) -> Ticket:
    with hall.db.read() as s:
        return s.scalar(select(Ticket).where(Ticket.number == number))


def test_clerk_works_by_keyboard_while_a_second_browser_follows(hall, browser):
    hall.add_clerk("wangfang", "01", "王芳")
    kiosk = hall.token("kiosk", device="kiosk-1")
    numbers = [hall.issue(kiosk).json()["number"] for _ in range(5)]
    assert numbers == ["B001", "B002", "B003", "B004", "B005"]
    p1 = login(browser, hall.url, "wangfang", CLERK_PASSWORD)
    p2 = login(browser, hall.url, "wangfang", CLERK_PASSWORD)
    pages = (p1, p2)
    for p in pages:
        expect(p.locator("#conn")).to_have_attribute("data-state", "live")
        expect(p.locator("#window-name")).to_have_text("1号窗口")
    both(pages, "#window-state", "关闭")
    expect(p1.locator("#btn-call")).to_be_disabled()

    press(p1, "6")  # 开始服务
    both(pages, "#window-state", "服务中")
    both(pages, "#waiting-total", "5")

    press(p1, "1")  # 叫号
    both(pages, "#ticket-number", "B001")
    expect(p1.locator("#ticket-reason")).to_contain_text("B001")
    expect(p1.locator("#ticket-materials li")).to_have_text(["身份证"])
    both(pages, "#waiting-total", "4")
    assert ticket(hall, "B001").state == "called"

    press(p1, "2")  # 重呼
    both(pages, "#ticket-recalls", "1")

    press(p1, "3")  # 过号
    both(pages, "#ticket-number", "—")
    for p in pages:
        expect(p.locator("#skipped")).to_contain_text("B001")
    assert ticket(hall, "B001").state == "skipped"

    press(p1, "1")
    both(pages, "#ticket-number", "B002")
    press(p1, "4")  # 转移: A, first in line, Enter
    expect(p1.locator("#transfer-dialog")).to_be_visible()
    p1.keyboard.press("a")
    expect(p1.locator(".queue-choice.chosen")).to_have_attribute("data-queue", "A")
    p1.keyboard.press("f")
    p1.keyboard.press("Enter")
    both(pages, "#ticket-number", "—")
    moved = ticket(hall, "B002")
    assert (moved.queue, moved.state) == ("A", "waiting")

    press(p1, "1")
    expect(p1.locator("#ticket-number")).not_to_have_text("—")
    called = p1.locator("#ticket-number").inner_text()
    expect(p2.locator("#ticket-number")).to_have_text(called)
    press(p1, "7")  # 开始办理
    both(pages, "#ticket-state", "办理中")
    press(p1, "5")  # 办结
    both(pages, "#ticket-number", "—")
    both(pages, "#served-today", "1")
    assert ticket(hall, called).state == "done"

    # The second browser acts with the mouse; the first follows.
    p2.click("#btn-call")
    expect(p2.locator("#ticket-number")).not_to_have_text("—")
    expect(p1.locator("#ticket-number")).to_have_text(p2.locator("#ticket-number").inner_text())

    # 暂停 with a ticket at the window: the clerk says why, by key; then 恢复 without a question.
    press(p2, "p")
    expect(p2.locator("#pause-dialog")).to_be_visible()
    expect(p2.locator("#pause-dialog button[data-reason]")).to_have_text(["1 临时离开", "2 开会", "3 培训", "4 就餐", "5 后台办件"])
    p2.keyboard.press("2")
    expect(p2.locator("#pause-dialog")).to_be_hidden()
    for p in pages:
        expect(p.locator("#window-state")).to_have_text(re.compile(r"^暂停 · 开会 · \d\d:\d\d 起$"))
    with hall.db.read() as s:
        assert (s.get(WindowRow, "01").state, s.get(WindowRow, "01").pause_reason) == ("paused", "meeting")
    press(p2, "p")
    both(pages, "#window-state", "服务中")
    press(p1, "6")
    p1.keyboard.press("Escape")  # changed their mind: still serving
    expect(p1.locator("#pause-dialog")).to_be_hidden()
    both(pages, "#window-state", "服务中")
    assert p1.js_errors == [] and p2.js_errors == []
    p1.context.close()
    p2.context.close()


def test_double_clicks_and_key_bursts_never_call_two_tickets(hall, browser):
    hall.add_clerk("wangfang", "01", "王芳")
    kiosk = hall.token("kiosk", device="kiosk-1")
    for _ in range(6):
        hall.issue(kiosk)
    p1 = login(browser, hall.url, "wangfang", CLERK_PASSWORD)
    p2 = login(browser, hall.url, "wangfang", CLERK_PASSWORD)
    sent, answered = [], []
    for p in (p1, p2):
        p.on("request", lambda r: sent.append(r.url) if r.url.endswith("/call-next") else None)
        p.on("response", lambda r: answered.append(r.status) if r.url.endswith("/call-next") else None)
        expect(p.locator("#conn")).to_have_attribute("data-state", "live")
    p1.keyboard.press("6")
    expect(p2.locator("#window-state")).to_have_text("服务中")

    p1.dblclick("#btn-call")
    p2.locator("#btn-call").click(force=True, no_wait_after=True)  # the colleague's browser at the same moment
    for _ in range(3):
        p1.keyboard.press("1")
    expect(p1.locator("#ticket-number")).to_have_text("B001")
    wait_until(lambda: len(answered) == len(sent), what="every call request answered")
    expect(p2.locator("#ticket-number")).to_have_text("B001")
    with hall.db.read() as s:
        calls = s.scalar(select(func.count()).select_from(TicketEvent).where(TicketEvent.action == "call"))
        called = s.scalar(select(func.count()).select_from(Ticket).where(Ticket.state == "called"))
    assert (calls, called) == (1, 1)
    assert all(status in (200, 409) for status in answered)
    p1.context.close()
    p2.context.close()


def test_console_survives_a_server_restart_without_reloading(hall, browser):
    hall.add_clerk("wangfang", "01", "王芳")
    kiosk = hall.token("kiosk", device="kiosk-1")
    clerk_token = hall.token("clerk", window="01", name="王芳")
    hall.issue(kiosk)
    p = login(browser, hall.url, "wangfang", CLERK_PASSWORD)
    expect(p.locator("#conn")).to_have_attribute("data-state", "live")
    p.evaluate("window.__notReloaded = true")

    hall.stop()
    assert hall.server.proc.returncode == 0  # stopped by itself although a console stream was open
    expect(p.locator("#conn")).to_have_attribute("data-state", "offline")
    expect(p.locator("#conn")).to_have_text("连接中断，正在重连…")
    press(p, "6")  # an action while the server is away is not lost silently: the clerk is told
    expect(p.locator("#toast")).to_contain_text("网络中断，操作没有送达")
    hall.start()
    # While the page reconnects, the window is opened and a number called from elsewhere (a caller key).
    headers = {"Authorization": f"Bearer {clerk_token}"}
    assert httpx.post(f"{hall.url}/api/v1/windows/01/open", headers=headers).status_code == 200
    assert httpx.post(f"{hall.url}/api/v1/windows/01/call-next", headers=headers).json()["ticket"]["number"] == "B001"
    expect(p.locator("#conn")).to_have_attribute("data-state", "live")
    expect(p.locator("#ticket-number")).to_have_text("B001")
    assert p.evaluate("window.__notReloaded") is True
    press(p, "5")
    expect(p.locator("#served-today")).to_have_text("1")
    p.context.close()


def test_admin_dashboard_is_live(hall, browser):
    kiosk = hall.token("kiosk", device="kiosk-1")
    clerk_token = hall.token("clerk", window="02", name="叫号器")
    hall.add_clerk("lina", "02", "李娜")
    clerk = login(browser, hall.url, "lina", CLERK_PASSWORD)  # signed in at window 02
    admin = login(browser, hall.url, "admin", "admin-pass-2026", path="/admin")
    expect(admin.locator("#conn")).to_have_attribute("data-state", "live")
    hall.issue(kiosk)
    expect(admin.locator("#queues tr[data-queue=B] td.waiting")).to_have_text("1")
    headers = {"Authorization": f"Bearer {clerk_token}"}
    httpx.post(f"{hall.url}/api/v1/windows/02/open", headers=headers)
    httpx.post(f"{hall.url}/api/v1/windows/02/call-next", headers=headers)
    expect(admin.locator("#windows tr[data-window='02'] td.ticket")).to_contain_text("B001")
    expect(admin.locator("#windows tr[data-window='02']")).to_contain_text("李娜")  # who is signed in there
    clerk.context.close()
    # A printer out of paper shows red, with an alert.
    r = httpx.post(f"{hall.url}/api/v1/devices/kiosk-1/status", headers={"Authorization": f"Bearer {kiosk}"},
                   json={"kind": "kiosk", "state": "online", "parts": {"printer": {"ok": False, "detail": "缺纸"}, "reader": {"ok": True}}})
    assert r.status_code == 200, r.text
    row = admin.locator("#devices tr[data-device=kiosk-1]")
    expect(row).to_have_class("alert")
    expect(row).to_contain_text("缺纸")
    expect(admin.locator("#alerts")).to_contain_text("kiosk-1")
    # The manager pauses window 02 from the dashboard.
    admin.locator("#windows tr[data-window='02'] button[data-action=pause]").click()
    expect(admin.locator("#windows tr[data-window='02'] td.wstate")).to_contain_text("暂停 · 临时离开")
    assert admin.js_errors == []
    admin.context.close()


def test_consoles_on_two_server_processes_see_each_other(hall, browser):
    """Two server processes on one database: a change on one reaches consoles on the other."""
    from tests.fixtures_hall import start_server

    hall.add_clerk("wangfang", "01", "王芳")
    kiosk = hall.token("kiosk", device="kiosk-1")
    hall.issue(kiosk)
    hall.issue(kiosk)
    second = start_server(hall.env, log_name="server2.log")
    try:
        p1 = login(browser, hall.url, "wangfang", CLERK_PASSWORD)
        p2 = login(browser, second.url, "wangfang", CLERK_PASSWORD)
        for p in (p1, p2):
            expect(p.locator("#conn")).to_have_attribute("data-state", "live")
        p1.keyboard.press("6")
        expect(p2.locator("#window-state")).to_have_text("服务中")
        press(p1, "1")
        expect(p2.locator("#ticket-number")).to_have_text("B001")
        press(p2, "3")  # skipped on the second server …
        expect(p1.locator("#ticket-number")).to_have_text("—")
        expect(p1.locator("#skipped")).to_contain_text("B001")
        p1.keyboard.press("8")  # … called back by key on the first
        expect(p2.locator("#ticket-number")).to_have_text("B001")
        expect(p2.locator("#ticket-reason")).to_contain_text("窗口指定叫号")
        p1.context.close()
        p2.context.close()
    finally:
        second.stop()
