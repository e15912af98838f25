"""Console sessions on the case routes: the manager's page needs an admin, a clerk acts only on
their own window and cases, and every state change with a cookie needs the CSRF token."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.cases.conftest import case_hall, identity
from tests.consoles.conftest import ADMIN_PASSWORD, CLERK_PASSWORD, Hall
from tests.consoles.test_security import HTML, session


@pytest.fixture
def hall(tmp_path):
    h = Hall(tmp_path, cfg=case_hall()).start()
    yield h
    h.close()


def test_sessions_on_the_case_routes(hall: Hall):
    # Without a login: the browser goes to the login page, a script gets JSON 401.
    r = httpx.get(hall.url + "/admin/cases", headers=HTML)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    assert httpx.get(hall.url + "/admin/cases").json()["code"] == "unauthorized"
    assert httpx.post(hall.url + "/admin/cases/202611230001/status", data={"csrf_token": "x", "status": "done"}).status_code == 401

    hall.add_clerk("wangfang", "01", "王芳")
    hall.add_clerk("liqiang", "02", "李强")
    kiosk = hall.token("kiosk", device="kiosk-1")
    r = httpx.post(hall.url + "/api/v1/tickets", json={"service": "BDC01", "idempotency_key": uuid.uuid4().hex, "identity": identity()},
                   headers={"Authorization": f"Bearer {kiosk}"})
    assert r.status_code == 201
    c, csrf = session(hall.url, "wangfang", CLERK_PASSWORD)
    h = {"X-CSRF-Token": csrf, "Accept": "application/json"}
    assert c.post("/api/v1/windows/01/open", headers=h).status_code == 200
    assert c.post("/api/v1/windows/01/call-next", headers=h).status_code == 200
    # No CSRF token: refused, nothing registered.
    r = c.post("/api/v1/windows/01/cases", json={}, headers={"Accept": "application/json"})
    assert r.status_code == 403 and r.json()["code"] == "csrf"
    assert c.get("/api/v1/windows/01/cases", headers=h).json() == []
    # Another window's URL: refused.
    r = c.post("/api/v1/windows/02/cases", json={}, headers=h)
    assert r.status_code == 403 and r.json()["code"] == "other_window"
    case = c.post("/api/v1/windows/01/cases", json={}, headers=h).json()
    number = case["case_number"]
    # The manager's page and its form are not for clerks.
    assert c.get("/admin/cases").status_code == 403
    r = c.post(f"/admin/cases/{number}/status", data={"csrf_token": csrf, "status": "done"})
    assert r.status_code == 403
    # The clerk of window 02 may not move window 01's case, nor read its history.
    c2, csrf2 = session(hall.url, "liqiang", CLERK_PASSWORD)
    h2 = {"X-CSRF-Token": csrf2, "Accept": "application/json"}
    r = c2.post(f"/api/v1/cases/{number}/status", json={"status": "done"}, headers=h2)
    assert r.status_code == 403 and r.json()["code"] == "other_window"
    assert c2.get(f"/api/v1/cases/{number}/history", headers=h2).status_code == 403
    assert c2.get(f"/console/cases/{number}/receipt").status_code == 403  # nor print its receipt
    assert "受理回执" in c.get(f"/console/cases/{number}/receipt").text
    assert httpx.get(hall.url + f"/console/cases/{number}/receipt", headers=HTML).status_code == 303  # login first
    # The manager's form needs its CSRF field.
    a, admin_csrf = session(hall.url, "admin", ADMIN_PASSWORD)
    assert a.post(f"/admin/cases/{number}/status", data={"csrf_token": csrf, "status": "done"}).status_code == 403
    assert c.get(f"/api/v1/cases/{number}/history", headers=h).json()[-1]["to"] == "accepted"  # nothing moved
    r = a.post(f"/admin/cases/{number}/status", data={"csrf_token": admin_csrf, "status": "returned", "reason": ""})
    assert r.status_code == 303 and "notice=" in r.headers["location"]
    assert "退回办件必须填写退回原因" in a.get(r.headers["location"]).text  # the refusal, in Chinese, on the page
    r = a.post(f"/admin/cases/{number}/status", data={"csrf_token": admin_csrf, "status": "processing"})
    assert r.status_code == 303
    page = a.get(r.headers["location"]).text
    assert f"办件 {number} 已改为“办理中”" in page
    hist = c.get(f"/api/v1/cases/{number}/history", headers=h).json()
    assert [(x["actor"], x["to"]) for x in hist] == [("王芳", "accepted"), ("管理员", "processing")]
    # The audit page names the case actions in Chinese.
    assert "受理办件" in a.get("/admin/audit").text and "办件转入办理" in a.get("/admin/audit").text
    for client in (c, c2, a):
        client.close()
