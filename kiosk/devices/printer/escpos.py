"""ESC/POS byte builder for what tickets need. Pure.

Chinese goes out in the printer's Chinese (Kanji) mode: FS & + GB18030/GBK bytes + FS . — python-escpos
never sends FS & and turns full-width punctuation into '?', so text is encoded here. Sizes use GS !,
which scales Chinese and ASCII alike (ESC ! only scales ASCII on many Chinese models).
"""

from __future__ import annotations

import unicodedata

ESC, GS, FS, DLE = b"\x1b", b"\x1d", b"\x1c", b"\x10"
INIT = ESC + b"@"
KANJI_ON, KANJI_OFF = FS + b"&", FS + b"."
LF = b"\n"

# DLE EOT n: real-time status (answered at once, even while the printer is stopped)
RT_PRINTER, RT_OFFLINE_CAUSE, RT_ERROR_CAUSE, RT_PAPER = 1, 2, 3, 4
# GS r 1: paper sensor status, answered only when the printer reaches it (so: after the preceding lines)
GS_R_PAPER = GS + b"r\x01"
CLEAR_BUFFER = DLE + b"\x05\x02"  # DLE ENQ 2: recover and clear the receive and print buffers

QR_EC = {"L": 48, "M": 49, "Q": 50, "H": 51}

DOTS = {80: 576, 58: 384}  # printable dots at 203 dpi
COLUMNS = {80: 48, 58: 32}  # 12×24 ASCII font


def dle_eot(n: int) -> bytes:
    return DLE + b"\x04" + bytes([n])


def cell_width(ch: str) -> int:
    """Columns a character takes in the 12×24 / 24×24 fonts: CJK and full-width take two."""
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


NO_LINE_START = set("，。、；：？！）」』》〉】,.;:?!)%")


def text_width(s: str) -> int:
    return sum(cell_width(c) for c in s)


def wrap(s: str, columns: int, indent: int = 0) -> list[str]:
    """Breaks at the column limit; ASCII words are kept whole when they fit; later lines get `indent` spaces."""
    lines: list[str] = []
    line, width = "", 0
    limit = columns
    i = 0
    while i < len(s):
        ch = s[i]
        if ch == "\n":
            lines.append(line)
            line, width, limit = " " * indent, indent, columns
            i += 1
            continue
        word = ch
        if ch.isascii() and ch not in " ":
            j = i
            while j < len(s) and s[j].isascii() and s[j] not in " \n":
                j += 1
            word = s[i:j]
        w = text_width(word)
        if width + w > limit and line.strip():
            carry = ""
            if word[0] in NO_LINE_START and len(line.strip()) > 1:
                carry, line = line[-1], line[:-1]  # never start a line with closing punctuation
            lines.append(line.rstrip())
            line, width = " " * indent + carry, indent + text_width(carry)
            if word == " ":
                i += 1
                continue
        if w > limit - width:  # a word longer than a line: break it
            word = word[: max(1, limit - width)]
            w = text_width(word)
        line += word
        width += w
        i += len(word)
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


class EscPos:
    def __init__(self, encoding: str = "gb18030") -> None:
        self.encoding = encoding
        self.buf = bytearray()

    def raw(self, b: bytes) -> "EscPos":
        self.buf += b
        return self

    def init(self) -> "EscPos":
        return self.raw(INIT)

    def align(self, where: str) -> "EscPos":
        return self.raw(ESC + b"a" + bytes([{"left": 0, "center": 1, "right": 2}[where]]))

    def bold(self, on: bool) -> "EscPos":
        return self.raw(ESC + b"E" + bytes([1 if on else 0]))

    def size(self, width: int = 1, height: int = 1) -> "EscPos":
        return self.raw(GS + b"!" + bytes([((width - 1) << 4) | (height - 1)]))

    def text(self, s: str) -> "EscPos":
        """A text run; anything beyond ASCII goes out in Chinese mode (ASCII prints as ASCII there too)."""
        if s.isascii():
            return self.raw(s.encode("ascii"))
        return self.raw(KANJI_ON + s.encode(self.encoding, errors="replace") + KANJI_OFF)

    def line(self, s: str = "") -> "EscPos":
        if s:
            self.text(s)
        return self.raw(LF)

    def feed(self, lines: int) -> "EscPos":
        return self.raw(ESC + b"d" + bytes([lines]))

    def cut(self, feed_lines: int = 4) -> "EscPos":
        return self.feed(feed_lines).raw(GS + b"V\x00")

    def qr_native(self, data: str, module: int = 6, ec: str = "M") -> "EscPos":
        payload = data.encode("utf-8")
        store = len(payload) + 3
        return self.raw(
            GS + b"(k\x04\x00\x31\x41\x32\x00"  # model 2
            + GS + b"(k\x03\x00\x31\x43" + bytes([module])  # module size
            + GS + b"(k\x03\x00\x31\x45" + bytes([QR_EC[ec]])  # error correction
            + GS + b"(k" + store.to_bytes(2, "little") + b"\x31\x50\x30" + payload  # store
            + GS + b"(k\x03\x00\x31\x51\x30"  # print
        )

    def raster(self, rows: "list[list[bool]] | object") -> "EscPos":
        """GS v 0: a 1-bit image, MSB first, rows padded to whole bytes."""
        import numpy as np

        bits = np.asarray(rows, dtype=bool)
        height, width = bits.shape if bits.size else (0, 0)
        xb = (width + 7) // 8
        packed = np.packbits(bits, axis=1).tobytes() if bits.size else b""  # MSB first, padded with 0 (white)
        return self.raw(GS + b"v0\x00" + xb.to_bytes(2, "little") + height.to_bytes(2, "little") + packed)

    def qr_raster(self, data: str, module: int = 6, ec: str = "M") -> "EscPos":
        """The same QR drawn as an image, for printers without GS ( k."""
        import numpy as np
        import segno

        code = segno.make_qr(data, error=ec.lower(), boost_error=False)
        m = np.pad(np.asarray(code.matrix, dtype=bool), 2)  # 2-module quiet zone
        return self.raster(np.repeat(np.repeat(m, module, axis=0), module, axis=1)).raw(LF)

    def bytes(self) -> bytes:
        return bytes(self.buf)
