"""The booking API and the citizen's form post through the real app: who may call what, and bad
input (a clear Chinese 4xx, nothing booked). The full ID number appears nowhere after the request."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from queue_server.db.tables import Appointment
from tests.appointments.conftest import auth, id_number

API = "/api/v1/appointments"
TOMORROW = "2026-11-24"


def body(seq: int = 1, **over: str) -> dict:
    return {"service": "GA01", "day": TOMORROW, "start": "09:00", "id_number": id_number(seq), "name": "张三丰"} | over


def count(db) -> int:  # type: ignore[no-untyped-def]
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(Appointment)) or 0


def free(client, start: str = "09:00", service: str = "GA01", day: str = TOMORROW) -> int:  # type: ignore[no-untyped-def]
    return next(p["free"] for p in client.get(f"{API}/slots", params={"service": service, "day": day}).json() if p["start"] == start)


@pytest.fixture
def api(app, tokens):
    """A client with a kiosk's token (a kiosk may book for someone at the hall)."""
    from fastapi.testclient import TestClient

    return TestClient(app, raise_server_exceptions=False, headers=auth(tokens["kiosk"]))


def form(client, seq: int = 1, code: str = "GA01", **over: str):  # type: ignore[no-untyped-def]
    """The citizen's booking form on the phone page (no token)."""
    data = {"day": TOMORROW, "start": "09:00", "id_number": id_number(seq), "name": "张三丰"} | over
    return client.post(f"/book/{code}", data=data, follow_redirects=False)


def test_kiosk_books_and_sees_the_free_places_go_down(api, db):
    services = api.get(f"{API}/services").json()
    assert [s["code"] for s in services] == ["GA01", "RS01"]
    assert services[0]["days"] == ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26"]
    assert free(api) == 2
    r = api.post(API, json=body())
    assert r.status_code == 201, r.text
    appt = r.json()
    assert appt | {"id": 0, "token": "", "url": ""} == {
        "id": 0, "service": "GA01", "service_name": "身份证换领", "day": TOMORROW, "start": "09:00", "end": "09:30",
        "status": "booked", "masked_name": "张**", "masked_id": "6201**********" + id_number(1)[-4:], "source": "kiosk",
        "ticket_id": None, "token": "", "url": "",
    }
    assert appt["url"] == f"http://testserver/b/{appt['token']}" and len(appt["token"]) >= 20
    assert free(api) == 1


def test_citizen_books_on_the_phone_page_without_a_token(client, api):
    r = form(client)
    assert r.status_code == 303 and r.headers["location"].startswith("/b/")
    page = client.get(r.headers["location"])
    assert page.status_code == 200 and "预约成功" in page.text and "09:00-09:30" in page.text
    assert free(api) == 1


@pytest.mark.parametrize(("method", "path"), [("GET", f"{API}/services"), ("GET", f"{API}/slots?service=GA01&day={TOMORROW}"),
                                              ("POST", API), ("GET", API), ("POST", f"{API}/1/cancel")])
def test_every_api_route_needs_a_token(client, method, path):
    r = client.request(method, path, json=body())
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    r = client.request(method, path, json=body(), headers=auth("not-a-token"))
    assert r.status_code == 401


@pytest.mark.parametrize("role", ["display", "device", "wechat"])
def test_devices_may_not_book_or_look(client, tokens, db, role):
    r = client.post(API, json=body(), headers=auth(tokens[role]))
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert client.get(f"{API}/services", headers=auth(tokens[role])).status_code == 403
    assert count(db) == 0


@pytest.mark.parametrize(("role", "source"), [("admin", "staff"), ("clerk01", "staff"), ("kiosk", "kiosk")])
def test_staff_and_kiosks_book_for_a_citizen(client, tokens, role, source):
    r = client.post(API, json=body(), headers=auth(tokens[role]))
    assert r.status_code == 201 and r.json()["source"] == source


def test_day_list_is_for_staff_only(api, client, tokens):
    api.post(API, json=body())
    assert client.get(API, params={"day": TOMORROW}).status_code == 401
    for role in ("kiosk", "display", "device", "wechat"):
        r = client.get(API, params={"day": TOMORROW}, headers=auth(tokens[role]))
        assert r.status_code == 403, role
    for role in ("admin", "clerk01"):
        rows = client.get(API, params={"day": TOMORROW}, headers=auth(tokens[role])).json()
        assert [(a["start"], a["service_name"], a["masked_name"], a["status"]) for a in rows] == [("09:00", "身份证换领", "张**", "booked")]
        assert "token" not in rows[0]  # the citizen's key to the booking stays with the citizen
    assert client.get(API, headers=auth(tokens["admin"])).json() == []  # today by default


