"""The kiosk as a citizen uses it: real widgets offscreen, simulated touches, a real queue server,
the devices' simulators (SAM ID-card module, ESC/POS printer model)."""

from __future__ import annotations

import socket
import threading

import pytest
from kivy.clock import Clock

from kiosk.core.api import ApiClient
from kiosk.devices.printer.decoder import decode, qr_payloads, text_of

pytestmark = pytest.mark.kivy


def printed_texts(h) -> list[str]:
    return [text_of(decode(job)) for job in h.devices.printer.model.jobs]


def on(h, screen: str, what: str = "") -> None:
    h.until(lambda: h.app.sm.current == screen, what=what or screen)


def test_take_a_number_with_an_id_card(ui, server):
    h = ui
    h.tap("take")
    on(h, "services")
    h.tap("service:HJ001")  # 居民身份证换领: real name required
    on(h, "card")
    assert "请将身份证放在读卡区" in h.texts()
    assert not h.buttons("skip"), "a required ID card cannot be skipped"
    h.devices.reader.place_sample("resident")  # 张三丰, born 1949
    on(h, "ticket", "the confirmation after reading the card")
    text = h.texts()
    assert "B001" in text and "3号窗口" in text and "取号成功" in text
    # Personal data: the screen never shows the full name or ID number.
    assert "张三丰" not in text and "11010519491231002X" not in text
    tv = h.core.ticket_view
    ticket = server.api("GET", f"/tickets/{tv.ticket_id}")
    assert ticket["number"] == "B001" and ticket["masked_name"] == "张**"
    assert ticket["print_failed"] is False
    assert server.issued("B") == 1
    # The ticket came out of the printer with the number and the phone page's QR code.
    jobs = h.devices.printer.model.jobs
    assert len(jobs) == 1 and "B001" in printed_texts(h)[0]
    assert qr_payloads(decode(jobs[0])) == [tv.qr_url]
    assert tv.qr_url == f"https://zwfw.example.gov.cn/t/{ticket['token']}"
    # The confirmation goes home by itself after a few seconds.
    h.clock.advance(h.core.timing.confirm_s + 1)
    on(h, "home", "home after the confirmation")


def test_take_a_number_without_an_id_card(ui, server):
    h = ui
    h.tap("take")
    on(h, "services")
    h.tap("service:SB002")  # no real name: straight to the ticket
    on(h, "ticket")
    assert "A001" in h.texts()
    h.tap("done")
    on(h, "home")
    h.tap("take")
    on(h, "services")
    h.tap("service:SB001")  # optional: the card is asked for, with a way round
    on(h, "card")
    h.tap("skip")
    on(h, "ticket", "ticket after skipping the card")
    assert "A002" in h.texts()
    assert server.issued("A") == 2
    assert [("A001" in t, "A002" in t) for t in printed_texts(h)] == [(True, False), (False, True)]


def test_a_refusal_is_explained_in_plain_chinese(ui, server):
    h = ui
    h.tap("take")
    on(h, "services")
    h.tap("service:BDC01")  # queue C takes numbers only in the afternoon
    on(h, "card")
    h.tap("skip")
    on(h, "refusal")
    text = h.texts()
    assert "现在不能取这个号" in text
    assert "13:30-17:30" in text  # the server's own reason, with the hours
    assert "请在办理时间内再来取号" in text  # what to do next
    assert server.issued("C") == 0
    assert h.devices.printer.model.jobs == []
    h.tap("home")
    on(h, "home")


def test_printer_out_of_paper_still_shows_the_number_and_tells_the_server(ui, server):
    h = ui
    h.devices.printer.model.set_paper(0)
    h.core.check_health()
    h.until(lambda: h.core.banner() is not None, what="printer fault banner")
    assert "打印机暂不能出票" in h.texts()
    h.tap("take")
    on(h, "services")
    h.tap("service:SB002")
    on(h, "ticket")
    text = h.texts()
    assert "A001" in text
    assert "号票未能打印" in text and "打印机缺纸" in text
    tv = h.core.ticket_view
    h.until(lambda: server.api("GET", f"/tickets/{tv.ticket_id}")["print_failed"], what="print-status reported")
    assert server.issued("A") == 1  # no second ticket behind the citizen's back
    assert h.devices.printer.model.jobs == []
    # The kiosk's own status, as the hall sees it.
    h.until(lambda: not h.core.health.needs_report(), what="device status reported")


