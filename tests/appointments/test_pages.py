"""The citizen's booking pages in a real headless Chromium at a 360-px phone width, against a
real `yizhan server`: pick a service, a day and a free slot, type the ID number (checked in
the page before sending) and the name, confirm, see the booking, cancel it, book again, and
check in at the kiosk with the same ID card. And the manager's list of the day's bookings."""

from __future__ import annotations

import httpx
import pytest

from tests.appointments.conftest import ADMIN_PASSWORD, KEY, id_number
from tests.fixtures_browser import browser, screens  # noqa: F401  (fixtures)
from yizhan.privacy import id_hash, mask_id

pytestmark = [pytest.mark.browser]


@pytest.fixture
def server(hall_server):
    # 09:00 on Monday and running: with the 30-minute lead, 10:00 is today's first bookable slot
    return hall_server("2026-11-23T09:00:00+08:00")


def phone_page(browser):  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.js_errors = errors  # type: ignore[attr-defined]
    return page


def fits_phone(page) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_citizen_books_cancels_books_again_and_checks_in(server, browser, screens):
    number = id_number(88)
    page = phone_page(browser)
    page.goto(server.url + "/book")
    assert page.locator("h2").first.inner_text() == "选择要办理的事项"
    assert page.locator(".services a").all_inner_texts()[0].startswith("身份证换领")
    assert fits_phone(page)
    page.screenshot(path=str(screens / "booking-services.png"), full_page=True)

    page.click("a[data-code=GA01]")
    page.wait_for_url("**/book/GA01")
    assert page.locator("#days a.on").inner_text() == "11月23日 今天"
    slots = page.locator("#slots label:not(.full)").all_inner_texts()
    assert slots[0].split("\n") == ["10:00-10:30", "余 2 个"]  # 09:00 and a few seconds: the 30-minute lead hides 09:30
    page.click("#days a[data-day='2026-11-24']")
    page.wait_for_url("**day=2026-11-24")
    page.click("label:has-text('09:00-09:30')")
    # a mistyped ID number is caught in the page, before anything is sent
    page.fill("#id_number", number[:-1] + ("1" if number[-1] != "1" else "2"))
    page.fill("#name", "王建国")
    page.click("#submit")
    assert page.locator("#id-bad").is_visible()
    assert page.url.endswith("day=2026-11-24")
    page.fill("#id_number", number)
    assert fits_phone(page)
    page.screenshot(path=str(screens / "booking-form.png"), full_page=True)
    page.click("#submit")
    page.wait_for_url("**/b/*")
    assert page.locator("#headline").inner_text() == "预约成功"
    assert page.locator("#service").inner_text() == "身份证换领"
    assert page.locator("#date").inner_text() == "11月24日 明天"
    assert page.locator("#slot").inner_text() == "09:00-09:30"
    assert page.locator("#person").inner_text() == "王**"
    assert page.locator("#masked-id").inner_text() == mask_id(number)
    assert "请带身份证到自助机签到" in page.locator("#instructions").inner_text()
    html = page.content()
    assert number not in html and "王建国" not in html
    assert fits_phone(page)
    page.screenshot(path=str(screens / "booking-done.png"), full_page=True)
    booking_url = page.url

    # cancel (confirmed in the browser's dialog): the place is free again
    page.once("dialog", lambda d: d.accept())
    page.click("#cancel")
    page.wait_for_function("document.getElementById('headline').textContent === '预约已取消'")
    slots = httpx.get(server.url + "/api/v1/appointments/slots", params={"service": "GA01", "day": "2026-11-24"},
                      headers={"Authorization": f"Bearer {server.kiosk}"}).json()
    assert slots[1] == {"start": "09:00", "end": "09:30", "capacity": 2, "free": 2, "bookable": True}

    # book again for today, 10:00, from the cancelled booking's page
    page.click("#again")
    page.wait_for_url("**/book/GA01")
    page.click("label:has-text('10:00-10:30')")
    page.fill("#id_number", number.lower())
    page.fill("#name", "王建国")
    page.click("#submit")
    page.wait_for_url("**/b/*")
    assert page.url != booking_url and page.locator("#slot").inner_text() == "10:00-10:30"

    # at the kiosk: the ID card's number, hashed with the hall's key, finds the booking
    identity = {"id_hash": id_hash(number, KEY), "masked_id": mask_id(number), "masked_name": "王**", "age": 46}
    r = httpx.post(server.url + "/api/v1/appointments/check-in", json={"identity": identity, "idempotency_key": "kiosk-checkin-1"},
                   headers={"Authorization": f"Bearer {server.kiosk}"}, timeout=30)
    assert r.status_code == 201, r.text
    page.reload()
    assert page.locator("#headline").inner_text() == "已签到"
    assert page.locator("#cancel").count() == 0
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_refused_booking_keeps_the_name_and_the_slot_but_not_the_number(server, browser):
    page = phone_page(browser)
    page.goto(server.url + "/book/RS01?day=2026-11-24")
    # slots grouped like the queue's hours (queue B serves at lunch too)
    assert page.locator("h3.span").all_inner_texts() == ["上午", "中午（午休延时服务）", "下午"]
    # no slot chosen: the page says so and sends nothing
    page.fill("#id_number", id_number(3))
    page.fill("#name", "赵敏")
    page.click("#submit")
    assert page.locator("#slot-bad").is_visible() and page.url.endswith("/book/RS01?day=2026-11-24")
    page.click("label:has-text('08:30-09:30')")
    page.fill("#id_number", id_number(3))
    page.fill("#name", "赵敏")
    page.click("#submit")
    page.wait_for_url("**/b/*")
    # a second person wants the same one-place slot, which is now full
    page.goto(server.url + "/book/RS01?day=2026-11-24")
    assert page.locator("label.full").first.inner_text().split("\n") == ["08:30-09:30", "已约满"]
    page.click("label:has-text('09:30-10:30')")
    page.fill("#id_number", id_number(3))  # the same person: one booking per service and day
    page.fill("#name", "赵敏")
    page.click("#submit")
    page.wait_for_selector("#error")
    assert page.locator("#error").inner_text() == "您当天已预约本事项（08:30），同一事项每天只能预约一次；如需改时间，请先取消原预约。"
    assert page.input_value("#name") == "赵敏" and page.input_value("#id_number") == ""
    assert page.locator("#s0930").is_checked()
    assert id_number(3) not in page.content()


