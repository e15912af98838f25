"""The outbox publisher's own rules, on rows written straight into the outbox table and the
in-process bus (broker failures are covered on a real Mosquitto in test_server_fanout.py)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.fixtures_hall import MONDAY_0930
from tests.fixtures_mqtt import wait_until
from yizhan.clock import ManualClock
from yizhan.messaging import topics
from yizhan.messaging.memory import MemoryBus, MemoryMessenger
from queue_server.db.engine import Database
from queue_server.db.migrate import upgrade
from queue_server.db.tables import Outbox
from queue_server.publisher import OutboxPublisher

HALL = "testhall"


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'hall.db'}")
    upgrade(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def clock():
    return ManualClock(datetime.fromisoformat(MONDAY_0930))


@pytest.fixture
def bus():
    return MemoryBus()


@pytest.fixture
def publisher(db, bus, clock):
    messenger = MemoryMessenger(bus)
    messenger.start()
    p = OutboxPublisher(db, messenger, HALL, clock=clock, poll_interval=0.2)
    p.start()
    yield p
    p.stop()


def put(db, clock, topic: str, retain: bool, row_id: int | None = None, **body) -> str:
    event_id = uuid.uuid4().hex
    payload = {"event_id": event_id, "hall": HALL, "at": clock.now().isoformat()} | body
    with db.write() as s:
        s.add(Outbox(id=row_id, topic=topic, payload=json.dumps(payload, ensure_ascii=False), retain=retain, created_at=clock.now()))
    return event_id


def undelivered(db) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(Outbox).where(Outbox.delivered_at.is_(None)))


def sent_ids(bus, topic_prefix: str = "") -> list[str]:
    return [json.loads(m.payload)["event_id"] for m in bus.log if m.topic.startswith(topic_prefix) and m.payload.startswith(b"{")
            and "/server/" not in m.topic]


def test_rows_go_out_in_id_order_and_are_marked_delivered(db, bus, clock, publisher):
    ids = [put(db, clock, topics.call(HALL), False, ticket=f"A{n:03d}") for n in range(50)]
    wait_until(lambda: undelivered(db) == 0, 10, "all rows delivered")
    assert sent_ids(bus, topics.call(HALL)) == ids


def test_a_row_committed_late_with_a_smaller_id_is_still_delivered(db, bus, clock, publisher):
    # PostgreSQL hands out ids at insert time, so id 5 may commit after id 10 went out.
    late = put(db, clock, topics.call(HALL), False, row_id=10, ticket="A010")
    wait_until(lambda: undelivered(db) == 0, 10, "row 10")
    early = put(db, clock, topics.call(HALL), False, row_id=5, ticket="A005")
    wait_until(lambda: undelivered(db) == 0, 10, "row 5")
    assert sent_ids(bus, topics.call(HALL)) == [late, early]


def test_reconnect_republishes_latest_retained_state_and_recent_events(db, bus, clock, publisher):
    old_state = put(db, clock, topics.window_state(HALL, "01"), True, window="01", state="open")
    new_state = put(db, clock, topics.window_state(HALL, "01"), True, window="01", state="paused")
    queue_state = put(db, clock, topics.queue_state(HALL, "A"), True, queue="A", waiting=3)
    put(db, clock, topics.device_status(HALL, "kiosk-1"), True, device="kiosk-1", state="online")
    old_call = put(db, clock, topics.call(HALL), False, ticket="A001")
    wait_until(lambda: undelivered(db) == 0, 10, "first delivery")
    clock.advance(60)  # the first call is now older than the replay window
    recent_call = put(db, clock, topics.call(HALL), False, ticket="A002")
    wait_until(lambda: undelivered(db) == 0, 10, "second delivery")

    bus.log.clear()
    publisher.messenger.start()  # the memory messenger's "reconnect": runs the on_connect callbacks
    wait_until(lambda: len(bus.log) >= 4, 10, "the republish")
    republished = [json.loads(m.payload) for m in bus.log]
    assert republished[0]["state"] == "online" and bus.log[0].topic == topics.server_status(HALL)
    assert [e["event_id"] for e in republished[1:]] == [new_state, queue_state, recent_call]
    assert old_state not in sent_ids(bus) and old_call not in sent_ids(bus)
    # Device statuses belong to the devices (their wills): a stale "online" is never republished.
    assert not [m for m in bus.log if "/device/" in m.topic]


def test_clean_stop_publishes_stopped(db, bus, clock):
    messenger = MemoryMessenger(bus)
    messenger.start()
    p = OutboxPublisher(db, messenger, HALL, clock=clock)
    p.start()
    wait_until(lambda: bus.log, 10, "online")
    p.stop()
    states = [json.loads(m.payload)["state"] for m in bus.log if m.topic == topics.server_status(HALL)]
    assert states == ["online", "stopped"]


def test_old_delivered_rows_are_pruned_but_the_latest_state_of_each_topic_is_kept(db, bus, clock):
    put(db, clock, topics.window_state(HALL, "01"), True, window="01", state="open")
    latest = put(db, clock, topics.window_state(HALL, "01"), True, window="01", state="closed")
    put(db, clock, topics.call(HALL), False, ticket="A001")
    messenger = MemoryMessenger(bus)
    messenger.start()
    p = OutboxPublisher(db, messenger, HALL, clock=clock, keep_days=7)
    p.start()
    wait_until(lambda: undelivered(db) == 0, 10, "delivery")
    p.stop()
    clock.advance(timedelta(days=8).total_seconds())
    p2 = OutboxPublisher(db, messenger, HALL, clock=clock, keep_days=7)
    p2.start()
    wait_until(lambda: _count(db) == 1, 10, "the prune")
    p2.stop()
    with db.read() as s:
        kept = s.scalar(select(Outbox.payload))
    assert json.loads(kept)["event_id"] == latest


def _count(db) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(Outbox))


@pytest.mark.mosquitto
def test_a_broker_that_silently_drops_the_servers_messages_is_reported(db, clock, mosquitto_factory, messenger_factory, caplog):
    # The ACL was rendered for another hall id: Mosquitto acknowledges every publish and drops it.
    broker = mosquitto_factory("hall", hall="another-hall")
    messenger = messenger_factory(broker, "yizhan-server")
    p = OutboxPublisher(db, messenger, HALL, clock=clock, poll_interval=0.1, echo_timeout=0.5)
    p.start()
    try:
        wait_until(lambda: p.echo_failed, 10, "the echo check to fail")
    finally:
        p.stop()
    assert any("check that its ACL grants yizhan/testhall/#" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")


@pytest.mark.mosquitto
def test_the_echo_check_passes_on_a_correct_acl(db, clock, mosquitto_factory, messenger_factory):
    broker = mosquitto_factory("hall", hall=HALL)
    messenger = messenger_factory(broker, "yizhan-server")
    p = OutboxPublisher(db, messenger, HALL, clock=clock, poll_interval=0.1, echo_timeout=0.5)
    p.start()
    try:
        wait_until(lambda: p.echoes == 1, 10, "the echo")
        assert not p.echo_failed
    finally:
        p.stop()


@pytest.mark.mosquitto
def test_two_servers_on_one_database_one_publishes_the_other_takes_over(db, clock, mosquitto_factory, messenger_factory, tmp_path):
    from queue_server.publisher import MessagingRuntime
    from yizhan.settings import load_settings

    broker = mosquitto_factory("hall", hall=HALL)
    watcher = messenger_factory(broker, "yizhan-wechat")
    calls = []
    watcher.subscribe(topics.call(HALL), lambda m: calls.append(json.loads(m.payload)["event_id"]))
    settings = load_settings({"YIZHAN_STATE_DIR": str(tmp_path),
                              "YIZHAN_MQTT_URL": f"mqtt://yizhan-server:server-secret@127.0.0.1:{broker.port}"})
    first = MessagingRuntime(settings, db, HALL, clock, standby_interval=0.1).start()
    second = MessagingRuntime(settings, db, HALL, clock, standby_interval=0.1).start()
    try:
        assert first.active and not second.active and not second.messenger.connected
        a = put(db, clock, topics.call(HALL), False, ticket="A001")
        wait_until(lambda: a in calls, 10, "the first server's delivery")
        first.stop()
        wait_until(lambda: second.active, 10, "the standby to take over")
        b = put(db, clock, topics.call(HALL), False, ticket="A002")
        wait_until(lambda: b in calls, 10, "the second server's delivery")
    finally:
        first.stop()
        second.stop()


@pytest.fixture
def pg_db(postgres):
    database = Database(postgres.create_database(f"pub_{uuid.uuid4().hex[:8]}"))
    upgrade(database.engine)
    yield database
    database.dispose()


@pytest.mark.postgres
def test_postgres_a_transaction_committing_after_a_later_one_is_still_delivered(pg_db, bus, clock):
    messenger = MemoryMessenger(bus)
    messenger.start()
    p = OutboxPublisher(pg_db, messenger, HALL, clock=clock, poll_interval=0.1)
    p.start()
    try:
        slow = Session(pg_db.engine)  # a transaction that takes its id first and commits last
        slow.begin()
        slow.add(Outbox(topic=topics.call(HALL), payload=json.dumps({"event_id": "slow", "hall": HALL, "at": "x"}),
                        retain=False, created_at=clock.now()))
        slow.flush()
        fast = put(pg_db, clock, topics.call(HALL), False, ticket="A002")
        wait_until(lambda: fast in sent_ids(bus, topics.call(HALL)), 10, "the later transaction's row")
        slow.commit()
        slow.close()
        wait_until(lambda: "slow" in sent_ids(bus, topics.call(HALL)), 10, "the row committed last")
        wait_until(lambda: undelivered(pg_db) == 0, 10, "every row marked delivered")
    finally:
        p.stop()


@pytest.mark.postgres
@pytest.mark.mosquitto
def test_postgres_only_one_server_publishes(pg_db, clock, mosquitto_factory, tmp_path):
    from queue_server.publisher import MessagingRuntime
    from yizhan.settings import load_settings

    broker = mosquitto_factory("hall", hall=HALL)
    settings = load_settings({"YIZHAN_STATE_DIR": str(tmp_path),
                              "YIZHAN_MQTT_URL": f"mqtt://yizhan-server:server-secret@127.0.0.1:{broker.port}"})
    first = MessagingRuntime(settings, pg_db, HALL, clock, standby_interval=0.1).start()
    second = MessagingRuntime(settings, pg_db, HALL, clock, standby_interval=0.1).start()
    try:
        assert first.active and not second.active
        first.stop()
        wait_until(lambda: second.active and second.messenger.connected, 10, "the standby to take over")
    finally:
        first.stop()
        second.stop()


@pytest.mark.postgres
@pytest.mark.mosquitto
def test_postgres_a_server_that_loses_its_lock_stops_publishing(pg_db, clock, mosquitto_factory, tmp_path):
    from sqlalchemy import text

    from queue_server.publisher import MessagingRuntime
    from yizhan.settings import load_settings

    broker = mosquitto_factory("hall", hall=HALL)
    settings = load_settings({"YIZHAN_STATE_DIR": str(tmp_path),
                              "YIZHAN_MQTT_URL": f"mqtt://yizhan-server:server-secret@127.0.0.1:{broker.port}"})
    first = MessagingRuntime(settings, pg_db, HALL, clock, standby_interval=0.1).start()
    second = MessagingRuntime(settings, pg_db, HALL, clock, standby_interval=0.1).start()
    try:
        assert first.active and not second.active
        # As when PostgreSQL restarts: the session holding the advisory lock is gone.
        with pg_db.engine.connect() as c:
            c.execute(text("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"))
            c.commit()
        wait_until(lambda: not first.active and second.active, 10, "the first to step down and the second to take over")
    finally:
        first.stop()
        second.stop()
