"""Live configuration edits from /admin: validated like check-config, applied without a restart
(also by a second server process on the same database), written back to hall.yaml with its
comments, and audited."""

from __future__ import annotations

import time

import httpx
import pytest
from playwright.sync_api import expect

from tests.consoles.conftest import ADMIN_PASSWORD, Hall, login
from tests.fixtures_hall import start_server

pytestmark = pytest.mark.browser


def wait_until(condition, timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_editing_hours_closes_the_kiosk_queue_on_every_server(hall: Hall, browser):
    kiosk = hall.token("kiosk", device="kiosk-1")
    assert hall.issue(kiosk).status_code == 201  # 09:30: queue B is open
    second = start_server(hall.env, log_name="server2.log")  # another process on the same database and config
    try:
        page = login(browser, hall.url, "admin", ADMIN_PASSWORD, path="/admin/config")
        form = page.locator("form[data-queue=B]")
        form.locator("input[name=morning]").fill("08:00-09:00")
        form.locator("input[name=lunch]").fill("")
        form.locator("button[type=submit]").click()
        expect(page.locator("#notice")).to_have_text("队列 B 已保存并生效。")
        expect(page.locator("#q-B h3")).to_contain_text("08:00-09:00、14:00-17:30")

        r = hall.issue(kiosk)
        assert r.status_code == 409 and r.json()["code"] == "queue_closed", r.text
        assert "08:00-09:00" in r.json()["message"]

        def refused_on_second() -> bool:
            r2 = httpx.post(second.url + "/api/v1/tickets", json={"service": "RS01", "idempotency_key": f"second-{time.monotonic_ns()}"},
                            headers={"Authorization": f"Bearer {kiosk}"})
            return r2.status_code == 409

        wait_until(refused_on_second, what="the second server to apply the new hours")
    finally:
        second.stop()
    text = (hall.config_dir / "hall.yaml").read_text(encoding="utf-8")
    assert text.startswith("# 测试大厅：这行注释在线修改后必须保留\n")
    assert "morning: 08:00-09:00" in text and "12:00-14:00" not in text
    page.goto(hall.url + "/admin/audit")
    expect(page.locator("table.grid tbody tr").first).to_contain_text("修改队列")
    expect(page.locator("table.grid tbody tr").first).to_contain_text("08:00-09:00")
    assert page.js_errors == []
    page.context.close()


def test_an_invalid_edit_is_refused_with_check_config_messages(hall: Hall, browser):
    before = (hall.config_dir / "hall.yaml").read_text(encoding="utf-8")
    page = login(browser, hall.url, "admin", ADMIN_PASSWORD, path="/admin/config")
    form = page.locator("form[data-queue=A]")
    form.locator("input[name=morning]").fill("25:00-26:00")
    form.locator("input[name=daily_cap]").fill("很多")
    form.locator("button[type=submit]").click()
    problems = page.locator("#problems")
    expect(problems).to_contain_text("没有保存")
    expect(problems).to_contain_text("queues[0].hours.morning")
    expect(problems).to_contain_text("时间不存在")
    expect(problems).to_contain_text("queues[0].daily_cap: 应为整数")
    assert (hall.config_dir / "hall.yaml").read_text(encoding="utf-8") == before
    kiosk = hall.token("kiosk", device="kiosk-1")
    assert hall.issue(kiosk).status_code == 201  # the running hall is untouched
    page.context.close()


def test_window_weights_and_service_materials_apply_live(hall: Hall, browser):
    admin_token = hall.token("admin")
    headers = {"Authorization": f"Bearer {admin_token}"}
    page = login(browser, hall.url, "admin", ADMIN_PASSWORD, path="/admin/config")
    page.locator("tr#w-01 input[name=queues]").fill("A:3, B:2")
    page.locator("tr#w-01 button[type=submit]").click()
    expect(page.locator("#notice")).to_have_text("窗口 01 已保存并生效。")
    w01 = next(w for w in httpx.get(hall.url + "/api/v1/windows", headers=headers).json() if w["id"] == "01")
    assert w01["weights"] == {"A": 3, "B": 2}

    page.goto(hall.url + "/admin/services/RS01")
    page.locator("textarea[name=materials]").fill("身份证\n社保卡申领表（现场填写）\n")
    page.locator("#service-form button[type=submit]").click()
    expect(page.locator("#notice")).to_have_text("事项 RS01 已保存并生效。")
    rs01 = next(s for s in httpx.get(hall.url + "/api/v1/services", headers=headers).json() if s["code"] == "RS01")
    assert rs01["materials"] == ["身份证", "社保卡申领表（现场填写）"]
    page.context.close()


def test_a_closure_entered_in_the_working_calendar_closes_the_hall_today(hall: Hall, browser):
    """闭厅: the manager closes today (a Monday); the kiosk is refused with 今天大厅不办公 at once,
    a date that does not exist is refused, and the edit is written back and audited."""
    kiosk = hall.token("kiosk", device="kiosk-1")
    assert hall.issue(kiosk).status_code == 201
    page = login(browser, hall.url, "admin", ADMIN_PASSWORD, path="/admin/config")
    days_off = page.locator(".days-off")
    expect(days_off).to_contain_text("11月28日（周六） · 周末")
    expect(days_off).not_to_contain_text("11月23日")

    form = page.locator("form.calendar-form")
    form.locator("textarea[name=holidays]").fill("2026-11-31\n2026-11-23")
    form.locator("button[type=submit]").click()
    expect(page.locator("#problems")).to_contain_text("“2026-11-31”不是日期")
    assert hall.issue(kiosk).status_code == 201  # nothing changed

    form = page.locator("form.calendar-form")
    form.locator("textarea[name=holidays]").fill("2026-11-23")
    form.locator("button[type=submit]").click()
    expect(page.locator("#notice")).to_have_text("工作日历已保存并生效。")
    expect(page.locator(".day-off.why-closed")).to_have_text("11月23日（周一） · 闭厅")
    r = hall.issue(kiosk)
    assert r.status_code == 409 and r.json()["code"] == "hall_closed_day", r.text
    assert "今天（11月23日）本大厅不办公" in r.json()["message"]
    assert "holidays: [2026-11-23]" in (hall.config_dir / "hall.yaml").read_text(encoding="utf-8")
    page.goto(hall.url + "/admin/audit")
    expect(page.locator("table.grid tbody tr").first).to_contain_text("修改工作日历")
    expect(page.locator("table.grid tbody tr").first).to_contain_text("2026-11-23")
    assert page.js_errors == []
    page.context.close()