def test_manager_sees_who_is_coming(server, browser, screens):
    for i, (name, start) in enumerate([("张三丰", "10:00"), ("李四", "10:00")]):  # on their phones
        r = httpx.post(server.url + "/book/GA01", timeout=30, data={"day": "2026-11-23", "start": start, "id_number": id_number(20 + i), "name": name})
        assert r.status_code == 303, r.text
    # a clerk books for a caller on the telephone (代约), who later cancels on the booking's page
    r = httpx.post(server.url + "/api/v1/appointments", timeout=30, headers={"Authorization": f"Bearer {server.clerk}"},
                   json={"service": "GA01", "day": "2026-11-23", "start": "14:30", "id_number": id_number(22), "name": "欧阳娜娜"})
    assert r.status_code == 201, r.text
    cancelled = r.json()
    assert httpx.post(f"{server.url}/b/{cancelled['token']}/cancel", timeout=30).status_code == 303  # the citizen cancels
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    page.goto(server.url + "/admin/appointments")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/appointments")
    rows = [r.split("\t")[:6] for r in page.locator("#appointments tbody tr").all_inner_texts()]
    assert rows == [
        ["10:00-10:30", "身份证换领", "张**", mask_id(id_number(20)), "待签到", "手机预约"],
        ["10:00-10:30", "身份证换领", "李*", mask_id(id_number(21)), "待签到", "手机预约"],
        ["14:30-15:00", "身份证换领", "欧***", mask_id(id_number(22)), "已取消", "工作人员代约"],
    ]
    assert page.locator("button.cancel-appt").count() == 2  # not for the cancelled one
    assert "待签到 2，已签到 0，未到 0，已取消 1" in page.locator("#appt-counts").inner_text()
    assert page.locator("nav.admin-nav a.active").inner_text() == "预约"
    page.wait_for_function("document.getElementById('booking-qr').complete && document.getElementById('booking-qr').naturalWidth > 0")
    page.screenshot(path=str(screens / "admin-appointments.png"), full_page=True)

    # 李* telephones to cancel: the manager cancels, the place is free again, the audit log has it
    page.locator("#appointments tbody tr").nth(1).locator("button.cancel-appt").click()
    page.wait_for_selector("#notice")
    assert page.locator("#notice").inner_text() == "已取消 10:00 李* 的预约，名额已释放。"
    assert page.locator("#appointments tbody tr").nth(1).inner_text().split("\t")[4] == "已取消"
    assert page.locator("#appt-counts").inner_text().endswith("待签到 1，已签到 0，未到 0，已取消 2")
    page.goto(server.url + "/admin/audit")
    assert "取消预约" in page.locator("table.grid").inner_text()
    ctx.close()
