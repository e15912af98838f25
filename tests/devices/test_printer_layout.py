"""Ticket bytes: golden files, Chinese done right, QR native and raster, nothing personal."""

import re
from dataclasses import replace
from pathlib import Path

import pytest

from kiosk.devices.printer import escpos
from kiosk.devices.printer.decoder import Op, decode, qr_payloads, text_of
from kiosk.devices.printer.layout import guide_bytes, ticket_bytes
from kiosk.devices.printer.samples import GUIDE, TICKET

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("mm", [80, 58])
def test_ticket_golden_bytes(mm):
    # A change here changes what every kiosk prints: look at docs/tickets/ticket-*.png before updating.
    assert ticket_bytes(TICKET, paper_mm=mm) == (GOLDEN / f"ticket-{mm}mm.bin").read_bytes()


def test_guide_golden_bytes():
    assert guide_bytes(GUIDE, paper_mm=80) == (GOLDEN / "guide-80mm.bin").read_bytes()


@pytest.mark.parametrize("mm", [80, 58])
def test_ticket_reads_right(mm):
    ops = decode(ticket_bytes(TICKET, paper_mm=mm))
    text = text_of(ops)
    for expected in ["兰州市政务服务中心", "A012", "社会保障卡申领（补换）", "社保综合（A）", "05号窗口", "12号窗口",
                     "前面还有 5 人等待", "约 15 分钟", "张*", "2026-11-23 09:05:12", "扫码查看排队进度",
                     "过号请到咨询台重新排队。"]:
        assert expected in text.replace("\n", "") or expected in text, expected
    assert "?" not in text  # full-width punctuation survives (python-escpos would print ？ as ?)
    assert qr_payloads(ops) == [TICKET.qr_url]
    assert ops[0] == Op("init") and ops[-1].name == "cut"
    # the number is the biggest thing on the ticket
    sizes = [op.args for op in ops if op.name == "size"]
    big = max(sizes)
    i = ops.index(Op("size", big))
    assert ops[i + 1] == Op("text", ("A012",))


def test_lines_fit_the_paper():
    for mm in (80, 58):
        ops = decode(ticket_bytes(TICKET, paper_mm=mm))
        width, line = 1, 0
        for op in ops:
            if op.name == "size":
                width = op.args[0]
            elif op.name == "text":
                line += escpos.text_width(op.args[0]) * width
            elif op.name in ("lf", "feed", "cut"):
                assert line <= escpos.COLUMNS[mm]
                line = 0


def test_chinese_is_sent_in_chinese_mode():
    data = ticket_bytes(TICKET)
    assert escpos.KANJI_ON + "兰州市政务服务中心".encode("gb18030") + escpos.KANJI_OFF in data
    assert "（".encode("gb18030") in data


def test_gbk_printers_get_gbk():
    data = ticket_bytes(TICKET, encoding="gbk")
    assert "社会保障卡申领（补换）".encode("gbk") in data
    assert "社保" in text_of(decode(data, "gbk"))


def test_characters_beyond_gbk_are_replaced_not_dropped_silently():
    data = escpos.EscPos("gbk").text("𠀀号").bytes()
    assert decode(data, "gbk")[1] == Op("text", ("?号",))


def test_raster_qr_for_printers_without_gs_paren_k():
    ops = decode(ticket_bytes(TICKET, native_qr=False))
    assert not qr_payloads(ops)
    raster = [op for op in ops if op.name == "raster"]
    assert len(raster) == 1
    xb, h, bits = raster[0].args
    assert xb * 8 <= escpos.DOTS[80] and h > 100 and any(bits)


def test_qr_on_the_preview_decodes_to_the_ticket_url(tmp_path):
    import cv2
    import numpy as np

    from kiosk.devices.printer.preview import render

    for native in (True, False):
        img = render(ticket_bytes(TICKET, paper_mm=58, native_qr=native), paper_mm=58)
        data, _, _ = cv2.QRCodeDetector().detectAndDecode(np.array(img.convert("L")))
        assert data == TICKET.qr_url


def test_no_personal_data_beyond_the_masked_name():
    data = ticket_bytes(replace(TICKET, masked_name=""))
    assert "取号人" not in text_of(decode(data))


def test_nobody_ahead():
    text = text_of(decode(ticket_bytes(replace(TICKET, ahead=0, estimated_wait_s=0))))
    assert "前面无人等待" in text and "预计等待" not in text


def test_long_number_still_fits_58mm():
    ops = decode(ticket_bytes(replace(TICKET, number="VIP1234"), paper_mm=58))
    size = next(ops[i - 1].args for i, op in enumerate(ops) if op == Op("text", ("VIP1234",)))
    assert 7 * size[0] <= escpos.COLUMNS[58]


def test_guide_sheet():
    text = text_of(decode(guide_bytes(GUIDE, paper_mm=58)))
    flat = re.sub(r"\n\s*", "", text)  # wrapped lines joined again
    assert "一次性告知单" in text and "城乡居民基本养老保险参保登记" in flat
    assert "1. 居民身份证原件" in text and "2. 户口簿原件及复印件（首页和本人页）" in flat
    assert "承诺时限：1 个工作日" in text and "收费标准：不收费" in text


def test_english_ticket_is_ascii_only_outside_chinese_names():
    text = text_of(decode(ticket_bytes(replace(TICKET, hall_name="City Hall", service_name="Card", queue_name="A",
                                                   windows=["5"], masked_name="", notice=""), lang="en")))
    assert "Your number" in text and "5 waiting ahead of you" in text


@pytest.mark.parametrize(
    "text, cols, lines",
    [
        ("请留意叫号屏幕和语音提示，过号请到咨询台重新排队。", 48, ["请留意叫号屏幕和语音提示，过号请到咨询台重新排", "队。"]),
        ("请留意叫号屏幕和语音提示，过号请到咨询台重新排队", 32, ["请留意叫号屏幕和语音提示，过号请", "到咨询台重新排队"]),
        ("bring your passport please", 12, ["bring your", "passport", "please"]),
    ],
)
def test_wrap(text, cols, lines):
    assert escpos.wrap(text, cols) == lines


def test_wrap_never_starts_a_line_with_closing_punctuation():
    for line in escpos.wrap("一二三四五六七八九十一二三四五，好的。", 30):
        assert line[0] not in escpos.NO_LINE_START


def test_native_qr_bytes_match_python_escpos():
    from escpos.constants import QR_ECLEVEL_M
    from escpos.printer import Dummy

    d = Dummy()
    d.qr(TICKET.qr_url, native=True, size=8, ec=QR_ECLEVEL_M)
    assert escpos.EscPos().qr_native(TICKET.qr_url, module=8, ec="M").bytes() == d.output


def test_status_and_cut_commands_match_python_escpos():
    from escpos import constants as c

    assert escpos.dle_eot(escpos.RT_PRINTER) == c.RT_STATUS_ONLINE
    assert escpos.dle_eot(escpos.RT_PAPER) == c.RT_STATUS_PAPER
    assert escpos.EscPos().cut().bytes().endswith(c.PAPER_FULL_CUT)
    assert escpos.INIT == c.HW_INIT
