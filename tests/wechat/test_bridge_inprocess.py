"""The bridge's logic in one process: two bridges on the `Messenger` interface
(MemoryMessenger), the real server app and database, the fake WeChat API. Proves that two
bridges together never send a notice twice, that notices keep their order, and that the
daily quota stops sending."""

from __future__ import annotations

import logging
from datetime import datetime

import httpx
import pytest
from sqlalchemy import select

from tests.fixtures_mqtt import wait_until
from tests.wechat.conftest import CALLBACK_TOKEN, HALL_DIR
from tests.wechat.fake_wechat import APP_SECRET, FakeWeChat, event_xml, sign_params
from wechat_bridge.bridge import Bridge
from wechat_bridge.sender import Sender
from wechat_bridge.server import ServerApi, TokenCache
from yizhan.clock import ManualClock
from yizhan.config import load_config
from yizhan.messaging import topics
from yizhan.messaging.dedup import EventHandler
from yizhan.messaging.memory import MemoryBus, MemoryMessenger
from queue_server.db.engine import Database
from queue_server.db.migrate import upgrade
from queue_server.db.tables import Outbox
from queue_server.domain.model import WindowState
from queue_server.service import Actor, HallService
from queue_server.tokens import create_token


@pytest.fixture
def rig(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from queue_server.api.app import create_app

    fake = FakeWeChat().start()
    monkeypatch.setenv("YIZHAN_WECHAT_API", fake.url)
    monkeypatch.setenv("YIZHAN_WECHAT_SECRET", APP_SECRET)
    monkeypatch.setenv("YIZHAN_WECHAT_TOKEN", CALLBACK_TOKEN)
    base = load_config(HALL_DIR)
    cfg = base.model_copy(update={"wechat": base.wechat.model_copy(update={"daily_quota": 4})})
    clock = ManualClock(datetime.fromisoformat("2026-11-23T09:30:00+08:00"))
    db = Database(f"sqlite:///{tmp_path / 'hall.db'}")
    upgrade(db.engine)
    app = create_app(cfg, db, clock)
    svc: HallService = app.state.service
    token = create_token(db, clock.now(), "wechat")
    bus = MemoryBus()
    bridges = []
    for _ in range(2):
        client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
        server = ServerApi("http://testserver", token, client=client)
        bridge = Bridge(cfg.wechat, server, Sender(fake.url, TokenCache(server), retries=2, backoff_s=0.01, client=httpx.Client()),
                        workers=3)
        bridge.start()
        messenger = MemoryMessenger(bus)
        messenger.subscribe(topics.all_tickets(cfg.hall.id), EventHandler(bridge.on_event, hall=cfg.hall.id))
        messenger.start()
        bridges.append(bridge)
    publisher = MemoryMessenger(bus)

    def relay() -> None:
        """Delivers the outbox like the server's publisher does."""
        with db.write() as s:
            for row in s.scalars(select(Outbox).where(Outbox.delivered_at.is_(None)).order_by(Outbox.id)):
                publisher.publish(row.topic, row.payload.encode(), retain=row.retain)
                row.delivered_at = clock.now()

    yield svc, TestClient(app), fake, bridges, relay
    for b in bridges:
        b.stop(drain_s=5)
    fake.stop()
    db.dispose()


def test_two_bridges_never_send_twice_and_respect_the_quota(rig, caplog):
    svc, web, fake, bridges, relay = rig
    caplog.set_level(logging.INFO)
    clerk = Actor("clerk", "clerk05", "05")
    tickets = [svc.issue_ticket("SB001", f"inproc-{i:04d}", None)[0] for i in range(5)]
    mine = tickets[-1]
    follower = "oFollower0000000000000000001"
    r = web.post("/wechat/callback", params=sign_params(CALLBACK_TOKEN), content=event_xml(follower, "SCAN", mine.token))
    assert r.status_code == 200 and mine.number in r.text
    relay()
    svc.set_window_state("05", WindowState.OPEN, clerk)
    # A real line moves in minutes, not microseconds: each step waits for what it should
    # cause (a notice overtaken by the next call would rightly be dropped).
    expected_after = {1: 1, 3: 2}  # call n → notices so far (3 ahead, then 1 ahead)
    for n in range(1, 5):
        svc.call_next("05", clerk)
        relay()
        if n in expected_after:
            fake.wait_for(lambda f, k=expected_after[n]: len(f.for_openid(follower)) >= k, what=f"notice {expected_after[n]}")
        svc.finish("05", clerk)
        relay()
    svc.call_next("05", clerk)  # my number
    relay()
    fake.wait_for(lambda f: len(f.for_openid(follower)) >= 3, what="three notices")
    svc.skip("05", clerk)  # the 4th notice fits the quota of 4 …
    relay()
    fake.wait_for(lambda f: len(f.for_openid(follower)) >= 4, what="the skip notice")
    statuses = [m.value("phrase2") for m in fake.for_openid(follower)]
    assert statuses == ["即将叫号", "即将叫号", "请到窗口", "已过号"]
    assert [m.value("number3") for m in fake.for_openid(follower)] == ["3", "1", "0", "0"]
    # both bridges saw every event; together they sent each notice once
    wait_until(lambda: sum(b.sent for b in bridges) == 4, 10, "the bridges to count their notices")
    assert len(fake.sent) == 4

    # … a fifth notice does not: a second follower of another ticket is refused by the quota.
    other = svc.issue_ticket("SB001", "inproc-9999", None)[0]
    web.post("/wechat/callback", params=sign_params(CALLBACK_TOKEN), content=event_xml("oSecond", "SCAN", other.token))
    svc.call_next("05", clerk)
    relay()
    wait_until(lambda: "daily quota of 4 notices reached" in caplog.text, 20, "the quota log line")
    assert fake.for_openid("oSecond") == []
    assert fake.problems == []