def test_cancel_by_staff_frees_the_place(api, client, tokens, db):
    appt = api.post(API, json=body()).json()
    assert free(api) == 1
    assert client.post(f"{API}/{appt['id']}/cancel").status_code == 401
    for role in ("kiosk", "display", "device", "wechat"):
        assert client.post(f"{API}/{appt['id']}/cancel", headers=auth(tokens[role])).status_code == 403
    assert free(api) == 1
    r = client.post(f"{API}/{appt['id']}/cancel", headers=auth(tokens["clerk01"]))
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert free(api) == 2
    again = client.post(f"{API}/{appt['id']}/cancel", headers=auth(tokens["admin"]))
    assert again.status_code == 409 and again.json()["message"] == "这个预约已经取消。"
    assert client.post(f"{API}/999/cancel", headers=auth(tokens["admin"])).json()["code"] == "appointment_not_found"
    # the same person may book that day again after cancelling
    assert api.post(API, json=body(start="10:00")).status_code == 201


def test_cancel_only_until_the_slot_starts(api, client, tokens, clock):
    appt = api.post(API, json=body(day="2026-11-23", start="10:00")).json()
    clock.advance(minutes=30)  # 10:00: the slot starts
    r = client.post(f"{API}/{appt['id']}/cancel", headers=auth(tokens["admin"]))
    assert r.status_code == 409 and r.json()["message"] == "预约时段 10:00 已开始，不能再取消。"


@pytest.mark.parametrize(("change", "status", "code", "message"), [
    ({"id_number": "620102198001010012"}, 422, "appointment_bad_id", "身份证号码不正确，请核对 18 位号码（最后一位可能是 X）。"),
    ({"id_number": "62010219800101"}, 422, "appointment_bad_id", None),
    ({"id_number": "620102198002300017"}, 422, "appointment_bad_id", None),  # 30 February
    ({"name": "1"}, 422, "appointment_bad_name", "请填写与身份证一致的姓名。"),
    ({"name": "<script>"}, 422, "appointment_bad_name", None),
    ({"day": "24.11.2026"}, 422, "appointment_bad_day", None),
    ({"start": "9h"}, 422, "appointment_bad_slot", None),
    ({"start": "09:15"}, 422, "appointment_no_such_slot", "没有 09:15 开始的预约时段，请从列表中选择。"),
    ({"service": "NOPE"}, 404, "appointment_not_bookable", "事项 NOPE 不接受预约，请直接到大厅取号办理。"),
    ({"day": "2026-11-28"}, 422, "appointment_day_closed", "11月28日 大厅不办公（周末、节假日或闭厅），请选择其他日期。"),
    ({"day": "2026-11-20"}, 422, "appointment_day_past", None),
    ({"day": "2026-12-04"}, 422, "appointment_day_too_far", "只能预约到 11月26日，请选择更近的日期。"),
    ({"day": "2026-11-23", "start": "09:00"}, 422, "appointment_slot_passed", None),
])
def test_bad_input_is_refused_in_chinese_and_books_nothing(api, client, db, change, status, code, message):
    r = api.post(API, json=body(**change))
    assert r.status_code == status, r.text
    assert r.json()["code"] == code
    if message:
        assert r.json()["message"] == message
    assert count(db) == 0


