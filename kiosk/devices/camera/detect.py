"""Finding a page in a camera frame (pure numpy/OpenCV, no I/O).

`detect(frame)` returns the page's four corners in the frame's pixels, clockwise
from the top-left, or None when no page is there. The work is done on a copy
scaled to `WORK_WIDTH` pixels (fast enough for a live preview on one core); the
corners are then refined by fitting a straight line to each page edge.

Why several candidate masks: a page is bright and colourless, but a grey desk is
colourless too and a shadow makes part of the page grey. Each candidate outline
is therefore judged by how well it explains a strong, straight brightness step
along all four sides (in the log image, which a soft shadow barely changes).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

WORK_WIDTH = 480
MIN_AREA_FRACTION = 0.04  # a page smaller than this share of the frame is too far away to read
MIN_SCORE = 0.18  # mean log-brightness step across the outline; a "page" below this is desk texture


def order_corners(pts: np.ndarray) -> np.ndarray:
    """Clockwise from the top-left (image coordinates, y down)."""
    pts = np.asarray(pts, np.float32).reshape(4, 2)
    c = pts.mean(axis=0)
    ang = np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0])  # clockwise on screen as angle grows
    pts = pts[np.argsort(ang)]
    # Start at the corner nearest the upper-left direction (-135°).
    start = int(np.argmin([abs(math.remainder(math.atan2(p[1] - c[1], p[0] - c[0]) + 3 * math.pi / 4, 2 * math.pi)) for p in pts]))
    return np.roll(pts, -start, axis=0)


def _quad_from_contour(cnt: np.ndarray) -> np.ndarray | None:
    hull = cv2.convexHull(cnt)
    peri = cv2.arcLength(hull, True)
    for eps in (0.01, 0.02, 0.03, 0.05, 0.08):
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4:
            return approx.reshape(4, 2).astype(np.float32)
        if len(approx) < 4:
            break
    # Corners clipped off by the mask: take the quad of the minimum-area rectangle's corners
    # snapped to the nearest hull points.
    box = cv2.boxPoints(cv2.minAreaRect(hull)).astype(np.float32)
    h = hull.reshape(-1, 2).astype(np.float32)
    return np.array([h[np.argmin(((h - b) ** 2).sum(1))] for b in box], np.float32)


def _edge_profile(logimg: np.ndarray, a: np.ndarray, b: np.ndarray, n: int = 24, reach: float = 6.0):
    """Points along segment a→b and, for each, the offset along the normal where the
    brightness step is steepest, with the step size (inside minus outside)."""
    h, w = logimg.shape
    d = b - a
    length = float(np.hypot(*d))
    if length < 8:
        return None
    t = np.linspace(0.08, 0.92, n, dtype=np.float32)
    base = a[None, :] + t[:, None] * d[None, :]
    normal = np.array([d[1], -d[0]], np.float32) / length  # points outwards for a clockwise quad
    offs = np.arange(-reach, reach + 0.5, 1.0, dtype=np.float32)
    pts = base[:, None, :] + offs[None, :, None] * normal[None, None, :]
    mx = pts[..., 0].astype(np.float32)
    my = pts[..., 1].astype(np.float32)
    vals = cv2.remap(logimg, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # inside (negative offsets) is brighter than outside for a page on a desk
    grad = vals[:, :-2] - vals[:, 2:]
    k = np.argmax(grad, axis=1)
    step = grad[np.arange(n), k]
    # sub-pixel peak by a parabola through the three samples around the maximum
    kk = np.clip(k, 1, grad.shape[1] - 2)
    g0, g1, g2 = grad[np.arange(n), kk - 1], grad[np.arange(n), kk], grad[np.arange(n), kk + 1]
    den = g0 - 2 * g1 + g2
    frac = np.where(np.abs(den) > 1e-6, 0.5 * (g0 - g2) / np.where(np.abs(den) > 1e-6, den, 1), 0)
    off = offs[kk + 1] + np.clip(frac, -1, 1)
    inside = pts[:, 0, :]
    outside = pts[:, -1, :]
    ok = (inside[:, 0] >= 0) & (inside[:, 0] < w) & (inside[:, 1] >= 0) & (inside[:, 1] < h)
    ok &= (outside[:, 0] >= 0) & (outside[:, 0] < w) & (outside[:, 1] >= 0) & (outside[:, 1] < h)
    return base + off[:, None] * normal[None, :], step, ok


def _refine(logimg: np.ndarray, quad: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Fits a line to each side's steepest step; returns the refined quad and its score
    (the median step across the outline; 0 when a side has no support)."""
    lines = []
    steps = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        prof = _edge_profile(logimg, a, b)
        if prof is None:
            return None
        pts, step, ok = prof
        good = ok & (step > 0.05)
        if good.sum() < 6:
            return None
        steps.append(float(np.median(step[ok])) if ok.any() else 0.0)
        vx, vy, x0, y0 = cv2.fitLine(pts[good].astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        lines.append((np.array([x0, y0], np.float32), np.array([vx, vy], np.float32)))
    out = []
    for i in range(4):
        (p1, d1), (p2, d2) = lines[i - 1], lines[i]
        m = np.array([[d1[0], -d2[0]], [d1[1], -d2[1]]], np.float32)
        if abs(np.linalg.det(m)) < 1e-3:
            return None
        s = np.linalg.solve(m, p2 - p1)
        out.append(p1 + s[0] * d1)
    return np.array(out, np.float32), min(steps)


def _candidates(small: np.ndarray, logimg: np.ndarray) -> list[np.ndarray]:
    lab = cv2.cvtColor(small, cv2.COLOR_BGR2LAB).astype(np.float32)
    chroma = np.hypot(lab[..., 1] - 128, lab[..., 2] - 128)
    masks = []
    # 1. bright and colourless
    f = np.clip(lab[..., 0] - 2.0 * chroma, 0, 255).astype(np.uint8)
    f = cv2.GaussianBlur(f, (5, 5), 0)
    _, m1 = cv2.threshold(f, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    masks.append(m1)
    # 2. the same after evening out the light (shadows, lamp gradients)
    # a wide blur done on a tiny copy: the same light estimate for a fraction of the cost
    tiny = cv2.resize(f, (32, max(1, round(32 * f.shape[0] / f.shape[1]))), interpolation=cv2.INTER_AREA)
    bg = cv2.resize(cv2.GaussianBlur(tiny, (0, 0), 32 / 6 * 0.8), (f.shape[1], f.shape[0]), interpolation=cv2.INTER_LINEAR)
    g = cv2.divide(f, bg, scale=128)
    _, m2 = cv2.threshold(g, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    masks.append(m2)
    # 3. colourless only (a shadowed page is still colourless; fails on grey desks, hence scoring)
    c8 = np.clip(chroma * 8, 0, 255).astype(np.uint8)
    _, m3 = cv2.threshold(cv2.GaussianBlur(c8, (5, 5), 0), 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    masks.append(cv2.bitwise_and(m3, cv2.threshold(lab[..., 0].astype(np.uint8), 60, 255, cv2.THRESH_BINARY)[1]))
    # 4. closed outlines from edges of the log image
    e = cv2.Canny(np.clip(logimg * 60, 0, 255).astype(np.uint8), 30, 90)
    e = cv2.dilate(e, np.ones((3, 3), np.uint8))
    cnts, _ = cv2.findContours(e, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    m4 = np.zeros_like(m1)
    cv2.drawContours(m4, cnts, -1, 255, thickness=cv2.FILLED)
    masks.append(m4)

    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (7, 7))
    area_min = MIN_AREA_FRACTION * small.shape[0] * small.shape[1]
    quads = []
    for m in masks:
        m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, kernel)  # fill text and table lines
        m = cv2.morphologyEx(m, cv2.MORPH_OPEN, kernel)  # cut thin bridges to bright desk spots
        cnts, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cnts = sorted((c for c in cnts if cv2.contourArea(c) >= area_min), key=cv2.contourArea, reverse=True)[:2]
        for c in cnts:
            q = _quad_from_contour(c)
            if q is not None:
                quads.append(order_corners(q))
    return quads


def _plausible(quad: np.ndarray, shape: tuple[int, int]) -> bool:
    h, w = shape
    area = cv2.contourArea(quad)
    if area < MIN_AREA_FRACTION * h * w or area > 0.97 * h * w:
        return False
    if not cv2.isContourConvex(quad.astype(np.float32).reshape(-1, 1, 2)):
        return False
    if np.any(quad < -0.02 * w) or np.any(quad[:, 0] > 1.02 * w) or np.any(quad[:, 1] > 1.02 * h):
        return False
    for i in range(4):  # no corner sharper than 45° (a page under a tilted camera stays near 90°)
        a, b, c = quad[i - 1], quad[i], quad[(i + 1) % 4]
        v1, v2 = a - b, c - b
        cos = float(v1 @ v2 / (np.linalg.norm(v1) * np.linalg.norm(v2) + 1e-6))
        if abs(cos) > 0.7:
            return False
    return True


def detect(frame: np.ndarray) -> np.ndarray | None:
    """The page's corners (4×2 float32, frame pixels, clockwise from top-left) or None."""
    if frame is None or frame.ndim not in (2, 3) or min(frame.shape[:2]) < 32:
        return None
    if frame.ndim == 2:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    h, w = frame.shape[:2]
    scale = WORK_WIDTH / w if w > WORK_WIDTH else 1.0
    small = cv2.resize(frame, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else frame
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).astype(np.float32)
    logimg = np.log1p(cv2.GaussianBlur(gray, (0, 0), 1.0))
    best, best_value = None, 0.0
    seen: list[np.ndarray] = []
    for q in _candidates(small, logimg):
        if any(np.abs(q - s).max() < 2 for s in seen):
            continue
        seen.append(q)
        refined = _refine(logimg, q)
        if refined is None:
            continue
        rq, score = refined
        # a second pass from the refined outline catches corners the mask rounded off
        again = _refine(logimg, order_corners(rq))
        if again is not None and again[1] >= score * 0.9:
            rq, score = again
        rq = order_corners(rq)
        if score < MIN_SCORE or not _plausible(rq, small.shape[:2]):
            continue
        # prefer the larger of two equally sharp outlines (a table inside a page is sharp too)
        value = score * math.sqrt(cv2.contourArea(rq) / (small.shape[0] * small.shape[1]))
        if best is None or value > best_value:
            best, best_value = rq, value
    if best is None:
        return None
    return (best / scale).astype(np.float32)


def corner_error(found: np.ndarray, truth: np.ndarray) -> float:
    """The largest corner distance, in pixels."""
    return float(np.max(np.linalg.norm(np.asarray(found) - np.asarray(truth), axis=1)))
