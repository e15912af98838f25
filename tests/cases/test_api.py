"""Registering cases from served tickets, moving them on, auth on every route, the manager's list
and the citizen's look-up — through the HTTP API of an in-process app on a ManualClock."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.cases.conftest import Desk, auth, identity
from queue_server.db.tables import AuditLog, Case, Outbox


def test_register_the_ticket_at_the_window(desk: Desk, client, tokens, db):
    desk.take("BDC01")
    ticket = desk.call()
    r = desk.register()
    assert r.status_code == 201, r.text
    case = r.json()
    # Monday 2026-11-23 + 5 working days (the day of acceptance does not count) = Monday 30th.
    assert case["case_number"] == "202611230001"
    assert case["deadline"] == "2026-11-30"
    assert case["status"] == "accepted" and case["status_name"] == "已受理"
    assert case["service"] == "BDC01" and case["department_name"] == "不动产登记中心"
    assert case["masked_name"] == "张*" and case["ticket"] == ticket["number"] and case["window"] == "01"
    # The citizen's ID card finds it at the kiosk (the kiosk sends only the hash).
    found = client.get("/api/v1/cases", params={"id_hash": identity()["id_hash"]}, headers=auth(tokens["kiosk"])).json()
    assert [c["case_number"] for c in found] == ["202611230001"]
    assert found[0]["status"] == "accepted" and found[0]["service_name"] == "不动产转移登记"
    # So does the number on the receipt.
    by_number = client.get("/api/v1/cases", params={"case_number": "202611230001"}, headers=auth(tokens["kiosk"])).json()
    assert by_number[0]["deadline"] == "2026-11-30"
    # Nothing personal in full anywhere: the case row holds the hash and the masked name.
    with db.read() as s:
        row = s.scalar(select(Case))
        assert row.id_hash == identity()["id_hash"] and row.masked_name == "张*"
        accepted = s.scalar(select(AuditLog).where(AuditLog.action == "case.accept"))
        assert accepted.actor == "王芳" and accepted.detail["case"] == "202611230001"


def test_numbers_run_on_within_the_day_and_restart_the_next(desk: Desk, clock):
    numbers = []
    for service in ("BDC01", "RS02"):
        desk.take(service)
        desk.call()
        numbers.append(desk.register().json()["case_number"])
        assert desk.c.post("/api/v1/windows/01/finish", headers=desk.h).status_code == 200
    assert numbers == ["202611230001", "202611230002"]
    clock.set(clock.now() + timedelta(days=1))
    desk.take("BDC01")
    desk.call()
    nxt = desk.register().json()
    assert nxt["case_number"] == "202611240001"
    assert nxt["deadline"] == "2026-12-01"


def test_another_service_and_a_finished_ticket(desk: Desk):
    desk.take("BDC01")
    ticket = desk.call()
    assert desk.c.post("/api/v1/windows/01/finish", headers=desk.h).status_code == 200
    # The clerk pressed 办结 first: the finished ticket of this window can still be registered.
    r = desk.register(ticket_id=ticket["id"], service="RS02")
    assert r.status_code == 201, r.text
    assert r.json()["service"] == "RS02" and r.json()["deadline"] == "2026-11-26"


def test_on_the_spot_service_is_done_at_once(desk: Desk, db):
    desk.take("GA01")
    desk.call()
    case = desk.register().json()
    assert case["status"] == "done" and case["finished_at"] and case["deadline"] == "2026-11-23"
    with db.read() as s:
        kinds = [p for (p,) in s.execute(select(Outbox.payload).where(Outbox.topic.like("%/ticket/%")))]
    assert any('"case_done"' in p for p in kinds)


def test_refusals_change_nothing(desk: Desk, client, tokens, db):
    # No ticket at the window.
    r = desk.register()
    assert r.status_code == 409 and r.json()["code"] == "case_no_ticket" and "请先叫号" in r.json()["message"]
    desk.take("BDC01")
    ticket = desk.call()
    assert desk.register(service="NOPE").json()["code"] == "unknown_service"
    assert desk.register().status_code == 201
    again = desk.register()  # a second click, or a second browser
    assert again.status_code == 409 and again.json()["code"] == "case_exists" and "202611230001" in again.json()["message"]
    # Window 02 cannot register window 01's ticket, even naming it.
    other = Desk(client, tokens, "02")
    r = other.register(ticket_id=ticket["id"])
    assert r.status_code == 409 and r.json()["code"] == "case_ticket_elsewhere"
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 1


def test_status_moves_and_bad_moves(desk: Desk, client, tokens, db):
    desk.take("BDC01")
    desk.call()
    number = desk.register().json()["case_number"]
    url = f"/api/v1/cases/{number}/status"
    r = client.post(url, json={"status": "processing"}, headers=desk.h)
    assert r.status_code == 200 and r.json()["status"] == "processing"
    # Back to processing again, or returned without a reason: refused, nothing changed.
    r = client.post(url, json={"status": "processing"}, headers=desk.h)
    assert r.status_code == 409 and r.json()["code"] == "case_bad_transition"
    assert r.json()["message"] == f"办件 {number} 当前为“办理中”，不能改为“办理中”。"
    r = client.post(url, json={"status": "returned", "reason": "  "}, headers=desk.h)
    assert r.status_code == 422 and r.json()["code"] == "case_reason_required"
    r = client.post(url, json={"status": "accepted"}, headers=desk.h)
    assert r.status_code == 422 and r.json()["code"] == "invalid_request"
    r = client.post(url, json={"status": "done"}, headers=auth(tokens["admin"]))
    assert r.status_code == 200 and r.json()["status"] == "done" and r.json()["finished_at"]
    r = client.post(url, json={"status": "returned", "reason": "缺少材料"}, headers=desk.h)
    assert r.status_code == 409 and "已办结" in r.json()["message"]
    history = client.get(f"/api/v1/cases/{number}/history", headers=desk.h).json()
    assert [(h["actor"], h["from"], h["to"]) for h in history] == [("王芳", None, "accepted"), ("王芳", "accepted", "processing"), ("主任", "processing", "done")]
    with db.read() as s:
        done = [p for (p,) in s.execute(select(Outbox.payload).where(Outbox.topic.like("%/ticket/%"), Outbox.payload.like('%"case_done"%')))]
    assert len(done) == 1 and number in done[0]
    looked = client.get("/api/v1/cases", params={"case_number": number}, headers=auth(tokens["kiosk"])).json()
    assert looked[0]["status"] == "done"


def test_returned_with_a_reason(desk: Desk, client):
    desk.take("BDC01")
    desk.call()
    number = desk.register().json()["case_number"]
    r = client.post(f"/api/v1/cases/{number}/status", json={"status": "returned", "reason": "缺少 不动产权证书 原件"}, headers=desk.h)
    assert r.status_code == 200 and r.json()["status"] == "returned"
    history = client.get(f"/api/v1/cases/{number}/history", headers=desk.h).json()
    assert history[-1]["reason"] == "缺少 不动产权证书 原件"
    assert client.post("/api/v1/cases/000000000000/status", json={"status": "done"}, headers=desk.h).json()["code"] == "case_not_found"


def test_auth_on_every_route(desk: Desk, client, tokens):
    desk.take("BDC01")
    desk.call()
    number = desk.register().json()["case_number"]
    routes = [
        ("post", "/api/v1/windows/01/cases", {}),
        ("get", "/api/v1/windows/01/cases", None),
        ("post", f"/api/v1/cases/{number}/status", {"status": "processing"}),
        ("get", f"/api/v1/cases/{number}/history", None),
        ("get", "/api/v1/cases/open", None),
    ]
    for method, url, body in routes:
        kw = {"json": body} if body is not None else {}
        assert getattr(client, method)(url, **kw).status_code == 401, url
        for role in ("kiosk", "device"):
            r = getattr(client, method)(url, headers=auth(tokens[role]), **kw)
            assert r.status_code == 403 and r.json()["code"] == "forbidden", (url, role)
        # The clerk of another window is refused, whichever window or case the request names.
        r = getattr(client, method)(url, headers=auth(tokens["clerk02"]), **kw)
        assert r.status_code == 403, (url, r.text)
        assert r.json()["code"] in ("other_window", "forbidden")
    assert client.get("/api/v1/cases/open", headers=desk.h).status_code == 403  # the manager's list
    # Nothing moved by the refused calls.
    assert client.get(f"/api/v1/cases/{number}/history", headers=desk.h).json()[-1]["to"] == "accepted"
    # The admin may do everything.
    assert client.post(f"/api/v1/cases/{number}/status", json={"status": "processing"}, headers=auth(tokens["admin"])).status_code == 200
    assert client.get("/api/v1/windows/01/cases", headers=auth(tokens["admin"])).json()[0]["status"] == "processing"


def test_manager_list_marks_due_and_overdue(desk: Desk, client, tokens, clock):
    # Three cases accepted on different days, all 3 working days (RS02).
    start = clock.now()
    numbers = []
    for days in (0, 3, 7):  # Mon 23rd, Thu 26th, Mon 30th
        clock.set(start + timedelta(days=days))
        assert client.post("/api/v1/windows/01/open", headers=desk.h).status_code == 200
        desk.take("RS02")
        desk.call()
        numbers.append(desk.register().json()["case_number"])
        assert client.post("/api/v1/windows/01/finish", headers=desk.h).status_code == 200
    # Thursday 3 December: the first (due Thu 26th) is 5 working days late → red; the second
    # (due Tue 1st) 2 late → red; the third (due Thu 3rd) is due today → amber.
    clock.set(start + timedelta(days=10))
    rows = client.get("/api/v1/cases/open", headers=auth(tokens["admin"])).json()
    got = {r["case_number"]: (r["deadline"], r["alert"], r["overdue_days"]) for r in rows}
    assert got == {numbers[0]: ("2026-11-26", "red", 5), numbers[1]: ("2026-12-01", "red", 2), numbers[2]: ("2026-12-03", "due_soon", 0)}
    # Wednesday 2 December: the second is 1 working day late → yellow card; the third due tomorrow → amber.
    clock.set(start + timedelta(days=9))
    rows = {r["case_number"]: r for r in client.get("/api/v1/cases/open", headers=auth(tokens["admin"])).json()}
    assert (rows[numbers[1]]["alert"], rows[numbers[1]]["overdue_days"]) == ("yellow", 1)
    assert (rows[numbers[2]]["alert"], rows[numbers[2]]["days_left"]) == ("due_soon", 1)
    # A closed case leaves the list; filters by service and department.
    assert client.post(f"/api/v1/cases/{numbers[0]}/status", json={"status": "done"}, headers=desk.h).status_code == 200
    rows = client.get("/api/v1/cases/open", headers=auth(tokens["admin"])).json()
    assert [r["case_number"] for r in rows] == numbers[1:]
    assert client.get("/api/v1/cases/open", params={"department": "bdc"}, headers=auth(tokens["admin"])).json() == []
    assert len(client.get("/api/v1/cases/open", params={"service": "RS02"}, headers=auth(tokens["admin"])).json()) == 2


def test_anonymous_ticket_is_found_by_number_only(desk: Desk, client, tokens, db):
    desk.take("RS02", real_name=False)
    desk.call()
    case = desk.register().json()
    assert case["masked_name"] == "" and case["real_name"] is False
    kiosk = auth(tokens["kiosk"])
    assert client.get("/api/v1/cases", params={"case_number": case["case_number"]}, headers=kiosk).json()[0]["service"] == "RS02"
    assert client.get("/api/v1/cases", params={"id_hash": identity()["id_hash"]}, headers=kiosk).json() == []


def test_the_tickets_phone_page_follows_the_case(desk: Desk, client, clock):
    issued = desk.take("BDC01")
    desk.call()
    number = desk.register().json()["case_number"]
    assert client.post("/api/v1/windows/01/finish", headers=desk.h).status_code == 200
    page = client.get(f"/t/{issued['token']}").text
    assert "办件已受理，承诺 2026-11-30 前办结" in page and f"办件编号 {number}" in page
    # Days later the ticket itself has expired, but its QR code still tells how the case is going.
    clock.set(clock.now() + timedelta(days=4))
    assert client.post(f"/api/v1/cases/{number}/status", json={"status": "done"}, headers=auth(desk.tokens["admin"])).status_code == 200
    page = client.get(f"/t/{issued['token']}").text
    assert "办件已办结，可以领取" in page and "张" not in page  # nothing personal on the phone page
    # A ticket without a case keeps the page it had.
    other = desk.take("RS02", real_name=False)
    assert "号票已过期" not in client.get(f"/t/{other['token']}").text
