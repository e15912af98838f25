"""Booked on the phone → checked in at the kiosk with the same ID card → a priority ticket →
the window's call-next picks it before people who came earlier, with the reason "预约 …"."""

from __future__ import annotations

from yizhan.privacy import id_hash, mask_id

from tests.appointments.conftest import KEY, auth, id_number

API = "/api/v1"


def kiosk_identity(number: str, masked_name: str) -> dict:
    # what the kiosk sends after reading the card: the keyed hash with the hall's id_hash_key, masked forms
    return {"id_hash": id_hash(number, KEY), "masked_id": mask_id(number), "masked_name": masked_name, "age": 46}


def test_booked_citizen_checks_in_and_is_called_first(client, tokens, clock):
    kiosk, clerk, admin = auth(tokens["kiosk"]), auth(tokens["clerk01"]), auth(tokens["admin"])
    number = id_number(42)
    # booked on the phone page (no token)
    booked = client.post("/book/GA01", data={"day": "2026-11-23", "start": "10:30", "id_number": number, "name": "王建国"}, follow_redirects=False)
    assert booked.status_code == 303, booked.text

    # two people without a booking take numbers at 10:05 and 10:10
    clock.advance(minutes=35)
    walk_ins = []
    for i in range(2):
        r = client.post(f"{API}/tickets", json={"service": "GA01", "idempotency_key": f"walk-in-{i}-xyz", "identity": kiosk_identity(id_number(60 + i), "李*")}, headers=kiosk)
        assert r.status_code == 201, r.text
        walk_ins.append(r.json())
        clock.advance(minutes=5)

    # 10:20: the booked citizen puts the ID card on the kiosk's reader (预约签到)
    r = client.post(f"{API}/appointments/check-in", json={"identity": kiosk_identity(number, "王**"), "idempotency_key": "checkin-0001"}, headers=kiosk)
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert ticket["service"] == "GA01" and ticket["ahead"] == 0  # called before the two who came earlier

    rows = client.get(f"{API}/appointments", headers=admin).json()
    assert [(a["status"], a["ticket_id"], a["masked_name"]) for a in rows] == [("checked_in", ticket["id"], "王**")]
    # a checked-in booking can no longer be cancelled
    r = client.post(f"{API}/appointments/{rows[0]['id']}/cancel", headers=admin)
    assert r.status_code == 409 and r.json()["code"] == "appointment_checked_in"

    assert client.post(f"{API}/windows/01/open", headers=clerk).status_code == 200
    call = client.post(f"{API}/windows/01/call-next", headers=clerk)
    assert call.status_code == 200, call.text
    assert call.json()["ticket"]["number"] == ticket["number"]
    assert call.json()["reason"] == f"预约到时：{ticket['number']} 预约 10:30 时段"
    client.post(f"{API}/windows/01/finish", headers=clerk)
    nxt = client.post(f"{API}/windows/01/call-next", headers=clerk).json()
    assert nxt["ticket"]["number"] == walk_ins[0]["number"]


def test_no_check_in_without_a_booking_for_today_and_not_after_the_slot(client, tokens, clock):
    kiosk = auth(tokens["kiosk"])
    number = id_number(43)
    # booked for tomorrow: today's check-in finds nothing
    r = client.post(f"{API}/appointments", json={"service": "RS01", "day": "2026-11-24", "start": "09:30", "id_number": number, "name": "赵敏"}, headers=kiosk)
    assert r.status_code == 201, r.text
    r = client.post(f"{API}/appointments/check-in", json={"identity": kiosk_identity(number, "赵*"), "idempotency_key": "checkin-0002"}, headers=kiosk)
    assert r.status_code == 404 and r.json()["message"] == "没有查到您今天的预约。请确认预约日期，或直接取号办理。"
    # the next day, 15 minutes after the slot ended (appointment_late_min), it is too late
    clock.advance(days=1, hours=1, minutes=16)  # 2026-11-24 10:46; slot 09:30-10:30
    r = client.post(f"{API}/appointments/check-in", json={"identity": kiosk_identity(number, "赵*"), "idempotency_key": "checkin-0003"}, headers=kiosk)
    assert r.status_code == 409 and r.json()["message"] == "您预约的 09:30 时段已过，请直接取号办理。"
    rows = client.get(f"{API}/appointments", headers=auth(tokens["admin"])).json()
    assert [a["status"] for a in rows] == ["missed"]


def test_a_missed_morning_booking_does_not_hide_the_afternoon_one(client, tokens, clock):
    kiosk = auth(tokens["kiosk"])
    number = id_number(44)
    for service, start in (("RS01", "10:30"), ("GA01", "14:00")):
        r = client.post(f"{API}/appointments", json={"service": service, "day": "2026-11-23", "start": start, "id_number": number, "name": "钱学森"}, headers=kiosk)
        assert r.status_code == 201, r.text
    clock.advance(hours=4, minutes=35)  # 14:05: the 10:30-11:30 slot is long over, 14:00 is due
    r = client.post(f"{API}/appointments/check-in", json={"identity": kiosk_identity(number, "钱**"), "idempotency_key": "checkin-0004"}, headers=kiosk)
    assert r.status_code == 201, r.text
    assert r.json()["service"] == "GA01"
    rows = client.get(f"{API}/appointments", headers=auth(tokens["admin"])).json()
    assert [(a["service"], a["status"]) for a in rows] == [("RS01", "missed"), ("GA01", "checked_in")]
