"""The real kiosk screens (offscreen Kivy, simulated SAM card reader) show a case a clerk
registered a moment ago through the server's API: 进度查询 → 刷身份证, then by its number."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.kiosk.conftest import kiosk_env, server, ui  # noqa: F401  (fixtures; prepares offscreen Kivy)
from tests.fixtures_browser import screens  # noqa: F401  (fixture)

pytestmark = pytest.mark.kivy


def on(h, name: str) -> None:
    h.until(lambda: h.app.sm.current == name, what=f"screen {name}")
    h.pump(2)


def test_kiosk_finds_the_registered_case_by_card_and_by_number(ui, server, screens):  # noqa: F811
    h = ui
    reader = h.devices.reader
    reader.place_sample("resident")
    person = reader.read(10)
    reader.lift()
    ident = h.core.identity_payload(person)  # what this kiosk sends for this card
    kiosk = {"Authorization": f"Bearer {server.token('kiosk', 'kiosk-2')}"}
    clerk = {"Authorization": f"Bearer {server.token('clerk', None, window='03')}"}
    r = httpx.post(server.url + "/api/v1/tickets", json={"service": "HJ001", "idempotency_key": uuid.uuid4().hex, "identity": ident},
                   headers=kiosk, timeout=30)
    assert r.status_code == 201, r.text
    assert httpx.post(server.url + "/api/v1/windows/03/open", headers=clerk, timeout=30).status_code == 200
    assert httpx.post(server.url + "/api/v1/windows/03/call-next", headers=clerk, timeout=30).status_code == 200
    case = httpx.post(server.url + "/api/v1/windows/03/cases", json={}, headers=clerk, timeout=30).json()
    number = case["case_number"]
    assert httpx.post(server.url + f"/api/v1/cases/{number}/status", json={"status": "processing"}, headers=clerk, timeout=30).status_code == 200

    h.tap("progress")
    on(h, "progress")
    h.tap("by_card")
    on(h, "card")
    reader.place_sample("resident")
    h.until(lambda: h.core.progress_view is not None and h.core.progress_view.phase == "results", timeout=30, what="case results")
    h.pump(3)
    text = h.texts()
    assert f"办件编号：{number}" in text and "办理中" in text and case["service_name"] in text
    assert f"承诺办结：{case['deadline']}" in text and person.masked_name in text
    assert person.name not in text  # masked only
    h.screenshot(screens / "kiosk-case-results.png")
    reader.lift()
    h.core.go_home()
    on(h, "home")
    h.tap("progress")
    on(h, "progress")
    h.tap("by_number")
    h.pump(2)
    for k in number:
        h.tap("key:" + k)
    h.tap("search")
    h.until(lambda: h.core.progress_view.phase == "results", timeout=30, what="results by number")
    h.pump(3)
    assert f"办件编号：{number}" in h.texts() and "查到 1 件办件" in h.texts()
