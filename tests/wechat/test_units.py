"""The pure parts of WeChat support, and the bindings store on a real database with a
manual clock (end of day)."""

from __future__ import annotations

import hashlib
from datetime import datetime

import httpx
import pytest

from tests.wechat.conftest import HALL_DIR
from tests.wechat.fake_wechat import APP_ID, APP_SECRET, FakeWeChat, value_problem
from wechat_bridge.notices import Notice, fit, message, notice_for, still_true
from yizhan.clock import ManualClock
from yizhan.config import load_config
from queue_server.db.engine import Database
from queue_server.db.migrate import upgrade
from queue_server.domain.model import WindowState
from queue_server.service import Actor, HallService, IdentityIn
from queue_server.wechat.api import AccessTokens
from queue_server.wechat.messages import BadMessage, parse
from queue_server.wechat.signature import ReplayGuard, signature, signature_ok
from queue_server.wechat.store import WechatStore

CFG = load_config(HALL_DIR)
WX = CFG.wechat


def test_field_limits_are_kept():
    assert len(fit("thing4", "不动产登记与税务综合受理一体化服务窗口（二楼东侧）")) == 20
    assert fit("thing4", "不动产登记与税务综合受理一体化服务窗口（二楼东侧）").endswith("…")
    assert fit("thing5", "第一行\n第二行") == "第一行 第二行"
    assert fit("phrase2", "请到窗口办理手续") == "请到窗口办"
    assert fit("phrase2", "A区叫号") == "区叫号"
    assert fit("number3", "前面 12 人") == "12"
    assert fit("character_string1", "A012号") == "A012"
    for key, value in (("thing4", "x" * 50), ("phrase2", "即将叫号了请您"), ("number3", "abc"), ("character_string1", "号" * 40)):
        assert value_problem(key, fit(key, value)) is None


def test_notices_fire_at_thresholds_once_per_kind():
    assert notice_for({"type": "ahead", "ahead": 5}, WX) is None
    assert notice_for({"type": "ahead", "ahead": 4}, WX) is None
    assert notice_for({"type": "ahead", "ahead": 3}, WX) == Notice("ahead:3", 3)
    assert notice_for({"type": "ahead", "ahead": 2}, WX) == Notice("ahead:3", 2)
    assert notice_for({"type": "ahead", "ahead": 1}, WX) == Notice("ahead:1", 1)
    assert notice_for({"type": "ahead", "ahead": 0}, WX) == Notice("ahead:1", 0)
    assert notice_for({"type": "called", "recall": 0}, WX) == Notice("called")
    assert notice_for({"type": "called", "recall": 1}, WX) is None  # a recall repeats nothing
    assert notice_for({"type": "skipped"}, WX) == Notice("skipped")
    assert notice_for({"type": "done"}, WX) is None
    assert notice_for({"type": "skipped"}, WX.model_copy(update={"notify_skipped": False})) is None
    # a notice overtaken by the ticket's state is not sent
    assert not still_true(Notice("ahead:1", 1), "called")
    assert still_true(Notice("called"), "serving")


def test_message_shape_and_lengths():
    ticket = {"number": "A0012", "queue_name": "不动产登记与税务综合受理（含交易、抵押、查封登记）", "window_name": "5号窗口"}
    event = {"type": "called", "at": "2026-11-23T09:41:07.000+08:00", "window_name": "不动产登记与税务综合受理一体化服务窗口（二楼东侧）"}
    path, body = message(WX, Notice("called"), event, ticket, "oOPENID", "https://zwfw.example.gov.cn/t/tok", 7)
    assert path == "/cgi-bin/message/template/send"
    assert set(body) == {"touser", "template_id", "url", "client_msg_id", "data"}
    assert body["client_msg_id"] == "yz-7"
    assert set(body["data"]) == set(WX.template.fields.values())
    for key, item in body["data"].items():
        assert value_problem(key, item["value"]) is None, (key, item)


