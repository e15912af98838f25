"""A virtual smart card for vsmartcard's vpcd driver, so tests and demos drive the real pcscd + pyscard.

vpcd protocol: TCP to the reader's port; every message is a 2-byte big-endian length and a payload.
One-byte payloads are control (00 power off, 01 power on, 02 reset, 04 send ATR); longer ones are
C-APDUs answered with an R-APDU. Connecting inserts the card; closing the socket removes it.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
from datetime import date

from kiosk.devices.idcard import social_security as ss

logger = logging.getLogger(__name__)

SW_OK = b"\x90\x00"
SW_NOT_FOUND = b"\x6a\x82"
SW_INS_NOT_SUPPORTED = b"\x6d\x00"
SW_RECORD_NOT_FOUND = b"\x6a\x83"


class Applet:
    atr = bytes.fromhex("3B6C0000806411650190730000008107")  # contact CPU card, T=0
    uid = bytes.fromhex("0A1B2C3D")

    def apdu(self, c: bytes) -> bytes:
        if c[:4] == ss.GET_DATA_UID[:4]:
            return self.uid + SW_OK
        return SW_INS_NOT_SUPPORTED


class UnknownCard(Applet):
    """A card that is none of ours (a bank or transport card): everything is refused."""

    atr = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")

    def apdu(self, c: bytes) -> bytes:
        if c[:4] == ss.GET_DATA_UID[:4]:
            return self.uid + SW_OK
        return SW_NOT_FOUND if c[1] == 0xA4 else SW_INS_NOT_SUPPORTED


class ContactlessIdCard(Applet):
    """A resident ID card on a plain contactless reader: only its chip serial, no personal data (needs a SAM)."""

    atr = bytes.fromhex("3B888001000000000000000009")  # PC/SC pseudo-ATR of a Type B card

    def __init__(self, serial: bytes = bytes.fromhex("1122334455667788")) -> None:
        self.serial = serial
        self.uid = serial[:4]

    def apdu(self, c: bytes) -> bytes:
        if c[:4] == ss.ID_CARD_UID[:4]:
            return self.serial + SW_OK
        if c[:4] == ss.GET_DATA_UID[:4]:
            return self.uid + SW_OK
        return SW_NOT_FOUND if c[1] == 0xA4 else SW_INS_NOT_SUPPORTED


class SocialSecurityCard(Applet):
    def __init__(self, name: str, id_number: str, card_number: str = "A12345678", sex: str = "",
                 issued: date = date(2020, 6, 1), valid_to: date = date(2030, 6, 1), nation: int = 1,
                 remove_after: int | None = None) -> None:
        self.remove_after = remove_after  # lift the card after this many APDUs (card lifted mid-read)
        self.count = 0
        born = id_number[6:14]
        sex = sex or ("1" if int(id_number[16]) % 2 else "2")
        name_b = name.encode("gbk").ljust(30, b"\x00")
        self.files = {
            0xEF05: {0x01: bytes.fromhex("41" * 16), 0x05: bytes.fromhex(issued.strftime("%Y%m%d")),
                     0x06: bytes.fromhex(valid_to.strftime("%Y%m%d")), 0x07: card_number.encode("ascii")},
            0xEF06: {0x08: id_number.encode("ascii"), 0x09: name_b, 0x0A: sex.encode("ascii"),
                     0x0B: bytes([nation]), 0x0D: bytes.fromhex(born)},
        }
        self.app_selected = False
        self.current: int | None = None

    def apdu(self, c: bytes) -> bytes:
        cla, ins, p1, p2 = c[:4]
        if c[:4] == ss.GET_DATA_UID[:4]:
            return self.uid + SW_OK
        if ins == 0xA4 and p1 == 0x04:
            self.app_selected = c[5:5 + c[4]] == ss.SSSE_AID
            return SW_OK if self.app_selected else SW_NOT_FOUND
        if ins == 0xA4 and p1 == 0x02 and self.app_selected:
            fid = int.from_bytes(c[5:7], "big")
            if fid in self.files:
                self.current = fid
                return SW_OK
            return SW_NOT_FOUND
        if ins == 0xB2 and self.current is not None:
            value = self.files[self.current].get(p1)
            if value is None:
                return SW_RECORD_NOT_FOUND
            return bytes([p1, len(value)]) + value + SW_OK
        return SW_INS_NOT_SUPPORTED


class VpcdCard:
    """Puts an applet into a vpcd reader slot (insert) and takes it out (remove)."""

    def __init__(self, applet: Applet, port: int, host: str = "127.0.0.1") -> None:
        self.applet = applet
        self.host, self.port = host, port
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.apdus: list[bytes] = []
        self.powered = threading.Event()

    def insert(self, timeout: float = 5.0) -> None:
        self._sock = socket.create_connection((self.host, self.port), timeout=timeout)
        self._sock.settimeout(None)
        self._thread = threading.Thread(target=self._run, args=(self._sock,), name="vpcd-card", daemon=True)
        self._thread.start()

    def remove(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
        self.powered.clear()

    @property
    def inserted(self) -> bool:
        return self._sock is not None

    def _recv_exact(self, sock: socket.socket, n: int) -> bytes | None:
        buf = b""
        while len(buf) < n:
            try:
                part = sock.recv(n - len(buf))
            except OSError:
                return None
            if not part:
                return None
            buf += part
        return buf

    def _send(self, sock: socket.socket, payload: bytes) -> None:
        sock.sendall(struct.pack("!H", len(payload)) + payload)

    def _run(self, sock: socket.socket) -> None:
        while True:
            head = self._recv_exact(sock, 2)
            if head is None:
                return
            msg = self._recv_exact(sock, struct.unpack("!H", head)[0])
            if msg is None:
                return
            try:
                if len(msg) == 1:
                    if msg[0] == 0x04:
                        self._send(sock, self.applet.atr)
                    elif msg[0] in (0x01, 0x02):
                        self.powered.set()
                    elif msg[0] == 0x00:
                        self.powered.clear()
                    continue
                self.apdus.append(msg)
                limit = getattr(self.applet, "remove_after", None)
                if limit is not None and len(self.apdus) > limit:
                    threading.Thread(target=self.remove, daemon=True).start()  # lifted: no answer, socket closes
                    return
                self._send(sock, self.applet.apdu(msg))
            except OSError:
                return