def test_malformed_requests(api, client, db):
    r = api.post(API, content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_request"
    r = api.post(API, json=body() | {"priority": "vip"})
    assert r.status_code == 422 and "不认识的字段" in r.json()["message"]
    r = api.post(API, json={k: v for k, v in body().items() if k != "name"})
    assert r.status_code == 422 and r.json()["message"] == "请求内容有误：缺少name"
    r = api.post(API, content=b'{"name": "' + b"x" * 70_000 + b'"}', headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert api.get(f"{API}/slots", params={"service": "GA01", "day": "tomorrow"}).json()["code"] == "appointment_bad_day"
    assert api.get(f"{API}/slots", params={"service": "GA02", "day": TOMORROW}).status_code == 404
    assert api.get(f"{API}/slots").status_code == 422
    assert count(db) == 0


def test_full_slot_and_one_per_person(api, client, db):
    assert api.post(API, json=body(1)).status_code == 201
    r = api.post(API, json=body(1, start="14:00"))
    assert r.status_code == 409 and r.json()["message"] == "您当天已预约本事项（09:00），同一事项每天只能预约一次；如需改时间，请先取消原预约。"
    assert api.post(API, json=body(2)).status_code == 201
    r = api.post(API, json=body(3))
    assert r.status_code == 409 and r.json()["message"] == "09:00-09:30 时段已约满，请选择其他时段。"
    # the same person on another service that day is fine
    assert api.post(API, json=body(1, service="RS01", start="09:30")).status_code == 201
    assert count(db) == 3
    # an ID number ending in X typed with a lowercase x is the same person
    assert api.post(API, json=body(5, start="10:00", id_number=id_number(5))).status_code == 201
    again = api.post(API, json=body(5, start="10:30", id_number=id_number(5).lower()))
    assert again.status_code == 409 and again.json()["code"] == "appointment_already_booked"


def test_open_bookings_per_person_are_capped(api, client):
    for day in ("2026-11-24", "2026-11-25", "2026-11-26"):
        assert api.post(API, json=body(5, day=day)).status_code == 201
    r = api.post(API, json=body(5, service="RS01", start="09:30"))
    assert r.status_code == 409 and r.json()["code"] == "appointment_too_many"


def test_phone_form_is_limited_per_address_counting_refused_attempts(api, client, clock, caplog):
    for seq in range(1, 21):  # 20 attempts an hour (per_ip_hourly), wrong ID numbers count too
        assert form(client, seq, id_number="620102198001010012").status_code == 422
    for _ in range(5):
        r = form(client, 30)
        assert r.status_code == 429 and "操作太频繁，请一小时后再试；也可以直接到大厅取号办理。" in r.text
    assert len([r for r in caplog.records if "over the limit" in r.getMessage()]) == 1  # logged once, not per attempt
    # staff and kiosks (with their token) are not limited
    assert api.post(API, json=body(31)).status_code == 201
    clock.advance(minutes=61)
    assert form(client, 30).status_code == 303

def test_the_full_id_number_is_kept_nowhere(api, client, db, caplog, tmp_path):
    number = id_number(7)
    caplog.set_level(logging.DEBUG)
    r = api.post(API, json=body(7))
    refused = api.post(API, json=body(7, start="10:00"))  # a refusal neither
    form = client.post("/book/GA01", data={"day": TOMORROW, "start": "09:30", "id_number": number, "name": "张三丰"})
    assert r.status_code == 201 and refused.status_code == 409 and form.status_code == 409
    page = client.get(f"/b/{r.json()['token']}")
    for text in (r.text, refused.text, form.text, page.text, caplog.text):
        assert number not in text and number[6:14] not in text  # not even the birth date
    assert "张三丰" not in r.text + page.text + caplog.text
    db.dispose()  # everything written to the file
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("hall.db*"))
    assert number.encode() not in raw and "张三丰".encode() not in raw


def test_poster_qr_code_opens_the_booking_page(client, cfg):
    import cv2
    import numpy as np

    r = client.get("/book/qr.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    image = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_GRAYSCALE)
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert text == "http://testserver/book"
    cfg.hall.public_url = "https://zwfw.qinglan.gov.cn/"
    image = cv2.imdecode(np.frombuffer(client.get("/book/qr.png").content, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert cv2.QRCodeDetector().detectAndDecode(image)[0] == "https://zwfw.qinglan.gov.cn/book"


def test_refused_form_post_shows_the_reason_without_the_number(client, db):
    number = id_number(9)
    r = client.post("/book/GA01", data={"day": TOMORROW, "start": "09:15", "id_number": number, "name": "张三丰"})
    assert r.status_code == 422 and "没有 09:15 开始的预约时段，请从列表中选择。" in r.text
    assert number not in r.text and 'value="张三丰"' in r.text
    r = client.post("/book/GA01?lang=en", data={"day": TOMORROW, "start": "09:00", "id_number": "123", "name": "Li Lei"})
    assert r.status_code == 422 and "The ID number is not valid" in r.text
    r = client.post("/book/GA01", data={"day": TOMORROW, "id_number": number, "name": "张三丰"})
    assert r.status_code == 422 and "请先选择一个预约时段。" in r.text
    r = client.post("/book/GA01", data={"day": TOMORROW, "start": "09:00", "id_number": number + "1", "name": "张三丰"})
    assert r.status_code == 422 and "身份证号码不正确" in r.text  # one digit too many is not cut off into a valid number
    assert count(db) == 0


def test_pages_in_english(client, cfg):
    cfg.services[0].name_en = "ID card renewal"
    r = client.post("/book/GA01?lang=en", data={"day": TOMORROW, "start": "09:00", "id_number": id_number(4), "name": "Li Lei"})
    assert r.status_code == 200 and r.url.query == b"lang=en"  # followed the redirect to the booking, still in English
    assert '<h2 id="headline">Booked</h2>' in r.text and '<dd id="service">ID card renewal</dd>' in r.text and "L* L**" in r.text
    assert "Check in at a kiosk with your ID card" in r.text


def test_citizen_cancels_on_the_booking_page_until_the_slot_starts(client, api, clock):
    token = form(client, 11).headers["location"].split("/b/")[1]
    r = client.post(f"/b/{token}/cancel", follow_redirects=False)
    assert r.status_code == 303 and free(api) == 2
    page = client.get(f"/b/{token}")
    assert '<h2 id="headline">预约已取消</h2>' in page.text and 'id="cancel"' not in page.text
    again = client.post(f"/b/{token}/cancel")
    assert again.status_code == 409 and "这个预约已经取消。" in again.text

    token = form(client, 12, day="2026-11-23", start="10:00").headers["location"].split("/b/")[1]
    clock.advance(minutes=30)  # 10:00
    assert 'id="cancel"' not in client.get(f"/b/{token}").text
    late = client.post(f"/b/{token}/cancel")
    assert late.status_code == 409 and "预约时段 10:00 已开始，不能再取消。" in late.text
    assert client.post("/b/no-such-token/cancel").status_code == 404
