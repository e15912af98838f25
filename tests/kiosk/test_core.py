"""The kiosk's core without any window: flows, retries, idle timeout, personal data."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from kiosk.core.api import ApiClient, NotAuthorised, Refused, ServerUnreachable
from kiosk.core.catalogue import Catalogue
from kiosk.core.kiosk import Devices, KioskCore
from kiosk.core.runtime import QueuePost, Timers
from kiosk.core.views import Purpose, Screen
from kiosk.devices.base import CardType, Identity
from yizhan.clock import ManualClock
from yizhan.config import load_config
from yizhan.privacy import id_hash

HALL_DIR = Path(__file__).parent / "hall"
NOW = "2026-11-23T09:30:00+08:00"  # as in conftest.py: inside the test hall's morning hours

KEY = b"core-test-key"


@pytest.fixture(scope="module")
def config():
    return load_config(HALL_DIR)


def make_core(config, url: str, token: str | None, devices: Devices | None = None) -> tuple[KioskCore, QueuePost, ManualClock]:
    post = QueuePost()
    clock = ManualClock(datetime.fromisoformat(NOW))
    core = KioskCore(
        catalogue=Catalogue(config),
        api=ApiClient(url, token, timeout=5),
        devices=devices or Devices(),
        clock=clock,
        post=post,
        kiosk_id="kiosk-1",
        id_hash_key=KEY,
        background=False,
    )
    return core, post, clock


def settle(post: QueuePost, cond, timeout: float = 15.0) -> None:
    """Runs posted callbacks until `cond()` holds (each drain waits for the next one)."""
    import time

    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        post.drain(timeout=0.2)


def test_catalogue_groups_services_into_life_event_tiles(config):
    cat = Catalogue(config)
    assert [t.name for t in cat.tiles] == ["社保医保", "户籍身份证", "不动产", "税务"]
    assert [s.code for s in cat.tile_services(cat.tiles[0].key)] == ["SB001", "SB002"]
    assert [s.code for s in cat.common_services()] == ["SB001", "SB002", "HJ001", "BDC01"]
    assert cat.windows_for_service("SB001") == ["1号窗口", "2号窗口", "5号窗口"]


def test_identity_sent_to_the_server_is_hashed_and_masked(config):
    core, _, _ = make_core(config, "http://127.0.0.1:9", None)
    person = Identity(CardType.RESIDENT, name="张三丰", id_number="11010519491231002X", birth_date=date(1949, 12, 31))
    body = core.identity_payload(person)
    assert body == {
        "id_hash": id_hash("11010519491231002X", KEY),
        "masked_id": "1101**********002X",
        "masked_name": "张**",
        "card_type": "resident",
        "age": 76,
    }
    assert "张三丰" not in repr(body) and "11010519491231002X" not in repr(body)


def test_elder_mode_shows_fewer_services_and_waits_longer(config):
    core, _, _ = make_core(config, "http://127.0.0.1:9", None)
    core.open_services(Purpose.TAKE)
    core.show_all_services()
    codes, page, pages = core.service_page()
    assert (len(codes), pages) == (5, 1)
    core.set_elder(True)
    codes, page, pages = core.service_page()
    assert (len(codes), pages) == (4, 2)
    assert core.idle_timeout_s > core.timing.idle_s


def test_timers_follow_the_hall_clock():
    clock = ManualClock(datetime.fromisoformat(NOW))
    timers = Timers(clock)
    fired = []
    timers.after(5, lambda: fired.append("a"))
    t = timers.after(3, lambda: fired.append("b"))
    Timers.cancel(t)
    timers.fire_due()
    assert fired == []
    clock.advance(5)
    timers.fire_due()
    assert fired == ["a"]


def test_retries_reuse_the_idempotency_key_so_one_ticket_is_issued(config, server, refused_url):
    token = server.token("kiosk", "kiosk-1")
    core, post, clock = make_core(config, refused_url, token)
    core.open_services(Purpose.TAKE)
    core.take_number("SB002")
    settle(post, lambda: core.issuing_view is not None and core.issuing_view.phase == "retrying")
    assert core.banner() == ("error", "kiosk.banner.offline")
    key = core._attempt.key
    # The network comes back: the same attempt, the same key, against the real server.
    core.api = ApiClient(server.url, token)
    clock.advance(5)
    core.tick()
    settle(post, lambda: core.screen is Screen.TICKET)
    assert core.ticket_view.number == "A001"
    assert server.issued("A") == 1
    # Replaying that key (a retry whose answer was lost) gives the same ticket back.
    again = ApiClient(server.url, token).take_ticket("SB002", key)
    assert again["number"] == "A001" and server.issued("A") == 1
    assert core.banner() == ("warn", "kiosk.banner.printer")  # this kiosk has no printer at all
    assert core.ticket_view.printed is False and core.ticket_view.print_error_key == "printer.absent"


def test_refusals_and_a_wrong_token_are_told_apart(config, server, refused_url):
    api = ApiClient(server.url, server.token("kiosk", "kiosk-1"))
    with pytest.raises(Refused) as refused:
        api.take_ticket("BDC01", "k" * 16)
    assert refused.value.code == "queue_closed" and "13:30" in refused.value.message
    with pytest.raises(NotAuthorised):
        ApiClient(server.url, "yz_not-a-token").take_ticket("SB002", "k" * 16)
    with pytest.raises(ServerUnreachable):
        ApiClient(refused_url, None, timeout=1).health()


def test_idle_timeout_clears_what_the_citizen_entered(config):
    core, post, clock = make_core(config, "http://127.0.0.1:9", None)
    core.start_progress()
    core.progress_by_number()
    for k in "123456":
        core.key_press(k)
    clock.advance(core.idle_timeout_s - 1)
    core.tick()
    assert core.screen is Screen.PROGRESS and core.progress_view.digits == "123456"
    clock.advance(2)
    core.tick()
    assert core.screen is Screen.HOME and core.progress_view is None


def test_an_overdue_case_is_marked(config):
    core, _, _ = make_core(config, "http://127.0.0.1:9", None)
    row = core._case_row({"case_number": "QL2026001", "service": "HJ001", "status": "processing",
                          "accepted_at": "2026-10-20T09:00:00+08:00", "deadline": "2026-11-17"})
    assert row.overdue and row.status == "overdue" and row.service_name == "居民身份证换领"
    done = core._case_row({"case_number": "QL2026002", "service": "HJ001", "status": "done", "deadline": "2026-11-17"})
    assert not done.overdue and done.status == "done"


def test_every_device_fault_has_words_for_the_citizen():
    import kiosk.devices.base as base
    from yizhan.i18n import catalogue

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    keys = {cls.message_key for cls in subclasses(base.DeviceError)} | {base.DeviceError.message_key}
    for lang in ("zh_CN", "en"):
        missing = sorted(k for k in keys if "kiosk.fault." + k not in catalogue(lang))
        assert missing == [], f"{lang}: no kiosk.fault text for {missing}"
