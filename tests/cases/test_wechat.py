"""A follower of a ticket on WeChat is told when the application registered from that ticket is
done (办结) or returned (退回): the real server app, the bridge on the Messenger interface and
the fake WeChat API of the WeChat tests."""

from __future__ import annotations

from tests.wechat.conftest import CALLBACK_TOKEN
from tests.wechat.fake_wechat import event_xml, sign_params, value_problem
from tests.wechat.test_bridge_inprocess import rig  # noqa: F401  (the fixture)
from wechat_bridge.notices import Notice, notice_for, still_true
from queue_server.cases import CaseDesk
from queue_server.domain.model import WindowState
from queue_server.service import Actor


def test_case_events_become_notices():
    from tests.wechat.test_units import WX

    assert notice_for({"type": "case_done", "case_number": "202611230001"}, WX) == Notice("case_done")
    assert notice_for({"type": "case_returned"}, WX) == Notice("case_returned")
    assert notice_for({"type": "case_accepted"}, WX) is None  # the citizen is at the desk
    assert still_true(Notice("case_done"), "done")


def test_follower_hears_that_the_case_is_done_and_returned(rig):  # noqa: F811
    svc, web, fake, bridges, relay = rig
    clerk = Actor("clerk", "王芳", "12")
    mine = svc.issue_ticket("HJ001", "cases-wx-0001", None)[0]
    other = svc.issue_ticket("HJ001", "cases-wx-0002", None)[0]
    follower = "oCaseFollower00000000000001"
    r = web.post("/wechat/callback", params=sign_params(CALLBACK_TOKEN), content=event_xml(follower, "SCAN", mine.token))
    assert r.status_code == 200
    relay()
    svc.set_window_state("12", WindowState.OPEN, clerk)
    svc.call_next("12", clerk)
    relay()
    fake.wait_for(lambda f: len(f.for_openid(follower)) >= 1, what="the call notice")
    desk = CaseDesk(svc)
    first = desk.register("12", clerk)
    second = desk.register("12", clerk, service_code="SB001")  # 即收即办: done at once
    svc.finish("12", clerk)
    relay()
    fake.wait_for(lambda f: len(f.for_openid(follower)) >= 2, what="the on-the-spot case's notice")
    desk.move(first.case_number, "returned", clerk, "缺少户口簿原件")
    relay()
    fake.wait_for(lambda f: len(f.for_openid(follower)) >= 3, what="the returned notice")
    sent = fake.for_openid(follower)
    assert [m.value("phrase2") for m in sent] == ["请到窗口", "办件已办结", "办件退回"]
    assert sent[1].value("thing5") == f"编号{second.case_number}，凭回执领取"  # whole: 20 characters fit the field
    assert sent[2].value("thing5") == f"编号{first.case_number}，到窗口补正"
    assert "户口簿" not in sent[2].value("thing5")  # the reason stays in the hall
    for m in sent[1:]:
        for key in ("phrase2", "thing4", "thing5", "character_string1", "number3"):
            assert value_problem(key, m.value(key)) is None, (key, m.value(key))
    assert fake.problems == []
    assert other.token not in {m.value("character_string1") for m in sent}
