"""The HTTP API: auth on every route, the contract of docs/design.md, bad input that changes nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from queue_server.db.tables import Outbox, Ticket
from yizhan.privacy import id_hash

from tests.server.conftest import auth

# Routes anyone may open: health, the API description, the phone page, WeChat's callback, login pages, static files.
PUBLIC = re.compile(r"^/api/v1/(health|openapi\.json|docs.*)$|^/t/|^/wechat/|^/static|/login|^/docs|^/openapi|^/favicon|^/book|^/b/")

# method, path, roles allowed
MATRIX = [
    ("GET", "/api/v1/services", {"kiosk", "clerk01", "clerk02", "admin", "display", "device", "wechat"}),
    ("GET", "/api/v1/queues", {"kiosk", "clerk01", "clerk02", "admin", "display", "device", "wechat"}),
    ("GET", "/api/v1/windows", {"kiosk", "clerk01", "clerk02", "admin", "display", "device", "wechat"}),
    ("POST", "/api/v1/tickets", {"kiosk", "admin"}),
    ("GET", "/api/v1/tickets/1", {"kiosk", "clerk01", "clerk02", "admin"}),
    ("POST", "/api/v1/windows/01/open", {"clerk01", "admin", "device"}),
    ("POST", "/api/v1/windows/01/call-next", {"clerk01", "admin", "device"}),
    ("POST", "/api/v1/windows/01/recall", {"clerk01", "admin", "device"}),
    ("POST", "/api/v1/windows/01/skip", {"clerk01", "admin", "device"}),
    ("POST", "/api/v1/windows/01/finish", {"clerk01", "admin", "device"}),
    ("POST", "/api/v1/windows/01/transfer", {"clerk01", "admin", "device"}),
    ("POST", "/api/v1/windows/01/pause", {"clerk01", "admin", "device"}),
    ("POST", "/api/v1/windows/01/close", {"clerk01", "admin", "device"}),
    ("POST", "/api/v1/windows/02/open", {"clerk02", "admin"}),  # bus-1 has no keypads at window 02
    ("POST", "/api/v1/tickets/1/rating", {"device", "kiosk", "admin"}),
    ("POST", "/api/v1/tickets/1/print-status", {"kiosk"}),
    ("POST", "/api/v1/appointments/check-in", {"kiosk"}),
    ("GET", "/api/v1/cases?case_number=X1", {"kiosk", "admin", "clerk01", "clerk02"}),
]


def _body(path: str) -> dict | None:
    if path.endswith("/tickets"):
        return {"service": "RS01", "idempotency_key": "matrix-key-0001"}
    if path.endswith("/transfer"):
        return {"queue": "B"}
    if path.endswith("/rating"):
        return {"score": 5}
    if path.endswith("/print-status"):
        return {"printed": True}
    if path.endswith("/check-in"):
        return {"identity": {"id_hash": "a" * 64}, "idempotency_key": "matrix-key-0002"}
    return None


def all_routes(routes, prefix: str = ""):
    """(path, methods) of every route, through included routers (FastAPI keeps them nested)."""
    for route in routes:
        if hasattr(route, "original_router"):
            yield from all_routes(route.original_router.routes, prefix + route.include_context.prefix)
        elif hasattr(route, "methods"):
            yield prefix + route.path, route.methods


def test_every_non_public_route_needs_a_token(app, client):
    checked = 0
    for path, methods in all_routes(app.routes):
        if PUBLIC.search(path):
            continue
        for method in methods - {"HEAD", "OPTIONS"}:
            url = re.sub(r"\{[^}]+\}", "1", path)
            r = client.request(method, url)
            assert r.status_code == 401, f"{method} {path} answered {r.status_code} without a token"
            assert r.json()["code"] == "unauthorized"
            r = client.request(method, url, headers=auth("yz_not-a-real-token"))
            assert r.status_code == 401
            checked += 1
    assert checked >= len(MATRIX)


@pytest.mark.parametrize("method, path, allowed", MATRIX)
def test_roles(client, tokens, method, path, allowed):
    for role, token in tokens.items():
        r = client.request(method, path, headers=auth(token), json=_body(path))
        if role in allowed:
            assert r.status_code not in (401, 403), f"{role} refused on {method} {path}: {r.text}"
        else:
            assert r.status_code == 403, f"{role} allowed on {method} {path}: {r.status_code}"
            assert r.json()["message"]


def test_openapi_and_health_are_public(client):
    assert client.get("/api/v1/health").json() == {"status": "ok"}
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/windows/{window}/call-next" in spec["paths"]


def test_take_call_finish_rate_through_the_api(client, tokens):
    kiosk, clerk = auth(tokens["kiosk"]), auth(tokens["clerk02"])
    identity = {"id_hash": id_hash("620102195001011234", b"k"), "masked_id": "6201**********1234", "masked_name": "张*", "age": 76}
    r = client.post("/api/v1/tickets", headers=kiosk, json={"service": "RS01", "idempotency_key": "kiosk1-0001", "identity": identity})
    assert r.status_code == 201, r.text
    t = r.json()
    assert (t["number"], t["queue"], t["ahead"], t["state"]) == ("B001", "B", 0, "waiting")
    assert t["token"] and len(t["token"]) >= 20 and t["follow_url"].endswith("/t/" + t["token"])
    # the same tap retried: the same ticket, not a new one
    again = client.post("/api/v1/tickets", headers=kiosk, json={"service": "RS01", "idempotency_key": "kiosk1-0001", "identity": identity})
    assert again.status_code == 200 and again.json()["id"] == t["id"]
    assert client.post("/api/v1/windows/02/open", headers=clerk).json()["state"] == "open"
    r = client.post("/api/v1/windows/02/call-next", headers=clerk)
    assert r.status_code == 200
    assert r.json()["ticket"]["number"] == "B001"
    assert r.json()["reason"] == "绿色通道：B001（老年人，年龄 76）"
    assert client.post("/api/v1/windows/02/call-next", headers=clerk).json()["code"] == "window_busy"
    assert client.post("/api/v1/windows/02/finish", headers=clerk).json()["state"] == "done"
    assert client.post("/api/v1/windows/02/call-next", headers=clerk).status_code == 204
    r = client.post(f"/api/v1/tickets/{t['id']}/rating", headers=auth(tokens["device"]), json={"score": 1})
    assert r.status_code == 201 and r.json()["followup"]["deadline"] == "2026-11-26"
    got = client.get(f"/api/v1/tickets/{t['id']}", headers=kiosk).json()
    assert [h["action"] for h in got["history"]] == ["issue", "call", "finish"]
    assert got["history"][1]["clerk"] == "李强" and got["history"][1]["reason"].startswith("绿色通道")


def _counts(db) -> tuple[int, int]:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(Ticket)), s.scalar(select(func.count()).select_from(Outbox))


@pytest.mark.parametrize(
    "case",
    ["unknown_service", "closed_queue", "cap", "malformed", "not_object", "oversize", "wrong_role", "other_window", "extra_field", "bad_score"],
)
def test_bad_input_gets_a_clear_4xx_and_changes_nothing(client, tokens, db, clock, case):
    kiosk = auth(tokens["kiosk"])
    # one ticket already there so "cap" can be reached with a small cap below
    client.post("/api/v1/windows/02/open", headers=auth(tokens["clerk02"]))
    client.post("/api/v1/tickets", headers=kiosk, json={"service": "RS01", "idempotency_key": "setup-0001"})
    before = _counts(db)
    if case == "unknown_service":
        r = client.post("/api/v1/tickets", headers=kiosk, json={"service": "NOPE", "idempotency_key": "bad-0001"})
        expected = (404, "unknown_service")
    elif case == "closed_queue":
        from datetime import datetime

        clock.set(datetime.fromisoformat("2026-11-23T19:00:00+08:00"))
        r = client.post("/api/v1/tickets", headers=kiosk, json={"service": "RS01", "idempotency_key": "bad-0002"})
        expected = (409, "queue_closed")
    elif case == "cap":
        client.app.state.service.cfg.queues[1].daily_cap = 1
        r = client.post("/api/v1/tickets", headers=kiosk, json={"service": "RS01", "idempotency_key": "bad-0003"})
        expected = (409, "daily_cap_reached")
    elif case == "malformed":
        r = client.post("/api/v1/tickets", headers=kiosk | {"content-type": "application/json"}, content=b"{not json")
        expected = (422, "invalid_request")
    elif case == "not_object":
        r = client.post("/api/v1/tickets", headers=kiosk, json=["RS01"])
        expected = (422, "invalid_request")
    elif case == "oversize":
        r = client.post("/api/v1/tickets", headers=kiosk, json={"service": "RS01", "idempotency_key": "x" * 70, "pad": "好" * 40000})
        expected = (413, "body_too_large")
    elif case == "wrong_role":
        r = client.post("/api/v1/tickets", headers=auth(tokens["display"]), json={"service": "RS01", "idempotency_key": "bad-0005"})
        expected = (403, "forbidden")
    elif case == "other_window":
        r = client.post("/api/v1/windows/02/call-next", headers=auth(tokens["clerk01"]))
        expected = (403, "other_window")
    elif case == "extra_field":
        r = client.post("/api/v1/tickets", headers=kiosk, json={"service": "RS01", "idempotency_key": "bad-0006", "id_number": "620102195001011234"})
        expected = (422, "invalid_request")
    else:
        r = client.post("/api/v1/tickets/1/rating", headers=auth(tokens["device"]), json={"score": 9})
        expected = (422, "invalid_request")
    assert (r.status_code, r.json()["code"]) == expected, r.text
    message = r.json()["message"]
    assert re.search(r"[\u4e00-\u9fff]", message), f"message not Chinese: {message}"
    assert "Traceback" not in r.text
    assert _counts(db) == before


def test_a_clerk_cannot_touch_another_windows_ticket(client, tokens):
    kiosk, c1, c2 = auth(tokens["kiosk"]), auth(tokens["clerk01"]), auth(tokens["clerk02"])
    client.post("/api/v1/tickets", headers=kiosk, json={"service": "RS01", "idempotency_key": "other-window-0001"})
    client.post("/api/v1/windows/02/open", headers=c2)
    client.post("/api/v1/windows/02/call-next", headers=c2)
    for action in ("finish", "skip", "recall"):
        r = client.post(f"/api/v1/windows/02/{action}", headers=c1)
        assert (r.status_code, r.json()["code"]) == (403, "other_window")
    assert client.post("/api/v1/windows/02/finish", headers=c2).status_code == 200


def test_pause_with_a_reason_or_without(client, tokens):
    c2 = auth(tokens["clerk02"])
    client.post("/api/v1/windows/02/open", headers=c2)
    r = client.post("/api/v1/windows/02/pause", headers=c2, json={"reason": "training"})
    assert (r.status_code, r.json()["state"], r.json()["pause_reason"]) == (200, "paused", "training")
    r = client.post("/api/v1/windows/02/pause", headers=c2)  # a keypad's pause key sends no body
    assert r.json()["pause_reason"] == "away"
    r = client.post("/api/v1/windows/02/pause", headers=c2, json={"reason": "nap"})
    assert (r.status_code, r.json()["code"]) == (422, "unknown_pause_reason") and "暂停原因" in r.json()["message"]
    r = client.post("/api/v1/windows/02/open", headers=c2)
    assert (r.json()["state"], r.json()["pause_reason"]) == ("open", None)


def test_unknown_paths_and_methods_answer_json(client, tokens):
    r = client.get("/api/v1/nothing-here", headers=auth(tokens["admin"]))
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = client.get("/api/v1/windows/01/call-next", headers=auth(tokens["admin"]))  # GET never changes state
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"
