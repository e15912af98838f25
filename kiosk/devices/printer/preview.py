"""Renders decoded ESC/POS into a PNG of the paper as the printer would draw it (203 dpi, 576/384 dots)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from kiosk.devices.printer.decoder import Op, decode
from kiosk.devices.printer.escpos import DOTS, cell_width

FONT_CANDIDATES = [
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # face 2 = SC
]
LINE_GAP = 6  # default line spacing is 30 dots for a 24-dot font
MARGIN = 16


def _font() -> ImageFont.FreeTypeFont:
    for path, index in FONT_CANDIDATES:
        if Path(path).exists():
            return ImageFont.truetype(path, 22, index=index)
    raise FileNotFoundError("no CJK font found (install fonts-wqy-microhei)")


class _Paper:
    def __init__(self, dots: int) -> None:
        self.dots = dots
        self.img = Image.new("L", (dots, 6000), 255)
        self.y = 0
        self.font = _font()
        self.align = "left"
        self.bold = False
        self.size = (1, 1)
        self.runs: list[tuple[str, tuple[int, int], bool]] = []
        self.qr = {"size": 3, "ec": "L", "data": ""}

    def _grow(self, need: int) -> None:
        if self.y + need > self.img.height:
            bigger = Image.new("L", (self.dots, self.img.height * 2 + need), 255)
            bigger.paste(self.img, (0, 0))
            self.img = bigger

    def _glyph(self, ch: str, w: int, h: int, bold: bool) -> Image.Image:
        cw = 12 * cell_width(ch)
        cell = Image.new("L", (cw, 24), 255)
        d = ImageDraw.Draw(cell)
        d.text((cw / 2, 12), ch, font=self.font, fill=0, anchor="mm", stroke_width=1 if bold else 0, stroke_fill=0)
        return cell.resize((cw * w, 24 * h), Image.NEAREST)  # printers scale by repeating dots

    def flush(self, force_line: bool = True) -> None:
        if not self.runs:
            if force_line:
                self.y += 24 + LINE_GAP
            return
        glyphs = [self._glyph(ch, w, h, b) for text, (w, h), b in self.runs for ch in text]
        width = sum(g.width for g in glyphs)
        height = max(g.height for g in glyphs)
        self._grow(height + LINE_GAP)
        x = {"left": 0, "center": (self.dots - width) // 2, "right": self.dots - width}[self.align]
        x = max(0, x)
        for g in glyphs:
            self.img.paste(g, (x, self.y + height - g.height))
            x += g.width
        self.y += height + LINE_GAP
        self.runs = []

    def block(self, img: Image.Image) -> None:
        self._grow(img.height)
        x = {"left": 0, "center": (self.dots - img.width) // 2, "right": self.dots - img.width}[self.align]
        self.img.paste(img, (max(0, x), self.y))
        self.y += img.height

    def apply(self, op: Op) -> None:
        n = op.name
        if n == "text":
            self.runs.append((op.args[0], self.size, self.bold))
        elif n == "lf":
            self.flush()
        elif n == "feed":
            self.flush(force_line=False)
            self.y += 30 * op.args[0]
        elif n == "align":
            self.align = op.args[0]
        elif n == "bold":
            self.bold = op.args[0]
        elif n == "size":
            self.size = op.args
        elif n == "init":
            self.align, self.bold, self.size = "left", False, (1, 1)
        elif n == "qr_size":
            self.qr["size"] = op.args[0]
        elif n == "qr_ec":
            self.qr["ec"] = op.args[0]
        elif n == "qr_store":
            self.qr["data"] = op.args[0]
        elif n == "qr_print":
            import segno

            code = segno.make_qr(self.qr["data"], error=self.qr["ec"].lower(), boost_error=False)
            rows = list(code.matrix_iter(scale=self.qr["size"], border=0))
            img = Image.new("L", (len(rows[0]), len(rows)), 255)
            img.putdata([0 if v else 255 for row in rows for v in row])
            self.block(img)
        elif n == "raster":
            xb, h, data = op.args
            img = Image.frombytes("1", (xb * 8, h), bytes(~b & 0xFF for b in data)).convert("L")
            self.block(img)
        elif n == "cut":
            self.flush(force_line=False)
            self._grow(40)
            d = ImageDraw.Draw(self.img)
            for x in range(0, self.dots, 16):
                d.line([(x, self.y + 20), (x + 8, self.y + 20)], fill=128, width=2)
            self.y += 40


def render(data: bytes, paper_mm: int = 80, encoding: str = "gb18030") -> Image.Image:
    paper = _Paper(DOTS[paper_mm])
    for op in decode(data, encoding):
        paper.apply(op)
    paper.flush(force_line=False)
    body = paper.img.crop((0, 0, paper.dots, max(paper.y, 1)))
    out = Image.new("L", (paper.dots + 2 * MARGIN, body.height + 2 * MARGIN), 235)
    out.paste(Image.new("L", (paper.dots, body.height), 255), (MARGIN, MARGIN))
    out.paste(body, (MARGIN, MARGIN))
    return out


def save_preview(data: bytes, path: str | Path, paper_mm: int = 80, encoding: str = "gb18030") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    render(data, paper_mm, encoding).save(path)
    return path
