"""The case flow with a real `yizhan server`: a clerk registers and moves cases in the console
(headless Chromium), the manager sees the open cases with 电子监察 colours, and the kiosk's own
core finds the case by ID card (simulated SAM reader) and by the number on the receipt."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from kiosk.core.api import ApiClient
from kiosk.core.catalogue import Catalogue
from kiosk.core.kiosk import Devices, KioskCore
from kiosk.core.runtime import QueuePost
from tests.cases.conftest import case_hall, identity
from tests.consoles.conftest import ADMIN_PASSWORD, CLERK_PASSWORD, Hall, login
from tests.fixtures_browser import browser, screens  # noqa: F401  (fixtures)
from yizhan.clock import ManualClock
from yizhan.config.model import HallConfig

pytestmark = pytest.mark.browser
KEY = "kiosk-and-server-hash-key"


@pytest.fixture
def hall(tmp_path: Path):
    h = Hall(tmp_path, cfg=case_hall())
    h.env["YIZHAN_ID_HASH_KEY"] = KEY
    h.start()
    yield h
    h.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def take(hall: Hall, kiosk: str, service: str, ident: dict | None) -> dict:
    body = {"service": service, "idempotency_key": uuid.uuid4().hex} | ({"identity": ident} if ident else {})
    r = httpx.post(hall.url + "/api/v1/tickets", json=body, headers=bearer(kiosk), timeout=30)
    assert r.status_code == 201, r.text
    return r.json()


def serve_and_register(hall: Hall, clerk: str, service: str) -> dict:
    """Window 01 calls the next number, registers its application and finishes the ticket."""
    h = bearer(clerk)
    assert httpx.post(hall.url + "/api/v1/windows/01/open", headers=h, timeout=30).status_code == 200
    assert httpx.post(hall.url + "/api/v1/windows/01/call-next", headers=h, timeout=30).status_code == 200
    r = httpx.post(hall.url + "/api/v1/windows/01/cases", json={"service": service}, headers=h, timeout=30)
    assert r.status_code == 201, r.text
    assert httpx.post(hall.url + "/api/v1/windows/01/finish", headers=h, timeout=30).status_code == 200
    return r.json()


def test_clerk_registers_and_moves_cases_in_the_console(hall: Hall, browser, screens):
    hall.add_clerk("wangfang", "01", "王芳")
    kiosk = hall.token("kiosk", device="kiosk-1")
    take(hall, kiosk, "BDC01", identity())
    page = login(browser, hall.url, "wangfang", CLERK_PASSWORD)
    page.wait_for_selector("#conn[data-state=live]")
    assert page.is_disabled("#btn-case")  # nobody at the desk yet
    page.keyboard.press("6")  # 开始服务
    page.wait_for_selector("body[data-window-state=open]")
    page.keyboard.press("1")  # 叫号
    expect(page.locator("#ticket-number")).to_have_text("A001")
    expect(page.locator("#btn-case")).to_be_enabled()
    page.keyboard.press("9")  # 受理登记
    page.wait_for_selector("#case-dialog[open]")
    assert page.input_value("#case-service") == "BDC01"  # the ticket's service, preselected
    assert "A001" in page.text_content("#case-text")
    page.keyboard.press("Enter")
    page.wait_for_selector("#case-result:not([hidden])")
    result = page.text_content("#case-result")
    assert "202611230001" in result and "2026-11-30" in result
    expect(page.locator("#case-cancel-label")).to_have_text("关闭")
    page.screenshot(path=str(screens / "console-case.png"))
    # 受理回执: the printable receipt with the number, the promise and the phone page's QR code.
    with page.context.expect_page() as opened:
        page.click("#case-result a.receipt-link")
    receipt = opened.value
    receipt.wait_for_load_state()
    text = receipt.text_content("#receipt")
    assert "受理回执" in text and "202611230001" in text and "2026-11-30" in text and "5个工作日内办结" in text
    assert "张*" in text and "不动产转移登记" in text and "/t/" in text
    assert receipt.eval_on_selector(".receipt-follow img", "i => i.naturalWidth") > 0
    receipt.screenshot(path=str(screens / "case-receipt.png"), full_page=True)
    receipt.close()
    page.keyboard.press("Escape")
    # The side panel lists the case; the console's own keys work again once the dialog is closed.
    item = "#wcases li[data-case='202611230001']"
    page.wait_for_selector(item)
    assert "张*" in page.text_content(item) and "已受理" in page.text_content(item)
    page.click(f"{item} button[data-do=processing]")
    expect(page.locator(f"{item} .st")).to_have_text("办理中")
    # A second matter of the same visit, then 退回 with a reason.
    page.keyboard.press("9")
    page.wait_for_selector("#case-dialog[open]")
    page.select_option("#case-service", "GA01")  # 即收即办: done on the spot
    page.click("#case-ok")
    page.wait_for_selector("#case-result:not([hidden])")
    assert "当场办结" in page.text_content("#case-result") and "202611230002" in page.text_content("#case-result")
    page.click("#case-cancel")
    page.click(f"{item} button[data-do=returned]")
    page.wait_for_selector("#return-dialog[open]")
    page.click("#return-dialog button[type=submit]")  # no reason: the browser refuses (required)
    assert page.is_visible("#return-dialog")
    page.fill("#return-reason", "缺少不动产权证书原件")
    page.keyboard.press("Enter")
    expect(page.locator(f"{item} .st")).to_have_text("已退回")
    assert not page.is_visible("#return-dialog")
    assert page.text_content("#ticket-number") == "A001"  # typing in the dialogs did not act on the ticket
    assert page.js_errors == []  # type: ignore[attr-defined]
    # Every change is recorded: who and what, in the case's history.
    admin = hall.token("admin")
    hist = httpx.get(hall.url + "/api/v1/cases/202611230001/history", headers=bearer(admin), timeout=30).json()
    assert [(h["actor"], h["to"]) for h in hist] == [("王芳", "accepted"), ("王芳", "processing"), ("王芳", "returned")]
    assert hist[-1]["reason"] == "缺少不动产权证书原件"


def test_manager_sees_overdue_cases_and_the_kiosk_finds_them(hall: Hall, browser, screens):
    from kiosk.devices.idcard.sam_reader import SimulatedCardReader

    reader = SimulatedCardReader()
    reader.place_sample("resident")
    person = reader.read(10)
    cfg = HallConfig.model_validate(case_hall())
    post = QueuePost()
    kiosk = hall.token("kiosk", device="kiosk-1")
    core = KioskCore(catalogue=Catalogue(cfg), api=ApiClient(hall.url, kiosk, timeout=10), devices=Devices(reader=reader),
                     clock=ManualClock(datetime.fromisoformat("2026-11-23T09:30:00+08:00")), post=post, kiosk_id="kiosk-1",
                     id_hash_key=KEY.encode(), background=False)
    ident = core.identity_payload(person)  # exactly what this kiosk sends when the citizen takes a number
    reader.lift()
    clerk = hall.token("clerk", window="01", name="王芳")
    # Cases accepted on earlier days: the server runs again on each of those mornings.
    hall.stop()
    numbers = {}
    for when, services in (("2026-11-16T09:30:00+08:00", ["RS02"]), ("2026-11-17T09:30:00+08:00", ["RS02", "BDC01"])):
        hall.env["YIZHAN_NOW"] = when
        hall.start()
        for code in services:
            take(hall, kiosk, code, ident)
            numbers[(when[:10], code)] = serve_and_register(hall, clerk, code)
        hall.stop()
    hall.env["YIZHAN_NOW"] = "2026-11-23T09:30:00+08:00"
    hall.start()
    take(hall, kiosk, "BDC01", None)  # taken without an ID card
    fresh = serve_and_register(hall, clerk, "BDC01")
    red, yellow, soon = numbers[("2026-11-16", "RS02")], numbers[("2026-11-17", "RS02")], numbers[("2026-11-17", "BDC01")]
    assert (red["deadline"], yellow["deadline"], soon["deadline"], fresh["deadline"]) == ("2026-11-19", "2026-11-20", "2026-11-24", "2026-11-30")

    page = login(browser, hall.url, "admin", ADMIN_PASSWORD, path="/admin/cases")
    rows = page.eval_on_selector_all("#cases tbody tr[data-case]", "rs => rs.map(r => [r.dataset.case, r.dataset.alert])")
    assert rows == [[red["case_number"], "red"], [yellow["case_number"], "yellow"], [soon["case_number"], "due_soon"], [fresh["case_number"], "none"]]
    assert page.text_content("#c-red").strip() == "1" and page.text_content("#c-yellow").strip() == "1" and page.text_content("#c-due").strip() == "1"
    assert "红牌 · 超期2个工作日" in page.text_content(f"tr[data-case='{red['case_number']}']")
    bg = page.eval_on_selector(f"tr[data-case='{soon['case_number']}'] td", "td => getComputedStyle(td).backgroundColor")
    assert bg == "rgb(255, 244, 220)"  # amber
    page.screenshot(path=str(screens / "admin-cases.png"), full_page=True)
    # The manager closes the red one (办结) from the list; filter by department.
    page.click(f"tr[data-case='{red['case_number']}'] button[data-do=done]")
    page.wait_for_selector("#notice")
    assert "已办结" in page.text_content("#notice")
    assert page.query_selector(f"tr[data-case='{red['case_number']}']") is None
    page.select_option("select[name=department]", "bdc")
    page.click("#case-filter button[type=submit]")
    page.wait_for_url("**department=bdc**")
    shown = page.eval_on_selector_all("#cases tbody tr[data-case]", "rs => rs.map(r => r.dataset.case)")
    assert shown == [soon["case_number"], fresh["case_number"]]
    assert page.js_errors == []  # type: ignore[attr-defined]

    # The citizen at the kiosk: 进度查询 → 刷身份证.
    core.start_progress()
    core.progress_by_card()
    reader.place_sample("resident")  # the citizen puts the card on the reader
    settle(post, lambda: core.progress_view is not None and core.progress_view.phase == "results")
    got = {r.case_number: r for r in core.progress_view.rows}
    assert set(got) == {red["case_number"], yellow["case_number"], soon["case_number"]}  # not the anonymous one
    assert got[red["case_number"]].status == "done"
    assert got[yellow["case_number"]].overdue and got[yellow["case_number"]].status == "overdue"
    assert got[soon["case_number"]].status == "accepted" and got[soon["case_number"]].service_name == "不动产转移登记"
    assert all(r.masked_name == person.masked_name for r in got.values())
    # … and by the number on the receipt, keyed in on the numeric keypad.
    core.start_progress()
    core.progress_by_number()
    for k in fresh["case_number"]:
        core.key_press(k)
    core.search_number()
    settle(post, lambda: core.progress_view.phase == "results")
    assert [(r.case_number, r.status, r.masked_name) for r in core.progress_view.rows] == [(fresh["case_number"], "accepted", "")]
    reader.close()


def settle(post: QueuePost, cond, timeout: float = 30.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        post.drain(timeout=0.2)
