"""The phone page in a real headless Chromium at phone size, with WeChat's user agent:
it shows the number, the people ahead and the wait, and switches to "请到 5号窗口" by
itself when the clerk calls the number (server-sent events, no reload)."""

from __future__ import annotations

import os

import httpx
import pytest

from tests.wechat.conftest import ROOT
from tests.fixtures_browser import browser  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.mosquitto]

WECHAT_UA = ("Mozilla/5.0 (Linux; Android 13; V2183A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MicroMessenger/8.0.47.2560(0x28002F30) "
             "WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64")
# The screenshots in docs/ are refreshed with YIZHAN_SCREENS=1, so ordinary runs leave the tree clean.
DOC_SCREENS = ROOT / "docs" / "screens"


@pytest.fixture
def phone(browser):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                              has_touch=True, user_agent=WECHAT_UA, locale="zh-CN")
    yield ctx.new_page()
    ctx.close()


def test_phone_page_updates_live_when_called(hall, phone, fake_wechat, tmp_path):
    screens = DOC_SCREENS if os.environ.get("YIZHAN_SCREENS") else tmp_path
    first = hall.issue()
    mine = hall.issue()
    url = f"{hall.url}/t/{mine['token']}"
    phone.goto(url)
    assert phone.locator("#number").inner_text() == mine["number"]
    assert phone.locator("#headline").inner_text() == "前面还有 1 人"
    assert phone.locator("#ahead").inner_text() == "1"
    assert "社保医保" in phone.locator(".service").inner_text()
    phone.wait_for_function("document.getElementById('live').classList.contains('on')")
    # the follow QR of the service account, bound to this ticket, is offered
    phone.wait_for_function("(() => { const i = document.querySelector('#follow img'); return i && i.complete && i.naturalWidth > 0; })()")
    assert [q["scene"] for q in fake_wechat.qrcodes] == [mine["token"]]
    phone.screenshot(path=str(screens / "phone.png"))
    phone.evaluate("window.__sameDocument = true")

    hall.clerk("05", "open")
    hall.clerk("05", "call-next")  # the first ticket: I am next
    phone.wait_for_function("document.getElementById('headline').textContent === '下一位就是您'")
    hall.clerk("05", "finish")
    hall.clerk("05", "call-next")  # my number
    phone.wait_for_function("document.getElementById('headline').textContent === '请到 5 号窗口'")
    assert phone.evaluate("window.__sameDocument") is True  # updated in place, not reloaded
    assert "called" in phone.locator("#status").get_attribute("class")
    assert phone.locator("#stats").is_hidden()
    assert first["number"] not in phone.locator("main").inner_text()
    phone.screenshot(path=str(screens / "phone-called.png"))

    # nothing personal on the page, and the token is only for its day
    html = httpx.get(url).text
    assert "masked" not in html and "clerk05" not in html


def test_unknown_token_gets_a_clear_page(hall, phone):
    phone.goto(f"{hall.url}/t/not-a-ticket-token")
    assert phone.locator("h2").inner_text() == "找不到这张号票"


def test_server_stops_while_a_page_is_open(hall):
    """An open event stream must not keep `yizhan server` from stopping."""
    import threading

    ticket = hall.issue()
    lines: list[str] = []
    opened = threading.Event()

    def listen() -> None:
        with httpx.stream("GET", f"{hall.url}/t/{ticket['token']}/events", timeout=60) as r:
            for line in r.iter_lines():
                lines.append(line)
                opened.set()

    reader = threading.Thread(target=listen, daemon=True)
    reader.start()
    assert opened.wait(30)
    hall.server.proc.terminate()
    hall.server.proc.wait(30)  # raises TimeoutExpired if the stream held the server up
    reader.join(30)
    assert not reader.is_alive()
    assert "event: end" not in lines  # the page will reconnect to the restarted server


def _state(hall, ticket: dict) -> str:
    r = hall.http.get(f"{hall.url}/api/v1/tickets/{ticket['id']}", headers={"Authorization": f"Bearer {hall.kiosk}"})
    return r.json()["state"]


def test_a_citizen_who_cannot_wait_gives_the_number_up_and_it_is_not_called(hall, phone, tmp_path):
    screens = DOC_SCREENS if os.environ.get("YIZHAN_SCREENS") else tmp_path
    mine = hall.issue()
    after = hall.issue()
    phone.goto(f"{hall.url}/t/{mine['token']}")
    assert phone.locator("#giveup-yes").is_hidden()  # folded away: nobody gives up by one slip
    phone.get_by_text("不想等了？放弃此号").click()
    assert mine["number"] in phone.locator("#giveup-text").inner_text()
    phone.screenshot(path=str(screens / "phone-give-up.png"))
    phone.get_by_text("继续等候").click()
    assert phone.locator("#giveup-yes").is_hidden()
    assert _state(hall, mine) == "waiting"

    phone.get_by_text("不想等了？放弃此号").click()
    phone.get_by_text("确定放弃此号").click()
    phone.wait_for_function("document.getElementById('headline').textContent === '此号已取消'")
    assert "重新取号" in phone.locator("#detail").inner_text()
    assert phone.locator("#giveup").is_hidden()
    assert _state(hall, mine) == "cancelled"
    phone.screenshot(path=str(screens / "phone-given-up.png"))

    hall.clerk("05", "open")
    called = hall.clerk("05", "call-next").json()
    assert called["ticket"]["number"] == after["number"]  # the number given up is passed over


def test_a_number_called_before_the_citizen_confirms_stays_called(hall, phone):
    mine = hall.issue()
    phone.goto(f"{hall.url}/t/{mine['token']}")
    phone.get_by_text("不想等了？放弃此号").click()
    hall.clerk("05", "open")
    hall.clerk("05", "call-next")
    phone.wait_for_function("document.getElementById('headline').textContent === '请到 5 号窗口'")
    assert phone.locator("#giveup").is_hidden()  # the live update folds the question away
    # a page that missed the update still posts; the call is not undone behind the clerk's back
    r = httpx.post(f"{hall.url}/t/{mine['token']}/cancel", follow_redirects=True)
    assert r.status_code == 200 and "请到 5 号窗口" in r.text
    assert _state(hall, mine) == "called"
