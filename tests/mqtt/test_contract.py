"""The MQTT contract: docs/mqtt.md lists exactly the topics the code publishes, with the
documented retained flags and payload fields (yizhan/messaging/topics.py is the one source
of topic names)."""

from __future__ import annotations

import inspect
import json
import re
import uuid
from datetime import datetime

import pytest

from tests.fixtures_hall import MONDAY_0930, ROOT, small_hall
from tests.fixtures_mqtt import wait_until
from yizhan.clock import ManualClock
from yizhan.config.model import HallConfig
from yizhan.messaging import topics
from yizhan.messaging.dedup import decode_event
from yizhan.messaging.memory import MemoryBus, MemoryMessenger
from queue_server.db.engine import Database
from queue_server.db.migrate import upgrade
from queue_server.domain.model import WindowState
from queue_server.publisher import OutboxPublisher
from queue_server.service import Actor, HallService

DOC = ROOT / "docs" / "mqtt.md"


def documented() -> dict[str, bool]:
    """`yizhan/<hall>/…` pattern → retained, from the table under '## Topics'."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Topics", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\|\s*`(yizhan/[^`]+)`\s*\|\s*(yes|no)\s*\|", section, re.M)
    assert rows, "no topic table in docs/mqtt.md"
    return {topic: flag == "yes" for topic, flag in rows}


def code_topics() -> set[str]:
    """Every topic function of topics.py called with `<param>` placeholders; filters and the prefix left out."""
    out = set()
    for name, fn in inspect.getmembers(topics, inspect.isfunction):
        if fn.__module__ != topics.__name__ or name == "prefix":
            continue
        params = inspect.signature(fn).parameters
        topic = fn(*(f"<{p}>" for p in params))
        if "+" not in topic and "#" not in topic:
            out.add(topic)
    return out


def pattern_of(topic: str, hall: str) -> str | None:
    for doc_topic in documented():
        rx = "^" + re.sub(r"<[a-z_]+>", "[^/]+", doc_topic.replace("<hall>", hall)) + "$"
        if re.match(rx, topic):
            return doc_topic
    return None


def test_docs_list_exactly_the_topics_of_topics_py():
    assert set(documented()) == code_topics()


def test_no_code_builds_hall_topics_by_hand():
    """Topic strings come from topics.py only, so the contract above covers every publisher."""
    offenders = []
    for package in ("yizhan", "queue_server", "kiosk", "display_board", "wechat_bridge"):
        for path in (ROOT / package).rglob("*.py"):
            if path == ROOT / "yizhan" / "messaging" / "topics.py":
                continue
            text = path.read_text(encoding="utf-8")
            for m in re.finditer(r"""\.publish\(\s*f?["']yizhan/""", text):
                offenders.append(f"{path.relative_to(ROOT)}:{text[: m.start()].count(chr(10)) + 1}")
    assert not offenders


@pytest.fixture
def hall(tmp_path):
    cfg = HallConfig.model_validate(small_hall(windows=3))
    db = Database(f"sqlite:///{tmp_path / 'hall.db'}")
    upgrade(db.engine)
    clock = ManualClock(datetime.fromisoformat(MONDAY_0930))
    svc = HallService(cfg, db, clock)
    svc.ensure_windows()
    bus = MemoryBus()
    publisher = OutboxPublisher(db, MemoryMessenger(bus), cfg.hall.id, clock=clock)
    publisher.messenger.start()
    publisher.start()
    yield cfg, db, svc, bus, publisher
    publisher.stop()
    db.dispose()


def test_a_working_day_publishes_exactly_the_documented_topics(hall):
    cfg, db, svc, bus, publisher = hall
    hall_id = cfg.hall.id
    clerk = {w: Actor("clerk", f"clerk{w}", w) for w in ("01", "02", "03")}
    tickets = [svc.issue_ticket("RS01", uuid.uuid4().hex, None)[0] for _ in range(8)]
    for w in ("01", "02", "03"):
        svc.set_window_state(w, WindowState.OPEN, clerk[w])
    svc.call_next("01", clerk["01"])
    svc.recall("01", clerk["01"])
    svc.finish("01", clerk["01"])
    svc.call_next("02", clerk["02"])
    svc.skip("02", clerk["02"])
    svc.call_next("03", clerk["03"])
    svc.transfer("03", clerk["03"], "A")
    svc.cancel(tickets[-1].id, Actor("kiosk", "kiosk-1"))
    svc.set_window_state("02", WindowState.PAUSED, clerk["02"])
    svc.device_status("kiosk-1", "kiosk", "online", {"printer": {"ok": True, "detail": ""}})
    publisher.notify()
    wait_until(lambda: publisher.delivered and _undelivered(db) == 0, 10, "the outbox to drain")

    seen: dict[str, set[bool]] = {}
    for msg in bus.log:
        doc_topic = pattern_of(msg.topic, hall_id)
        assert doc_topic is not None, f"undocumented topic {msg.topic}"
        seen.setdefault(doc_topic, set()).add(msg.retain)
        event = decode_event(msg, hall=hall_id)
        assert event is not None, f"payload on {msg.topic} does not match docs/mqtt.md: {msg.payload[:200]!r}"
        assert not {"id_number", "id_hash", "masked_id"} & set(event)  # PIPL: nothing identifying on the bus
    assert set(seen) == set(documented())  # every documented topic is really published
    for doc_topic, flags in seen.items():
        assert flags == {documented()[doc_topic]}, f"{doc_topic} retained flags {flags}"
    types = {json.loads(m.payload)["type"] for m in bus.log if "/ticket/" in m.topic}
    assert {"ahead", "called", "skipped", "done", "transferred", "cancelled"} <= types


def _undelivered(db: Database) -> int:
    from sqlalchemy import func, select

    from queue_server.db.tables import Outbox

    with db.read() as s:
        return s.scalar(select(func.count()).select_from(Outbox).where(Outbox.delivered_at.is_(None)))
