"""Synthetic camera frames: a page (text, tables, a red stamp) lying on a desk.

Used by the simulated camera source, the tests and the benchmark. Every frame
comes with the page's true corners (clockwise from the page's top-left, in frame
pixels), so detection accuracy can be measured instead of eyeballed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

DESKS = ("wood", "cloth", "dark", "grey")

# Page sizes in mm (A4, A5, the ID-card-copy half sheet, a receipt-like slip).
_PAGE_SIZES = ((210, 297), (148, 210), (210, 148), (297, 210), (176, 250))


@dataclass(frozen=True)
class SynthFrame:
    image: np.ndarray  # BGR uint8
    corners: np.ndarray | None  # (4, 2) float32, clockwise from the page's top-left; None = no page
    desk: str
    tilt_deg: float


def _desk(kind: str, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == "wood":
        base = np.array([40, 90, 150], np.float32) * rng.uniform(0.8, 1.15)  # BGR brown
        angle = rng.uniform(-0.3, 0.3)
        u = xx * math.sin(angle) + yy * math.cos(angle)
        grain = np.sin(u / rng.uniform(6, 14) + 3 * np.sin(xx / rng.uniform(80, 200))) * 0.12
        grain += cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 3) * 0.25
        img = base[None, None, :] * (1 + grain[..., None])
    elif kind == "cloth":
        colors = ([120, 60, 30], [40, 110, 40], [60, 50, 140], [110, 100, 90], [150, 120, 60])
        base = np.array(colors[rng.integers(len(colors))], np.float32)
        period = rng.uniform(4, 9)
        weave = (np.sin(xx * 2 * math.pi / period) * np.sin(yy * 2 * math.pi / period)) * 0.15
        check = ((np.floor(xx / rng.uniform(30, 70)) + np.floor(yy / rng.uniform(30, 70))) % 2) * rng.uniform(0, 0.25)
        img = base[None, None, :] * (1 + weave[..., None] - check[..., None])
    elif kind == "dark":
        base = rng.uniform(20, 50)
        img = np.full((h, w, 3), base, np.float32) + rng.uniform(-5, 5, 3)[None, None, :].astype(np.float32)
    else:  # grey
        base = rng.uniform(95, 140)
        img = np.full((h, w, 3), base, np.float32) + rng.uniform(-6, 6, 3)[None, None, :].astype(np.float32)
        img += cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 6)[..., None] * 20
    return np.clip(img, 0, 255)


def _page(pw: int, ph: int, rng: np.random.Generator) -> np.ndarray:
    """A page with a title, text lines, a table and a red stamp."""
    page = np.full((ph, pw, 3), rng.uniform(225, 250), np.float32)
    page += rng.uniform(-6, 3, 3)[None, None, :].astype(np.float32)  # slightly warm or cool paper
    page = page.astype(np.uint8)
    margin = int(pw * 0.1)
    scale = pw / 800
    y = int(ph * 0.08)
    cv2.putText(page, "APPLICATION FORM", (margin + int(pw * 0.12), y), cv2.FONT_HERSHEY_DUPLEX,
                1.1 * scale, (20, 20, 20), max(1, int(2 * scale)), cv2.LINE_AA)
    y += int(40 * scale)
    words = ("Name", "ID", "Address", "Phone", "Date", "Service", "Case", "Dept", "Reason", "Note")
    line_h = int(26 * scale) + 1
    for _ in range(int(rng.integers(4, 9))):
        text = " ".join(str(rng.choice(words)) + ":" + str(int(rng.integers(10, 99999))) for _ in range(3))
        cv2.putText(page, text, (margin, y), cv2.FONT_HERSHEY_SIMPLEX, 0.6 * scale, (30, 30, 30),
                    max(1, int(1.4 * scale)), cv2.LINE_AA)
        y += line_h
    # A table.
    rows, cols = int(rng.integers(3, 7)), int(rng.integers(2, 5))
    tx0, tx1 = margin, pw - margin
    ty0 = y + int(10 * scale)
    ty1 = min(ph - margin, ty0 + rows * int(34 * scale))
    for r in range(rows + 1):
        yy = ty0 + (ty1 - ty0) * r // rows
        cv2.line(page, (tx0, yy), (tx1, yy), (40, 40, 40), max(1, int(1.5 * scale)))
    for c in range(cols + 1):
        xx = tx0 + (tx1 - tx0) * c // cols
        cv2.line(page, (xx, ty0), (xx, ty1), (40, 40, 40), max(1, int(1.5 * scale)))
    y = ty1 + int(30 * scale)
    while y < ph - margin:
        n = int(rng.integers(20, 60))
        cv2.putText(page, " ".join("lorem" for _ in range(n // 6 + 1)), (margin, y),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.55 * scale, (35, 35, 35), max(1, int(1.2 * scale)), cv2.LINE_AA)
        y += line_h
    # A red stamp (公章) near the bottom right.
    cx, cy = int(pw * rng.uniform(0.6, 0.8)), int(ph * rng.uniform(0.7, 0.85))
    r = int(pw * 0.11)
    red = (40, 40, 200)
    cv2.circle(page, (cx, cy), r, red, max(2, int(4 * scale)), cv2.LINE_AA)
    star = np.array([[cx + r * 0.45 * math.cos(math.pi / 2 + k * 4 * math.pi / 5),
                      cy - r * 0.45 * math.sin(math.pi / 2 + k * 4 * math.pi / 5)] for k in range(5)], np.int32)
    cv2.fillPoly(page, [star], red)
    return page


def _shadow(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A soft shadow (of a hand, a lamp arm or the camera head) as a multiplicative map."""
    mask = np.zeros((h, w), np.float32)
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    pts = []
    for k in range(6):
        a = k * math.pi / 3 + rng.uniform(-0.4, 0.4)
        rad = rng.uniform(0.15, 0.4) * min(h, w)
        pts.append([cx + rad * math.cos(a), cy + rad * math.sin(a)])
    cv2.fillPoly(mask, [np.array(pts, np.int32)], 1.0)
    mask = cv2.GaussianBlur(mask, (0, 0), min(h, w) * 0.04)
    depth = rng.uniform(0.25, 0.45)
    return 1.0 - depth * mask


