"""A SAM ID-card module that speaks the same GA/T 467 bytes as the real one.

`SamModule` is the pure state machine (bytes in → bytes out):
NO_CARD → PRESENT (find 9F) → SELECTED (select 90) → READ (read 90) → LOCKED (find 80 until the card is lifted),
as real modules refuse to read the same card twice without it leaving the field.
`SamSimulatorPort` serves it on a pseudo-terminal (the path a reader opens like /dev/ttyUSB0), paced at the
configured baud rate. Run `python -m kiosk.devices.idcard.sam_simulator` to get a port for `yizhan devices read-id`.
"""

from __future__ import annotations

import argparse
import logging
import os
import select
import threading
import time
import tty
from dataclasses import dataclass, field

from kiosk.devices.idcard import sam_protocol as sp
from kiosk.devices.idcard.textblock import resident_block

logger = logging.getLogger(__name__)

# A WLT photo header ("WL", 102×126) followed by filler: the reader must drop it, never store it.
PHOTO = b"WLf\x00~\x002\x00\x00\xff" + bytes(1014)
SAM_ID = bytes.fromhex("0501000020101010123456780000abcd")


@dataclass
class Faults:
    """What the next exchanges do wrong; each counter is used up as it fires."""

    corrupt_replies: int = 0  # replies sent with a wrong checksum
    silent_replies: int = 0  # commands answered with nothing
    lift_during_read: bool = False  # the card leaves the field while 30 01 is read: SW3 41, card gone
    truncate_read: bool = False  # the card leaves mid-frame: half a reply, then silence
    status: dict[tuple[int, int], int] = field(default_factory=dict)  # (CMD, PARA) → SW3 to answer once
    garbage: bytes = b""  # sent before the next reply (line noise, a module rebooting)


class SamModule:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.card: bytes | None = None  # 256-byte text block of the card in the field
        self.state = "NO_CARD"
        self.faults = Faults()
        self.commands: list[tuple[int, int]] = []
        self._decoder = sp.FrameDecoder()

    # -- the citizen -----------------------------------------------------------------------
    def place(self, text_block: bytes) -> None:
        with self._lock:
            self.card = text_block
            self.state = "PRESENT"

    def lift(self) -> None:
        with self._lock:
            self.card = None
            self.state = "NO_CARD"

    def reset(self) -> None:
        """The module rebooted: selection lost, the card (if any) must be found again."""
        with self._lock:
            self.state = "PRESENT" if self.card is not None else "NO_CARD"
            self._decoder.clear()

    # -- the wire --------------------------------------------------------------------------
    def receive(self, data: bytes) -> bytes:
        out = bytearray()
        with self._lock:
            for frame in self._decoder.feed(data):
                out += self._answer(frame)
        return bytes(out)

    def _send(self, sw3: int, data: bytes = b"") -> bytes:
        f = self.faults
        prefix, f.garbage = f.garbage, b""
        if f.silent_replies:
            f.silent_replies -= 1
            return prefix
        frame = sp.reply(sw3, data)
        if f.corrupt_replies:
            f.corrupt_replies -= 1
            frame = frame[:-1] + bytes([frame[-1] ^ 0x5A])
        return prefix + frame

    def _answer(self, frame: sp.Frame) -> bytes:
        if not frame.ok:
            return self._send(0x10)
        cmd = frame.cmd
        self.commands.append(cmd)
        forced = self.faults.status.pop(cmd, None)
        if forced is not None:
            return self._send(forced)
        if cmd == sp.FIND_CARD:
            if self.state == "PRESENT" or self.state == "SELECTED":
                self.state = "PRESENT"
                return self._send(sp.SW_FOUND, bytes(4))
            return self._send(0x80)
        if cmd == sp.SELECT_CARD:
            if self.state == "PRESENT":
                self.state = "SELECTED"
                return self._send(sp.SW_OK, bytes(8))
            return self._send(0x81)
        if cmd in (sp.READ_BASE, sp.READ_BASE_FP):
            if self.state not in ("SELECTED", "READ") or self.card is None:
                return self._send(0x41)
            if self.faults.lift_during_read:
                self.faults.lift_during_read = False
                self.card, self.state = None, "NO_CARD"
                return self._send(0x41)
            head = len(self.card).to_bytes(2, "big") + len(PHOTO).to_bytes(2, "big")
            if cmd == sp.READ_BASE_FP:
                head += b"\x00\x00"
            data = head + self.card + PHOTO
            self.state = "READ"
            if self.faults.truncate_read:
                self.faults.truncate_read = False
                self.card, self.state = None, "NO_CARD"
                return self._send(sp.SW_OK, data)[:600]
            return self._send(sp.SW_OK, data)
        if cmd == sp.READ_APPEND_ADDRESS:
            return self._send(sp.SW_NO_CONTENT)
        if cmd in (sp.RESET_SAM, sp.SAM_STATUS):
            return self._send(sp.SW_OK)
        if cmd == sp.SAM_ID:
            return self._send(sp.SW_OK, SAM_ID)
        if cmd[0] == 0x61:
            return self._send(sp.SW_OK)
        return self._send(0x21)


