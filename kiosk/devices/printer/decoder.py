"""An ESC/POS decoder for the subset tickets use: bytes → operations, Chinese decoded. Pure.

Used by the tests (assert on operations, not on bytes only), by the printer simulator (which executes
operations in order) and by the preview renderer.
"""

from __future__ import annotations

from dataclasses import dataclass

# commands with a fixed number of parameter bytes after the 2-byte prefix
_ESC_FIXED = {b"@": 0, b"a": 1, b"E": 1, b"!": 1, b"d": 1, b"t": 1, b"2": 0, b"3": 1, b"J": 1, b"-": 1,
              b"M": 1, b"G": 1, b"V": 1, b"{": 1, b" ": 1, b"e": 1, b"R": 1, b"p": 3, b"c": 2}
_GS_FIXED = {b"!": 1, b"r": 1, b"B": 1, b"L": 2, b"W": 2, b"H": 1, b"f": 1, b"h": 1, b"w": 1, b"a": 1, b"I": 1}
_FS_FIXED = {b"&": 0, b".": 0, b"!": 1, b"C": 1, b"W": 1, b"S": 2, b"-": 1}
_NAMES = {
    (0x1B, b"@"): "init", (0x1B, b"a"): "align", (0x1B, b"E"): "bold", (0x1B, b"!"): "esc_mode",
    (0x1B, b"d"): "feed", (0x1B, b"t"): "codepage", (0x1B, b"2"): "line_spacing_default",
    (0x1B, b"3"): "line_spacing", (0x1B, b"J"): "feed_dots", (0x1B, b"-"): "underline",
    (0x1D, b"!"): "size", (0x1D, b"r"): "status_request", (0x1D, b"B"): "reverse",
    (0x1C, b"&"): "kanji_on", (0x1C, b"."): "kanji_off", (0x1C, b"!"): "kanji_mode", (0x1C, b"C"): "kanji_code",
    (0x1C, b"W"): "kanji_quad",
}


@dataclass(frozen=True)
class Op:
    name: str
    args: tuple = ()

    def __repr__(self) -> str:
        return f"{self.name}{self.args!r}" if self.args else self.name


class Incomplete(Exception):
    """The buffer ends inside a command."""


def _need(buf: bytes, end: int) -> None:
    if end > len(buf):
        raise Incomplete


def next_op(buf: bytes, i: int, kanji: bool, encoding: str = "gb18030", final: bool = True) -> tuple[Op, int]:
    """The operation starting at `i` and the index after it; raises Incomplete when more bytes are needed."""
    b = buf[i]
    if b == 0x0A:
        return Op("lf"), i + 1
    if b == 0x0D:
        return Op("cr"), i + 1
    if b == 0x09:
        return Op("tab"), i + 1
    if b == 0x10:  # DLE
        _need(buf, i + 3)
        if buf[i + 1] == 0x04:
            return Op("status_rt", (buf[i + 2],)), i + 3
        if buf[i + 1] == 0x05:
            return Op("recover", (buf[i + 2],)), i + 3
        return Op("unknown", (buf[i], buf[i + 1])), i + 2
    if b in (0x1B, 0x1D, 0x1C):
        _need(buf, i + 2)
        key = buf[i + 1:i + 2]
        if b == 0x1D:
            return _gs(buf, i, key)
        table = _ESC_FIXED if b == 0x1B else _FS_FIXED
        if key not in table:
            return Op("unknown", (b, buf[i + 1])), i + 2
        n = table[key]
        _need(buf, i + 2 + n)
        args = tuple(buf[i + 2:i + 2 + n])
        name = _NAMES.get((b, key), f"{'ESC' if b == 0x1B else 'FS'} {key.decode('latin-1')}")
        if name == "bold":
            args = (bool(args[0] & 1),)
        elif name == "align":
            args = ({0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}.get(args[0], "left"),)
        return Op(name, args), i + 2 + n
    if b < 0x20:
        return Op("unknown", (b,)), i + 1
    # a text run, up to the next control byte
    j = i
    while j < len(buf) and buf[j] >= 0x20:
        j += 1
    if j == len(buf) and not final:
        raise Incomplete
    chunk = bytes(buf[i:j])
    text = chunk.decode(encoding if kanji else "cp437", errors="replace")
    return Op("text", (text,)), j


def _gs(buf: bytes, i: int, key: bytes) -> tuple[Op, int]:
    if key == b"V":
        _need(buf, i + 3)
        m = buf[i + 2]
        if m in (65, 66, 97, 98, 103, 104):
            _need(buf, i + 4)
            return Op("cut", ("full" if m in (65, 97, 103) else "partial", buf[i + 3])), i + 4
        return Op("cut", ("full" if m in (0, 48) else "partial", 0)), i + 3
    if key == b"(":
        _need(buf, i + 5)
        fn_set = buf[i + 2]
        n = buf[i + 3] | buf[i + 4] << 8
        _need(buf, i + 5 + n)
        body = bytes(buf[i + 5:i + 5 + n])
        if fn_set == ord("k") and len(body) >= 2 and body[0] == 0x31:
            fn = body[1]
            if fn == 0x41:
                return Op("qr_model", (body[2],)), i + 5 + n
            if fn == 0x43:
                return Op("qr_size", (body[2],)), i + 5 + n
            if fn == 0x45:
                return Op("qr_ec", ({48: "L", 49: "M", 50: "Q", 51: "H"}.get(body[2], "?"),)), i + 5 + n
            if fn == 0x50:
                return Op("qr_store", (body[3:].decode("utf-8", errors="replace"),)), i + 5 + n
            if fn == 0x51:
                return Op("qr_print"), i + 5 + n
        return Op("gs_paren", (chr(fn_set), body)), i + 5 + n
    if key == b"v":
        _need(buf, i + 8)
        xb = buf[i + 4] | buf[i + 5] << 8
        h = buf[i + 6] | buf[i + 7] << 8
        _need(buf, i + 8 + xb * h)
        return Op("raster", (xb, h, bytes(buf[i + 8:i + 8 + xb * h]))), i + 8 + xb * h
    if key in _GS_FIXED:
        n = _GS_FIXED[key]
        _need(buf, i + 2 + n)
        args = tuple(buf[i + 2:i + 2 + n])
        if key == b"!":
            return Op("size", ((args[0] >> 4) + 1, (args[0] & 0x0F) + 1)), i + 3
        return Op(_NAMES.get((0x1D, key), f"GS {key.decode('latin-1')}"), args), i + 2 + n
    return Op("unknown", (0x1D, key[0])), i + 2


def decode(data: bytes, encoding: str = "gb18030") -> list[Op]:
    ops: list[Op] = []
    i, kanji = 0, False
    while i < len(data):
        try:
            op, i = next_op(data, i, kanji, encoding)
        except Incomplete:
            ops.append(Op("truncated", (bytes(data[i:]),)))
            break
        if op.name == "kanji_on":
            kanji = True
        elif op.name == "kanji_off":
            kanji = False
        ops.append(op)
    return ops


def text_of(ops: list[Op]) -> str:
    """The printed text with line breaks: what a citizen reads on the ticket."""
    out: list[str] = []
    for op in ops:
        if op.name == "text":
            out.append(op.args[0])
        elif op.name in ("lf",):
            out.append("\n")
        elif op.name == "feed":
            out.append("\n" * op.args[0])
        elif op.name == "qr_print":
            out.append("[QR]")
    return "".join(out)


def qr_payloads(ops: list[Op]) -> list[str]:
    return [op.args[0] for op in ops if op.name == "qr_store"]
