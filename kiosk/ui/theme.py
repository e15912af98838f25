"""Colours, the Chinese font and the size rules of the kiosk (readable at arm's length)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

# A Simplified-Chinese face first: Kivy opens face 0 of a .ttc, and Noto CJK's face 0 is Japanese.
FONT_CANDIDATES = (
    os.environ.get("YIZHAN_KIOSK_FONT", ""),
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
)

# Government-service blue, high contrast text; warnings amber, errors red.
COLORS = {
    "bg": (0.95, 0.96, 0.98, 1),
    "header": (0.05, 0.28, 0.58, 1),
    "primary": (0.09, 0.40, 0.78, 1),
    "primary_dark": (0.05, 0.30, 0.62, 1),
    "accent": (0.85, 0.19, 0.16, 1),
    "ok": (0.10, 0.55, 0.30, 1),
    "warn": (0.93, 0.60, 0.05, 1),
    "error": (0.78, 0.12, 0.12, 1),
    "info": (0.20, 0.45, 0.70, 1),
    "card": (1, 1, 1, 1),
    "text": (0.10, 0.12, 0.16, 1),
    "muted": (0.38, 0.42, 0.48, 1),
    "tile": (0.13, 0.47, 0.72, 1),
    "tile2": (0.02, 0.55, 0.55, 1),
    "disabled": (0.70, 0.72, 0.75, 1),
}

TILE_COLORS = [
    (0.10, 0.46, 0.82, 1),
    (0.00, 0.54, 0.48, 1),
    (0.55, 0.36, 0.74, 1),
    (0.86, 0.42, 0.10, 1),
    (0.78, 0.20, 0.35, 1),
    (0.25, 0.50, 0.20, 1),
    (0.30, 0.35, 0.60, 1),
    (0.60, 0.45, 0.20, 1),
]


def find_font() -> str | None:
    for path in FONT_CANDIDATES:
        if path and Path(path).is_file():
            return path
    return None


def register_font() -> str | None:
    from kivy.core.text import DEFAULT_FONT, LabelBase

    path = find_font()
    if path is None:
        logger.error("no Chinese font found (install fonts-wqy-microhei); Chinese text will not show")
        return None
    LabelBase.register(DEFAULT_FONT, path)
    LabelBase.register("Kiosk", path)
    return path
