"""Flattening a found page to a straight sheet and cleaning it for reading (pure)."""

from __future__ import annotations

import cv2
import numpy as np


def flatten(frame: np.ndarray, corners: np.ndarray, max_side: int = 2200) -> np.ndarray:
    """Warps the quad `corners` (clockwise from top-left) to an upright page.

    The output keeps the page's aspect: width and height are the longer of each pair
    of opposite sides, which undoes the foreshortening of a slightly tilted camera."""
    c = np.asarray(corners, np.float32).reshape(4, 2)
    w = max(np.linalg.norm(c[1] - c[0]), np.linalg.norm(c[2] - c[3]))
    h = max(np.linalg.norm(c[3] - c[0]), np.linalg.norm(c[2] - c[1]))
    s = min(1.0, max_side / max(w, h))
    w, h = max(8, int(round(w * s))), max(8, int(round(h * s)))
    dst = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32)
    m = cv2.getPerspectiveTransform(c, dst)
    return cv2.warpPerspective(frame, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def even_light(page: np.ndarray) -> np.ndarray:
    """Divides out the lighting (lamp gradient, a soft shadow) so the paper becomes evenly white.

    The background is the page with text removed: a morphological closing (text is
    darker and thinner than the kernel) blurred smooth."""
    k = max(15, (min(page.shape[:2]) // 25) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    out = np.empty_like(page)
    chans = cv2.split(page) if page.ndim == 3 else [page]
    res = []
    for ch in chans:
        bg = cv2.morphologyEx(ch, cv2.MORPH_CLOSE, kernel)
        bg = cv2.GaussianBlur(bg, (0, 0), k / 2)
        res.append(cv2.divide(ch, np.maximum(bg, 1), scale=250))
    out = cv2.merge(res) if page.ndim == 3 else res[0]
    return out


def black_and_white(page: np.ndarray) -> np.ndarray:
    """Black text on white for a clean, small file (adaptive threshold after evening the light)."""
    gray = page if page.ndim == 2 else cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
    gray = even_light(gray)
    block = max(15, (min(gray.shape) // 40) | 1)
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, block, 12)


def clean(page: np.ndarray, bw: bool = False) -> np.ndarray:
    return black_and_white(page) if bw else even_light(page)
