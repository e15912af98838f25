"""glFinish without holding Python's GIL.

Kivy's own glFinish keeps the GIL while Mesa's software renderer rasterises a frame (tens of
ms at 1080p), which starved the display's other threads (MQTT, LED lines, voice): the LED
acknowledgement went from 43 ms to 900 ms p50. A ctypes call releases the GIL. The GLVND
dispatch library calls the driver of the context current on this thread (EGL or GLX alike).
"""

from __future__ import annotations

import ctypes
import logging

logger = logging.getLogger(__name__)


def _load():
    for name in ("libOpenGL.so.0", "libGL.so.1"):
        try:
            fn = ctypes.CDLL(name).glFinish
        except (OSError, AttributeError):
            continue
        fn.restype = None
        fn.argtypes = []
        return fn
    from kivy.graphics.opengl import glFinish

    logger.info("no GLVND library found: glFinish through Kivy (holds the GIL)")
    return glFinish


finish = _load()