def test_signature_and_replays():
    expected = hashlib.sha1("".join(sorted(["tok", "1700000000", "nonce1"])).encode()).hexdigest()
    assert signature("tok", "1700000000", "nonce1") == expected
    assert signature_ok("tok", "1700000000", "nonce1", expected.upper())
    assert not signature_ok("tok", "1700000001", "nonce1", expected)
    guard = ReplayGuard(window_s=300)
    assert guard.check("1700000000", "n1", now=1700000010) is None
    assert guard.check("1700000000", "n1", now=1700000011) == "replay"
    assert guard.check("1700000000", "n2", now=1700000011) is None
    assert guard.check("1699999000", "n3", now=1700000011) == "stale"
    assert guard.check("soon", "n4", now=1700000011) == "bad_timestamp"


def test_messages_parse_and_refuse_entities():
    msg = parse(b"<xml><ToUserName>gh_1</ToUserName><FromUserName>oABC</FromUserName><CreateTime>1</CreateTime>"
                b"<MsgType>event</MsgType><Event>subscribe</Event><EventKey>qrscene_TOKEN123</EventKey></xml>")
    assert msg.scene() == "TOKEN123"
    scan = parse(b"<xml><FromUserName>oABC</FromUserName><MsgType>event</MsgType><Event>SCAN</Event><EventKey>TOKEN123</EventKey></xml>")
    assert scan.scene() == "TOKEN123"
    plain = parse(b"<xml><FromUserName>oABC</FromUserName><MsgType>event</MsgType><Event>subscribe</Event><EventKey></EventKey></xml>")
    assert plain.scene() is None
    assert parse(b"<xml><FromUserName>o</FromUserName><MsgType>event</MsgType><Event>unsubscribe</Event></xml>").wants_unbind()
    assert parse("<xml><FromUserName>o</FromUserName><MsgType>text</MsgType><Content>取消提醒</Content></xml>".encode()).wants_unbind()
    with pytest.raises(BadMessage):
        parse(b'<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><FromUserName>&a;</FromUserName><MsgType>text</MsgType></xml>')
    with pytest.raises(BadMessage):
        parse(b"not xml")


def test_access_token_is_cached_and_refreshed_before_expiry():
    fake = FakeWeChat().start()
    try:
        now = [1000.0]
        tokens = AccessTokens(httpx.Client(), fake.url, APP_ID, APP_SECRET, margin_s=300, monotonic=lambda: now[0])
        first, left = tokens.get()
        assert left == 7200 and tokens.get()[0] == first and fake.token_fetches == 1
        now[0] += 7200 - 301
        assert tokens.get()[0] == first
        now[0] += 2  # inside the margin: renewed before WeChat would refuse it
        second, _ = tokens.get()
        assert second != first and fake.token_fetches == 2
        assert tokens.get(stale=first)[0] == second  # someone reports an old token: nothing to do
        third, _ = tokens.get(stale=second)
        assert third != second and fake.token_fetches == 3
        # a call that meets an expired token renews it once and succeeds
        fake.expire_tokens()
        data = tokens.call("POST", "/cgi-bin/qrcode/create",
                           json={"expire_seconds": 3600, "action_name": "QR_STR_SCENE", "action_info": {"scene": {"scene_str": "tok"}}})
        assert data["url"].startswith("http://weixin.qq.com/q/") and fake.token_fetches == 4
        assert fake.problems == []
    finally:
        fake.stop()


@pytest.fixture
def store(tmp_path):
    clock = ManualClock(datetime.fromisoformat("2026-11-23T09:30:00+08:00"))
    db = Database(f"sqlite:///{tmp_path / 'hall.db'}")
    upgrade(db.engine)
    svc = HallService(CFG, db, clock)
    svc.ensure_windows()
    yield WechatStore(svc), svc, clock
    db.dispose()