def make_frame(
    width: int = 1280,
    height: int = 720,
    *,
    desk: str = "wood",
    tilt_deg: float = 0.0,
    seed: int = 0,
    with_page: bool = True,
    shadow: bool = False,
    noise: float = 0.0,
    blur: float = 0.0,
) -> SynthFrame:
    rng = np.random.default_rng(seed)
    bg = _desk(desk, height, width, rng)
    # Uneven light: a broad gradient across the desk.
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    gx, gy = rng.uniform(-0.25, 0.25, 2)
    light = 1.0 + gx * (xx / width - 0.5) + gy * (yy / height - 0.5)
    corners = None
    img = bg
    if with_page:
        mw, mh = _PAGE_SIZES[int(rng.integers(len(_PAGE_SIZES)))]
        # Page size on the frame: its longer side covers 45–85 % of the frame's shorter side
        # (a document camera is set up so a page fills most of its view).
        page_long = rng.uniform(0.45, 0.8) * min(width, height) * (1.2 if mw > mh else 1.0)
        s = page_long / max(mw, mh)
        pw, ph = mw * s, mh * s
        page = _page(int(round(mw * 800 / 210)), int(round(mh * 800 / 210)), rng)
        a = math.radians(tilt_deg)
        rect = np.array([[-pw / 2, -ph / 2], [pw / 2, -ph / 2], [pw / 2, ph / 2], [-pw / 2, ph / 2]], np.float32)
        rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]], np.float32)
        pts = rect @ rot.T
        # A little perspective: the camera is not exactly above the page.
        pts += rng.uniform(-0.03, 0.03, (4, 2)).astype(np.float32) * np.float32(max(pw, ph))
        span = pts.max(0) - pts.min(0)
        margin = 0.04 * np.array([width, height], np.float32)
        lo = margin - pts.min(0)
        hi = np.array([width, height], np.float32) - margin - pts.max(0)
        if np.any(hi < lo):  # too big for this frame: shrink until it fits
            f = float(np.min((np.array([width, height]) - 2 * margin) / span))
            pts *= f
            lo = margin - pts.min(0)
            hi = np.array([width, height], np.float32) - margin - pts.max(0)
        centre = np.array([rng.uniform(lo[0], hi[0]), rng.uniform(lo[1], hi[1])], np.float32)
        corners = (pts + centre).astype(np.float32)
        src = np.array([[0, 0], [page.shape[1], 0], [page.shape[1], page.shape[0]], [0, page.shape[0]]], np.float32)
        m = cv2.getPerspectiveTransform(src, corners)
        warped = cv2.warpPerspective(page, m, (width, height), flags=cv2.INTER_AREA).astype(np.float32)
        # Anti-aliased page mask (supersampled edge) so edges look like a camera's, not a cut-out.
        mask = cv2.warpPerspective(np.ones(page.shape[:2], np.float32), m, (width, height), flags=cv2.INTER_LINEAR)
        # A faint contact shadow around the page lifts it off the desk like real paper.
        halo = cv2.GaussianBlur(mask, (0, 0), 3)
        bg = bg * (1 - 0.25 * halo[..., None] * (1 - mask[..., None]))
        img = bg * (1 - mask[..., None]) + warped * mask[..., None]
    img = img * light[..., None]
    if shadow:
        img = img * _shadow(height, width, rng)[..., None]
    if blur > 0:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    if noise > 0:
        img = img + rng.normal(0, noise, img.shape).astype(np.float32)
    return SynthFrame(np.clip(img, 0, 255).astype(np.uint8), corners, desk, tilt_deg)


def test_set(count: int, width: int = 1280, height: int = 720, seed: int = 1) -> list[SynthFrame]:
    """`count` varied frames: every desk, tilts up to 30°, shadows, noise and blur mixed in."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(count):
        frames.append(
            make_frame(
                width,
                height,
                desk=DESKS[i % len(DESKS)],
                tilt_deg=float(rng.uniform(-30, 30)),
                seed=int(rng.integers(1 << 30)),
                shadow=bool(i % 3 == 0),
                noise=float(rng.choice([0, 3, 8])),
                blur=float(rng.choice([0, 0.8, 1.6, 2.5])),
            )
        )
    return frames
