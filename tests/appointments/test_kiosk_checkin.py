"""The whole way through the real parts: a citizen books on the phone page of a real `yizhan
server`; at the hall the kiosk's own core (no window) reads the ID card from the SAM module
simulator (the same frames as the hardware), hashes the number with the hall's id_hash_key and
checks in; the clerk's call-next calls that ticket first with the reason "预约到时"."""

from __future__ import annotations

import time

import httpx

from kiosk.core.api import ApiClient
from kiosk.core.catalogue import Catalogue
from kiosk.core.kiosk import Devices, KioskCore
from kiosk.core.runtime import QueuePost
from kiosk.core.views import Screen
from kiosk.devices.idcard.sam_reader import SimulatedCardReader
from kiosk.devices.idcard.textblock import resident_block
from tests.appointments.conftest import KEY, id_number
from yizhan.clock import clock_from_env
from yizhan.config import load_config
from yizhan.privacy import id_hash, mask_id


def settle(post: QueuePost, cond, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    """Runs the kiosk's posted callbacks until `cond()` holds."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        post.drain(timeout=0.2)


def test_booked_on_the_phone_checked_in_with_the_id_card_called_first(hall_server):
    # 09:30 and running; no lead time, so the 10:00 slot can be booked and is already due (30 min early)
    server = hall_server("2026-11-23T09:30:00+08:00", same_day_lead_min=0)
    number = id_number(77, birth="19560312")
    http = httpx.Client(base_url=server.url, timeout=30)
    kiosk_auth = {"Authorization": f"Bearer {server.kiosk}"}
    clerk_auth = {"Authorization": f"Bearer {server.clerk}"}

    # booked on the phone page, as a citizen does (no token)
    r = http.post("/book/GA01", data={"day": "2026-11-23", "start": "10:00", "id_number": number, "name": "周桂兰"})
    assert r.status_code == 303 and r.headers["location"].startswith("/b/"), r.text
    # someone without a booking took a number before her (GA01 needs the ID card: real_name required)
    other = {"id_hash": id_hash(id_number(78), KEY), "masked_id": mask_id(id_number(78)), "masked_name": "李*", "age": 40}
    walk_in = http.post("/api/v1/tickets", json={"service": "GA01", "idempotency_key": "walk-in-0001", "identity": other}, headers=kiosk_auth)
    assert walk_in.status_code == 201, walk_in.text
    walk_in = walk_in.json()

    config = load_config(server.config_dir)
    reader = SimulatedCardReader()
    post = QueuePost()
    core = KioskCore(catalogue=Catalogue(config), api=ApiClient(server.url, server.kiosk, timeout=10), devices=Devices(reader=reader),
                     clock=clock_from_env(config.hall.timezone, server.env), post=post, kiosk_id="kiosk-1", id_hash_key=KEY,
                     background=False)
    try:
        core.start_checkin()
        assert core.screen is Screen.CARD
        reader.place(resident_block("周桂兰", number))
        settle(post, lambda: core.screen is Screen.TICKET)
        view = core.ticket_view
        assert view is not None and view.checked_in and view.service == "GA01" and view.ahead == 0
    finally:
        reader.close()

    rows = http.get("/api/v1/appointments", headers=clerk_auth).json()
    assert [(a["status"], a["masked_name"]) for a in rows] == [("checked_in", "周**")]
    http.post("/api/v1/windows/01/open", headers=clerk_auth).raise_for_status()
    call = http.post("/api/v1/windows/01/call-next", headers=clerk_auth).json()
    assert call["ticket"]["number"] == view.number != walk_in["number"]
    assert call["reason"] == f"预约到时：{view.number} 预约 10:00 时段"