class LosingProxy:
    """A TCP relay to the server that, once armed, forwards the next ticket request and
    throws away the server's answer: the ticket exists, the kiosk never hears of it."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.armed = threading.Event()
        self.swallowed = 0
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self.sock.getsockname()[1]

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            lose = threading.Event()
            threading.Thread(target=self._up, args=(client, upstream, lose), daemon=True).start()
            threading.Thread(target=self._down, args=(upstream, client, lose), daemon=True).start()

    def _up(self, src, dst, lose) -> None:
        try:
            while data := src.recv(65536):
                if self.armed.is_set() and data.startswith(b"POST /api/v1/tickets "):
                    self.armed.clear()
                    lose.set()
                dst.sendall(data)
        except OSError:
            pass

    def _down(self, src, dst, lose) -> None:
        try:
            while data := src.recv(65536):
                if lose.is_set():
                    self.swallowed += 1
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.close()
            except OSError:
                pass

    def close(self) -> None:
        self.sock.close()


def test_server_down_then_back_gives_one_ticket_not_two(ui, server):
    h = ui
    # 1. The server is gone: the kiosk says so and keeps trying with the same key.
    server.stop()
    h.tap("take")
    on(h, "services")
    h.tap("service:SB002")
    h.until(lambda: h.core.issuing_view is not None and h.core.issuing_view.phase == "retrying", what="retrying")
    text = h.texts()
    assert "网络连接中断" in text and "不会多取号" in text
    server.start()
    h.clock.advance(10)  # the retry is due
    on(h, "ticket", "ticket once the server is back")
    assert "A001" in h.texts()
    assert server.issued("A") == 1
    h.tap("done")
    on(h, "home")

    # 2. The request reaches the server but the answer is lost: the retry must not issue again.
    proxy = LosingProxy(server.port)
    token = server.token("kiosk", "kiosk-1")
    h.core.api = ApiClient(proxy.url, token)
    try:
        proxy.armed.set()
        h.tap("take")
        on(h, "services")
        h.tap("service:SB002")
        h.until(lambda: h.core.issuing_view is not None and h.core.issuing_view.phase == "retrying", what="retrying after a lost answer")
        assert proxy.swallowed == 1
        assert server.issued("A") == 2  # the server did issue A002 …
        h.clock.advance(10)
        on(h, "ticket", "ticket after the retry")
        assert "A002" in h.texts()  # … and the retry got that same ticket back
        assert server.issued("A") == 2
        assert sum("A002" in t for t in printed_texts(h)) == 1
    finally:
        proxy.close()


def test_idle_timeout_clears_the_screen(ui, server):
    h = ui
    h.tap("progress")
    on(h, "progress")
    h.tap("by_number")
    h.pump(2)
    for k in "4711":
        h.tap("key:" + k)
    assert "4711" in h.texts()
    h.clock.advance(h.core.idle_timeout_s - 5)
    h.pump(10)
    assert h.app.sm.current == "progress", "still within the timeout"
    h.clock.advance(6)
    on(h, "home", "home after the idle timeout")
    assert h.core.progress_view is None
    h.tap("progress")
    on(h, "progress")
    h.tap("by_number")
    h.pump(2)
    assert "4711" not in h.texts(), "the next citizen must not see what the last one typed"


def test_an_unexpected_error_apologises_and_goes_home(ui, server):
    h = ui
    h.tap("guide")
    on(h, "services")

    def bug(_dt):
        raise ZeroDivisionError("a bug in a callback")

    Clock.schedule_once(bug, 0)
    on(h, "message", "the apology")
    text = h.texts()
    assert "抱歉" in text and "Traceback" not in text and "ZeroDivisionError" not in text
    h.clock.advance(30)
    on(h, "home", "home after the apology")


def test_check_in_without_an_appointment_offers_a_number(ui, server):
    h = ui
    h.tap("checkin")
    on(h, "card")
    h.devices.reader.place_sample("resident_young")
    on(h, "message", "no appointment")
    assert "今天没有查到您的预约" in h.texts()
    h.tap("message_action")
    on(h, "services")


def test_the_guide_prints_the_materials(ui, server):
    h = ui
    h.tap("guide")
    on(h, "services")
    h.tap("service:HJ001")
    on(h, "guide")
    text = h.texts()
    assert "户口簿原件" in text and "20 个工作日" in text and "20元（工本费）" in text
    h.tap("print_guide")
    h.until(lambda: h.core.guide_view.print_state == "printed", what="guide printed")
    assert "告知单已打印" in h.texts()
    assert "户口簿原件" in printed_texts(h)[0]


def test_progress_by_case_number_with_no_case(ui, server):
    h = ui
    h.tap("progress")
    on(h, "progress")
    h.tap("by_number")
    h.pump(2)
    for k in "20261123001":
        h.tap("key:" + k)
    h.tap("search")
    h.until(lambda: h.core.progress_view.phase == "results", what="results")
    assert "没有查到这个编号的办件" in h.texts()


def test_elder_mode_is_larger_with_fewer_items(ui, server):
    h = ui
    scale = h.app.scale
    h.tap("elder")
    h.pump(3)
    assert h.app.scale > scale
    h.tap("take")
    on(h, "services")
    h.tap("all")
    h.pump(3)
    services = [b for b in h.buttons() if b.action.startswith("service:")]
    assert len(services) == 4  # five services: four on the first page, one on the next
    assert not h.button("next").disabled
    h.tap("next")
    assert [b.action for b in h.buttons() if b.action.startswith("service:")] == ["service:SW001"]
    assert h.core.idle_timeout_s == h.core.timing.elder_idle_s
