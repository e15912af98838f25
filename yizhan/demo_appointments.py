"""Simulated citizens of `yizhan demo` who book an appointment (预约) on their phone and come
to the kiosk with their ID card when their slot is near.

They book through the phone page's form (`POST /book/<service>`, no token — what a citizen's
phone sends; the free slots come from `GET /api/v1/appointments/slots`) and check in with the kiosk's check-in (`POST /api/v1/appointments/check-in` with the keyed hash of the
card's number), so the demo shows appointment tickets called first with the reason "预约 …".
A slot can be booked from 30 minutes ahead (`same_day_lead_min`) and an appointment is due
from `appointment_early_min` before its start: the first calls come within one slot length.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from yizhan.clock import Clock
from yizhan.config.model import HallConfig
from yizhan.demo import synthetic_id_number
from yizhan.privacy import id_hash, mask_id, mask_name

logger = logging.getLogger("yizhan.demo")

GIVEN = ["建国", "秀英", "志强", "桂兰", "海燕", "文博", "丽娟", "子涵", "玉珍", "晓东"]


@dataclass
class Booked:
    number: str  # synthetic ID number and name: exist only in this process, leave as hash and masked forms
    name: str
    masked_name: str
    service: str
    slot: str
    arrive_at: datetime


class AppointmentCitizens(threading.Thread):
    def __init__(self, url: str, kiosk_token: str, cfg: HallConfig, id_key: bytes, clock: Clock, windows: list[str],
                 stop: threading.Event, count: int = 6) -> None:
        super().__init__(daemon=True, name="appointment-citizens")
        self.url, self.cfg, self.key, self.clock, self.stop_event, self.count = url, cfg, id_key, clock, stop, count
        self.phone = httpx.Client(base_url=url, timeout=10)  # a citizen's phone: no token
        self.kiosk = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {kiosk_token}"}, timeout=10)
        self.rng = random.Random(11)
        served = {q for w in windows for q in self.cfg.window(w).queues}
        # only services whose queue the demo's clerks serve, or nobody would ever call them
        self.services = [c for c in cfg.appointments.services if cfg.service(c).queue in served]
        self.checked_in = 0

    def person(self, i: int) -> tuple[str, str]:
        number = synthetic_id_number(self.rng, [1956, 1968, 1979, 1987, 1995], serial=500 + i)
        return number, self.rng.choice("王李张刘陈杨赵黄") + GIVEN[i % len(GIVEN)]

    def book_all(self) -> list[Booked]:
        booked: list[Booked] = []
        now = self.clock.now()
        early = timedelta(minutes=self.cfg.policy.appointment_early_min)
        for i in range(self.count):
            code = self.services[i % len(self.services)]
            try:
                slots = self.kiosk.get("/api/v1/appointments/slots", params={"service": code, "day": now.date().isoformat()}).json()
                free = [s for s in slots if s.get("bookable")] if isinstance(slots, list) else []
                if not free:
                    logger.info("模拟预约：%s 今天已没有可预约时段", self.cfg.service(code).name)
                    continue
                number, name = self.person(i)
                r = self.phone.post(f"/book/{code}", data={"day": now.date().isoformat(), "start": free[0]["start"], "id_number": number, "name": name},
                                    follow_redirects=False)
            except (httpx.HTTPError, ValueError) as exc:
                logger.warning("模拟预约：服务器没有应答（%s）", exc)
                continue
            if r.status_code != 303:
                logger.info("模拟预约被拒（%s）", r.status_code)
                continue
            a = {"start": free[0]["start"], "end": free[0]["end"], "service_name": self.cfg.service(code).name, "masked_name": mask_name(name)}
            start = datetime.combine(now.date(), datetime.strptime(a["start"], "%H:%M").time(), now.tzinfo)
            # they come early: when the appointment is due, or in the next half minute if it already is
            arrive = max(now + timedelta(seconds=self.rng.uniform(5, 30)), start - early + timedelta(seconds=self.rng.uniform(0, 60)))
            booked.append(Booked(number, name, a["masked_name"], a["service_name"], f"{a['start']}-{a['end']}", arrive))
            logger.info("市民在手机上预约：%s 今天 %s-%s（%s），%s 到大厅签到", a["service_name"], a["start"], a["end"], a["masked_name"], f"{arrive:%H:%M:%S}")
        return booked

    def check_in(self, b: Booked) -> None:
        identity = {"id_hash": id_hash(b.number, self.key), "masked_id": mask_id(b.number), "masked_name": mask_name(b.name)}
        try:
            r = self.kiosk.post("/api/v1/appointments/check-in", json={"identity": identity, "idempotency_key": f"demo-checkin-{b.number[-8:]}"})
        except httpx.HTTPError as exc:
            logger.warning("预约签到：服务器没有应答（%s）", exc)
            return
        if r.status_code in (200, 201):
            self.checked_in += 1
            logger.info("预约市民在自助机刷身份证签到：%s 取得 %s（%s，预约 %s）", b.masked_name, r.json()["number"], b.service, b.slot)
        else:
            logger.info("预约签到被拒：%s", r.json().get("message"))

    def run(self) -> None:
        if not self.services:
            logger.info("模拟预约：没有可预约的事项由模拟窗口办理（hall.yaml 的 appointments:）")
            return
        waiting = sorted(self.book_all(), key=lambda b: b.arrive_at)
        while waiting and not self.stop_event.is_set():
            due = (waiting[0].arrive_at - self.clock.now()).total_seconds()
            if due > 0:
                self.stop_event.wait(min(due, 5.0))
                continue
            self.check_in(waiting.pop(0))
