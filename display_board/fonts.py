"""The Simplified Chinese face used by the TV and the LED simulator."""

from __future__ import annotations

from pathlib import Path

# Kivy opens the FIRST face of a .ttc: WenQuanYi's first face is Simplified Chinese,
# Noto CJK's is Japanese (wrong glyph forms for 门, 关, 号 …), so WenQuanYi comes first.
CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
)


class FontMissing(Exception):
    pass


def chinese_font(configured: str = "") -> str:
    if configured:
        if Path(configured).is_file():
            return configured
        raise FontMissing(f"字体文件不存在：{configured}")
    for path in CANDIDATES:
        if Path(path).is_file():
            return path
    raise FontMissing("找不到简体中文字体；请安装 fonts-wqy-microhei（apt install fonts-wqy-microhei）")
