"""`yizhan devices …` run as a user runs it: the installed entry point, against the simulators and pcscd."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.devices.idcard.vpcd_card import SocialSecurityCard, VpcdCard
from tests.devices.pcsc_stack import wait_slot_settled_empty

YIZHAN = [str(Path(sys.executable).parent / "yizhan"), "devices"]
FULL = ["张三丰", "11010519491231002X", "王建国"]


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([*YIZHAN, *args], capture_output=True, text=True, timeout=timeout)


def assert_nothing_full(r: subprocess.CompletedProcess) -> None:
    for secret in FULL:
        assert secret not in r.stdout and secret not in r.stderr


def test_read_id_serial_text(sam, cards):
    sam.module.place(cards["resident"])
    r = run("read-id", "--serial", sam.port)
    assert r.returncode == 0, r.stderr
    assert "证件类型：居民身份证" in r.stdout and "姓名：张**" in r.stdout
    assert "证件号码：1101**********002X" in r.stdout and "出生日期：1949-12-31" in r.stdout
    assert "有效期限：2015-01-01 至 长期" in r.stdout
    assert_nothing_full(r)


@pytest.mark.parametrize("kind, type_", [("resident", "resident"), ("hk_macau_taiwan", "hk_macau_taiwan"),
                                         ("foreign_2017", "foreign_permanent"), ("foreign_2023", "foreign_permanent")])
def test_read_id_serial_json(sam, cards, kind, type_):
    sam.module.place(cards[kind])
    r = run("read-id", "--serial", sam.port, "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert set(data) == {"type", "name", "id_number", "sex", "birth_date", "valid_from", "valid_to"}
    assert data["type"] == type_ and "*" in data["name"] and "*" in data["id_number"]
    assert_nothing_full(r)


def test_read_id_no_card(sam):
    r = run("read-id", "--serial", sam.port, "--timeout", "0.3")
    assert r.returncode != 0 and "未检测到证件" in r.stderr


def test_read_id_invalid_number(sam):
    from kiosk.devices.idcard.textblock import resident_block

    sam.module.place(resident_block("王五", "110105194912310021"))
    r = run("read-id", "--serial", sam.port)
    assert r.returncode != 0 and "证件号码校验不通过" in r.stderr and "110105194912310021" not in r.stdout + r.stderr


def test_read_id_one_corrupt_frame_is_retried(sam, cards):
    sam.module.place(cards["resident"])
    sam.module.faults.corrupt_replies = 1
    assert run("read-id", "--serial", sam.port).returncode == 0


def test_read_id_corrupt_after_retry(sam, cards):
    sam.module.place(cards["resident"])
    sam.module.faults.corrupt_replies = 2
    r = run("read-id", "--serial", sam.port)
    assert r.returncode != 0 and "设备通信出错" in r.stderr


def test_read_id_missing_port():
    r = run("read-id", "--serial", "/dev/does-not-exist")
    assert r.returncode != 0 and "设备未连接" in r.stderr and "Traceback" not in r.stderr


def test_read_id_needs_a_source():
    assert run("read-id").returncode == 2


@pytest.mark.pcsc
def test_read_id_pcsc(pcsc):
    card = VpcdCard(SocialSecurityCard("王建国", "11010519491231002X"), pcsc.port)
    card.insert()
    try:
        r = run("read-id", "--pcsc", "--json", "--timeout", "10")
        assert r.returncode == 0, r.stderr
        data = json.loads(r.stdout)
        assert data["type"] == "social_security" and data["name"] == "王**"
        assert data["id_number"] == "1101**********002X" and data["birth_date"] == "1949-12-31"
        assert_nothing_full(r)
        r = run("read-id", "--pcsc", pcsc.reader[:10].lower(), "--timeout", "10")  # part of the name will do
        assert r.returncode == 0 and "证件类型：社会保障卡" in r.stdout and "社保卡号：A123*5678" in r.stdout
        assert_nothing_full(r)
    finally:
        card.remove()
        wait_slot_settled_empty(pcsc.reader)


@pytest.mark.pcsc
def test_read_id_pcsc_unknown_reader(pcsc):
    r = run("read-id", "--pcsc", "Nonexistent Reader")
    assert r.returncode != 0 and "没有找到读卡器" in r.stderr


@pytest.mark.pcsc
def test_readers_lists_pcsc_readers(pcsc):
    r = run("readers")
    assert r.returncode == 0 and pcsc.reader in r.stdout and "串口" in r.stdout


def test_print_test(printer_sim, tmp_path):
    r = run("print-test", "--printer", printer_sim.address, "--preview", str(tmp_path / "p.png"))
    assert r.returncode == 0, r.stderr
    assert "已打印测试号票" in r.stdout
    from kiosk.devices.printer.decoder import decode, text_of

    assert len(printer_sim.model.jobs) == 1
    text = text_of(decode(printer_sim.model.jobs[0]))
    assert "打印测试" in text and "，。：（）￥" in text.replace("\n", "")
    assert (tmp_path / "p.png").stat().st_size > 0


def test_print_test_58mm_raster(printer_sim):
    r = run("print-test", "--printer", printer_sim.address, "--paper-mm", "58", "--raster-qr", "--encoding", "gbk")
    assert r.returncode == 0, r.stderr


def test_print_test_paper_out(printer_sim):
    printer_sim.model.set_paper(0)
    r = run("print-test", "--printer", printer_sim.address)
    assert r.returncode != 0 and "缺纸" in r.stderr and printer_sim.model.jobs == []


@pytest.mark.parametrize(
    "setup, code, expect",
    [
        (lambda m: None, 0, ["联机：是", "纸张：正常", "上盖：关闭"]),
        (lambda m: (setattr(m, "low_below_dots", 10_000), m.set_paper(5_000)), 0, ["纸张：将尽"]),
        (lambda m: m.set_paper(0), 1, ["纸张：缺纸"]),
        (lambda m: m.set_cover(True), 1, ["上盖：打开"]),
        (lambda m: setattr(m, "mute", True), 1, ["联机：否", "纸张：未知"]),
    ],
)
def test_printer_status(printer_sim, setup, code, expect):
    setup(printer_sim.model)
    r = run("printer-status", "--printer", printer_sim.address)
    assert r.returncode == code, r.stdout + r.stderr
    for line in expect:
        assert line in r.stdout


def test_printer_status_nobody_there():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = run("printer-status", "--printer", f"tcp://127.0.0.1:{port}")
    assert r.returncode == 1 and "打印机未连接" in r.stderr and "纸张：未知" in r.stdout


def test_bad_printer_address():
    r = run("print-test", "--printer", "lpt1")
    assert r.returncode == 2 and "打印机地址无效" in r.stderr


def test_unknown_subcommand_and_usage():
    r = run("frobnicate")
    assert r.returncode == 2 and "未知的 devices 子命令" in r.stderr
    r = run("--help")
    assert r.returncode == 0 and "read-id" in r.stdout and "scan" in r.stdout
