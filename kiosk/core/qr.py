"""QR code of a ticket's phone page, as PNG bytes the UI turns into a texture."""

from __future__ import annotations

import io
from functools import lru_cache

import segno


@lru_cache(maxsize=8)
def qr_png(url: str, scale: int = 10) -> bytes:
    buf = io.BytesIO()
    # Error correction M survives a smudged screen; a 4-module quiet zone is what phone scanners expect.
    segno.make(url, error="m", micro=False).save(buf, kind="png", scale=scale, border=4)
    return buf.getvalue()