class SamSimulatorPort:
    """Serves a SamModule on a pseudo-terminal; `port` is the path to open. Paced at `baudrate` (10 bits a byte)."""

    def __init__(self, module: SamModule | None = None, baudrate: int = 115200, link: str | None = None) -> None:
        self.module = module or SamModule()
        self.baudrate = baudrate
        self._master, slave = os.openpty()
        tty.setraw(slave)
        tty.setraw(self._master)
        self._slave = slave
        self.port = os.ttyname(slave)
        self.link = link
        if link:
            if os.path.lexists(link):
                os.unlink(link)
            os.symlink(self.port, link)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sam-simulator", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            r, _, _ = select.select([self._master], [], [], 0.05)
            if not r:
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError:
                continue  # no reader attached to the slave side right now
            out = self.module.receive(data)
            if out:
                self._write_paced(out)

    def _write_paced(self, out: bytes) -> None:
        chunk = 64
        for i in range(0, len(out), chunk):
            part = out[i:i + chunk]
            os.write(self._master, part)
            time.sleep(len(part) * 10 / self.baudrate)  # the wire time of a real UART

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.link and os.path.islink(self.link):
            os.unlink(self.link)

    def __enter__(self) -> "SamSimulatorPort":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# Sample cards for simulators: invented people, numbers with valid check digits.
def sample_cards() -> dict[str, bytes]:
    from kiosk.devices.idcard.textblock import encode

    return {
        "resident": resident_block("张三丰", "11010519491231002X", sex="2", address="北京市朝阳区示例路1号",
                                   authority="北京市公安局朝阳分局", valid_from="20150101", valid_to="长期"),
        "resident_young": resident_block("李小明", "440308200501101519", address="广东省深圳市南山区示例街2号",
                                         authority="深圳市公安局南山分局", valid_from="20210301", valid_to="20310301"),
        "hk_macau_taiwan": resident_block("陈大文", "810000199408230021", authority="公安部出入境管理局",
                                          valid_from="20200101", valid_to="20250101", flag="J",
                                          pass_number="H12345678", issue_count="01"),
        "foreign_2017": encode("I", {"name_en": "SMITH JOHN", "sex": "1", "id": "USA110080101234",
                                     "nationality": "USA", "name": "史密斯", "valid_from": "20170601",
                                     "valid_to": "20270601", "birth": "19800101", "version": "17",
                                     "authority": "1100"}),
        "foreign_2023": encode("Y", {"name": "安娜", "sex": "2", "renewals": "00", "birth": "19900315",
                                     "name_en": "MULLER ANNA", "id": "911156199003150025", "valid_from": "20231201",
                                     "valid_to": "20331201", "name_en2": "", "nationality": "DEU"}),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m kiosk.devices.idcard.sam_simulator",
                                 description="模拟身份证阅读模块 / a simulated SAM ID-card module on a pty")
    ap.add_argument("--card", default="resident", choices=sorted(sample_cards()), help="card in the field")
    ap.add_argument("--link", help="also make this symlink to the pty, e.g. /tmp/ttyIDCARD")
    ap.add_argument("--baudrate", type=int, default=115200)
    args = ap.parse_args(argv)
    sim = SamSimulatorPort(baudrate=args.baudrate, link=args.link)
    sim.module.place(sample_cards()[args.card])
    print(f"模拟身份证模块 / simulated module on {args.link or sim.port} (card: {args.card}); Ctrl-C 结束", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sim.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
