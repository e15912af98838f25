"""The WeChat bridge and the server's callback, end to end: a real Mosquitto, a real
`yizhan server` and `yizhan wechat` processes, and the fake WeChat API (tests/wechat/fake_wechat.py)
that refuses anything the real one would."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.fixtures_mqtt import Collector, wait_until
from tests.wechat.conftest import CALLBACK_TOKEN, HALL_ID
from tests.wechat.fake_wechat import event_xml, sign_params, text_xml
from yizhan.messaging import topics

pytestmark = pytest.mark.mosquitto

STATUS, AHEAD, WINDOW, NOTE = "phrase2", "number3", "thing4", "thing5"


def openid() -> str:
    return "o" + uuid.uuid4().hex[:27]


def bridge_ready(hall, fake, bridge) -> None:
    """The bridge has reported itself online (bridge_factory waits for it), so it is subscribed:
    the very first call after that reaches its follower — a follower of a queue-B ticket called
    at window 12."""
    hall.clerk("12", "open")
    follower = openid()
    ticket = hall.issue("HJ001")
    assert "已为您关注" in hall.scan(follower, ticket["token"]).text
    hall.clerk("12", "call-next")
    try:
        fake.wait_for(lambda f: f.for_openid(follower), timeout=30, what="the bridge's first notice")
    except AssertionError:
        raise AssertionError(f"the bridge sent nothing:\n{bridge.text()[-3000:]}\nserver:\n{hall.server.log.read_text()[-3000:]}") from None
    hall.clerk("12", "finish")


def summary(fake, who: str) -> list[tuple[str, str, str]]:
    return [(m.value(STATUS), m.value(AHEAD), m.value(WINDOW)) for m in fake.for_openid(who)]


def test_signed_scan_binds_and_the_follower_is_notified(hall, fake_wechat, bridge_factory):
    bridge = bridge_factory("--backoff", "0.05")
    bridge_ready(hall, fake_wechat, bridge)
    ticket = hall.issue()
    follower = openid()
    r = hall.scan(follower, ticket["token"], subscribe=True)  # a new follower: subscribe with qrscene_<token>
    assert r.status_code == 200
    assert f"已为您关注 {ticket['number']} 号" in r.text and "<MsgType><![CDATA[text]]></MsgType>" in r.text
    assert f"<ToUserName><![CDATA[{follower}]]></ToUserName>" in r.text

    hall.clerk("05", "open")
    hall.clerk("05", "call-next")
    fake_wechat.wait_for(lambda f: any(s[0] == "请到窗口" for s in summary(f, follower)), what="the call notice")
    called = [m for m in fake_wechat.for_openid(follower) if m.value(STATUS) == "请到窗口"][0]
    assert called.value("character_string1") == ticket["number"]
    assert called.value(WINDOW) == "5号窗口"
    assert called.body["url"].endswith(f"/t/{ticket['token']}")
    assert fake_wechat.problems == []


def test_ticket_follow_qr_is_a_parametric_code_until_closing(hall, fake_wechat):
    ticket = hall.issue()
    r = hall.http.get(f"{hall.url}/api/v1/tickets/{ticket['id']}/wechat-qr", headers={"Authorization": f"Bearer {hall.kiosk}"})
    assert r.status_code == 200, r.text
    assert r.json()["url"].startswith("http://weixin.qq.com/q/")
    assert r.json()["expires_at"].startswith("2026-11-23T17:30:00")
    [qr] = fake_wechat.qrcodes
    assert qr["scene"] == ticket["token"]
    # issued at 09:30 (plus the seconds the test took): 8 h to closing at 17:30, plus 30 min of grace
    assert 8 * 3600 < qr["expire_seconds"] <= 8.5 * 3600
    # asked again (the kiosk reprints): the same code, WeChat is not asked twice
    again = hall.http.get(f"{hall.url}/api/v1/tickets/{ticket['id']}/wechat-qr", headers={"Authorization": f"Bearer {hall.kiosk}"})
    assert again.json()["url"] == r.json()["url"] and len(fake_wechat.qrcodes) == 1
    assert hall.http.get(f"{hall.url}/api/v1/tickets/{ticket['id']}/wechat-qr").status_code == 401
    assert fake_wechat.problems == []


def test_bad_signature_replay_and_unknown_ticket_are_refused(hall, fake_wechat):
    ticket = hall.issue()
    intruder = openid()
    body = event_xml(intruder, "SCAN", ticket["token"])
    good = sign_params(CALLBACK_TOKEN)
    bad = dict(good, signature="0" * 40)
    r = hall.callback(body, bad)
    assert r.status_code == 403 and r.json()["code"] == "bad_signature"
    wrong_key = sign_params("not-the-token")
    assert hall.callback(body, wrong_key).status_code == 403
    # the same signed request played again is refused
    assert hall.callback(body, good).status_code == 200
    replay = hall.callback(body, good)
    assert replay.status_code == 403 and replay.json()["code"] == "replayed"
    # a signature made long ago is refused even with a fresh nonce
    assert hall.callback(body, sign_params(CALLBACK_TOKEN, timestamp=1_700_000_000)).status_code == 403
    # an unknown ticket binds nothing and says so
    r = hall.callback(event_xml(intruder, "SCAN", "no-such-ticket-token"))
    assert r.status_code == 200 and "号票已失效" in r.text
    # WeChat's server-address check echoes echostr only when signed
    v = sign_params(CALLBACK_TOKEN)
    assert hall.http.get(f"{hall.url}/wechat/callback", params=v | {"echostr": "e-123"}).text == "e-123"
    assert hall.http.get(f"{hall.url}/wechat/callback", params=v | {"signature": "1" * 40, "echostr": "x"}).status_code == 403


def test_notices_at_thresholds_and_on_call_in_order(hall, fake_wechat, bridge_factory):
    bridge = bridge_factory("--backoff", "0.05")
    bridge_ready(hall, fake_wechat, bridge)
    tickets = [hall.issue() for _ in range(6)]
    mine = tickets[-1]  # five ahead
    follower = openid()
    assert hall.scan(follower, mine["token"]).status_code == 200
    hall.clerk("05", "open")
    for _ in range(5):  # 4, 3, 2, 1, 0 ahead
        hall.clerk("05", "call-next")
        hall.clerk("05", "finish")
    fake_wechat.wait_for(lambda f: len(f.for_openid(follower)) >= 2, what="two 'ahead' notices")
    hall.clerk("05", "call-next")  # my number
    fake_wechat.wait_for(lambda f: len(f.for_openid(follower)) >= 3, what="the call notice")
    assert summary(fake_wechat, follower) == [("即将叫号", "3", "社保医保"), ("即将叫号", "1", "社保医保"), ("请到窗口", "0", "5号窗口")]
    notes = [m.value(NOTE) for m in fake_wechat.for_openid(follower)]
    assert notes == ["前面还有3人，请回大厅候叫", "前面还有1人，请回大厅候叫", "请带好材料前往5号窗口"]
    assert all(len(n) <= 20 for n in notes)
    # a skip is a notice too
    hall.clerk("05", "skip")
    fake_wechat.wait_for(lambda f: len(f.for_openid(follower)) >= 4, what="the skip notice")
    assert summary(fake_wechat, follower)[-1][0] == "已过号"
    assert fake_wechat.problems == []
    # the follower stops notices by replying 取消提醒
    r = hall.callback(text_xml(follower, "取消提醒"))
    assert "已停止" in r.text


def test_expired_access_token_is_refreshed(hall, fake_wechat, bridge_factory):
    bridge = bridge_factory("--backoff", "0.05")
    bridge_ready(hall, fake_wechat, bridge)
    fetched = fake_wechat.token_fetches
    ticket = hall.issue()
    follower = openid()
    hall.scan(follower, ticket["token"])
    fake_wechat.expire_tokens()
    hall.clerk("05", "open")
    hall.clerk("05", "call-next")
    fake_wechat.wait_for(lambda f: any(s[0] == "请到窗口" for s in summary(f, follower)), what="the call notice after the token expired")
    assert (follower, 42001) in fake_wechat.attempts  # WeChat said "expired" once …
    assert fake_wechat.token_fetches == fetched + 1  # … and exactly one new token was fetched
    assert [s[0] for s in summary(fake_wechat, follower)].count("请到窗口") == 1
    assert "got a new one from the server" in bridge.text()


def test_restarted_bridge_sends_no_duplicate(hall, fake_wechat, bridge_factory, broker, messenger_factory):
    observer = Collector()
    watcher = messenger_factory(broker, "yizhan-wechat", client_id="test-observer")
    watcher.subscribe(topics.all_tickets(HALL_ID), observer)
    health = Collector()
    watcher.subscribe(topics.device_status(HALL_ID, "yizhan-wechat"), health)
    first = bridge_factory("--backoff", "0.05")
    bridge_ready(hall, fake_wechat, first)
    health.wait_for(lambda ms: ms and json.loads(ms[-1].payload)["state"] == "online", what="the bridge reporting online")
    tickets = [hall.issue() for _ in range(5)]
    mine = tickets[-1]
    follower = openid()
    hall.scan(follower, mine["token"])
    hall.clerk("05", "open")
    hall.clerk("05", "call-next")  # 3 ahead
    hall.clerk("05", "finish")
    fake_wechat.wait_for(lambda f: len(f.for_openid(follower)) == 1, what="the first 'ahead' notice")
    assert first.stop() == 0
    health.wait_for(lambda ms: json.loads(ms[-1].payload)["state"] == "offline", what="the bridge reporting offline")

    # While the bridge is down the line moves on to 2, then 1 ahead.
    for _ in range(2):
        hall.clerk("05", "call-next")
        hall.clerk("05", "finish")
    second = bridge_factory("--backoff", "0.05")  # the broker kept the events for its session
    fake_wechat.wait_for(lambda f: len(f.for_openid(follower)) == 2, what="the notice missed while down")
    hall.clerk("05", "call-next")
    hall.clerk("05", "finish")
    hall.clerk("05", "call-next")  # my number
    fake_wechat.wait_for(lambda f: len(f.for_openid(follower)) == 3, what="the call notice")

    # Every event of that ticket delivered once more (as after a server reconnect): nothing is sent twice.
    mine_topic = topics.ticket(HALL_ID, mine["token"])
    observer.wait_for(lambda ms: any(json.loads(m.payload)["type"] == "called" for m in ms if m.topic == mine_topic), what="the call event")
    server = messenger_factory(broker, "yizhan-server", client_id="test-replayer")
    replayed = [m for m in observer.messages if m.topic == mine_topic]
    for m in replayed:
        server.publish(m.topic, m.payload)
    marker = openid()  # a later notice to someone else shows the replays were handled
    other = hall.issue()
    hall.scan(marker, other["token"])
    hall.clerk("05", "finish")
    hall.clerk("06", "open")
    hall.clerk("06", "call-next")
    fake_wechat.wait_for(lambda f: f.for_openid(marker), what="a later notice")
    assert summary(fake_wechat, follower) == [("即将叫号", "3", "社保医保"), ("即将叫号", "1", "社保医保"), ("请到窗口", "0", "5号窗口")]
    assert fake_wechat.problems == []
    second.stop()


def test_wechat_error_is_retried_then_logged(hall, fake_wechat, bridge_factory):
    bridge = bridge_factory("--backoff", "0.02", "--retries", "3")
    bridge_ready(hall, fake_wechat, bridge)
    a, b = hall.issue(), hall.issue()
    fa, fb = openid(), openid()
    hall.scan(fa, a["token"])
    hall.scan(fb, b["token"])
    # Two "system busy" answers, then success: delivered once, after three attempts.
    fake_wechat.fail_next(1, errcode=-1, openid=fa)
    fake_wechat.fail_next(1, http_status=502, openid=fa)
    hall.clerk("05", "open")
    hall.clerk("05", "call-next")  # a is called; b is next (its "1 ahead" notice)
    fake_wechat.wait_for(lambda f: f.for_openid(fa) and f.for_openid(fb), what="the call notice after two failures")
    assert [code for who, code in fake_wechat.attempts if who == fa] == [-1, -502, 0]
    # WeChat keeps failing: four attempts (1 + 3 retries), then the bridge logs it and moves on.
    fake_wechat.fail_always[fb] = (0, -1)
    hall.clerk("05", "finish")
    hall.clerk("05", "call-next")
    wait_until(lambda: "not delivered after 4 attempt(s): errcode -1" in bridge.text(), 30, "the give-up log line")
    assert [code for who, code in fake_wechat.attempts if who == fb] == [0, -1, -1, -1, -1]
    assert [m.value(STATUS) for m in fake_wechat.for_openid(fb)] == ["即将叫号"]  # the call notice never arrived
    assert fb not in bridge.text()  # the log masks openids
    assert fake_wechat.problems == []