def test_bindings_claims_and_end_of_day(store):
    st, svc, clock = store
    ticket, *_ = svc.issue_ticket("SB001", "unit-0001", None)
    assert st.bind(ticket.token, "oAAA").outcome == "bound"
    assert st.bind(ticket.token, "oAAA").outcome == "already"
    assert st.bind("no-such-token", "oAAA").outcome == "unknown"
    assert st.bind(ticket.token, "oBBB").outcome == "bound"
    _, first, exhausted = st.claim(ticket.token, "ahead:3", quota=100)
    assert sorted(c.openid for c in first) == ["oAAA", "oBBB"] and not exhausted
    assert st.claim(ticket.token, "ahead:3", quota=100)[1] == []  # never twice
    # WeChat says oBBB unfollowed: the notice does not count and oBBB is unbound
    st.failed(next(c.id for c in first if c.openid == "oBBB"), 43004)
    assert st.followers(ticket.token) == ["oAAA"]
    # the daily quota stops claims
    assert st.claim(ticket.token, "ahead:1", quota=1)[2] is True
    # a follower stops notices
    assert st.unbind("oAAA") == 1 and st.followers(ticket.token) == []
    # skipped, back in line and called again: the second call is a new notice
    st.bind(ticket.token, "oDDD")
    clerk = Actor("clerk", "clerk05", "05")
    svc.set_window_state("05", WindowState.OPEN, clerk)
    assert svc.call_next("05", clerk)[0].id == ticket.id
    assert [c.openid for c in st.claim(ticket.token, "called", quota=100)[1]] == ["oDDD"]
    svc.skip("05", clerk)
    assert [c.openid for c in st.claim(ticket.token, "skipped", quota=100)[1]] == ["oDDD"]
    svc.rejoin(ticket.id, clerk)
    svc.call_next("05", clerk)
    assert [c.openid for c in st.claim(ticket.token, "called", quota=100)[1]] == ["oDDD"]
    assert st.claim(ticket.token, "called", quota=100)[1] == []
    # a late copy of the first call's event (its time is before the skip) belongs to the first round: nothing
    first_call_at = datetime.fromisoformat("2026-11-23T09:30:00+08:00")
    assert st.claim(ticket.token, "called", quota=100, at=first_call_at)[1] == []
    # a notice that is no longer true is not claimed at all
    assert st.claim(ticket.token, "ahead:1", quota=100)[1] == []
    # next day: the token no longer binds, and yesterday's bindings and notices are deleted
    clock.advance(days=1)
    assert st.bind(ticket.token, "oCCC").outcome == "expired"
    assert st.purge() == (3, 4)
    assert st.purge() == (0, 0)


def test_phone_page_token_expires_with_its_day(store):
    from fastapi.testclient import TestClient

    from queue_server.api.app import create_app

    _, svc, clock = store
    ticket, *_ = svc.issue_ticket("SB001", "unit-0002", IdentityIn(id_hash="a" * 64, masked_id="6201**********1234", masked_name="张*"))
    client = TestClient(create_app(CFG, svc.db, clock))
    page = client.get(f"/t/{ticket.token}")
    assert page.status_code == 200 and ticket.number in page.text
    assert "张" not in page.text and "1234" not in page.text  # nothing personal
    assert page.headers["cache-control"] == "no-store"
    clock.advance(days=1)
    gone = client.get(f"/t/{ticket.token}")
    assert gone.status_code == 410 and "号票已过期" in gone.text
    assert client.get("/t/unknown-token-xyz").status_code == 404


def test_subscribe_notification_shape():
    cfg = WX.model_copy(update={"message": "subscribe"})
    ticket = {"number": "B003", "queue_name": "户籍证件", "window_name": "12号窗口"}
    path, body = message(cfg, Notice("ahead:1", 0), {"type": "ahead", "ahead": 0, "at": "2026-11-23T10:02:00+08:00"},
                         ticket, "oOPENID", "https://zwfw.example.gov.cn/t/tok", 9)
    assert path == "/cgi-bin/message/subscribe/bizsend"
    assert set(body) == {"touser", "template_id", "page", "data"}
    assert body["data"]["thing5"]["value"] == "下一位就是您，请回大厅"
