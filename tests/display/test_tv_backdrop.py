"""The TV's backdrop fills each pixel once: the background only where no panel is."""

from __future__ import annotations

import random

from display_board.tv.backdrop import uncovered


def inside(p, r) -> bool:
    return r[0] <= p[0] < r[0] + r[2] and r[1] <= p[1] < r[1] + r[3]


def test_background_and_panels_tile_the_screen_without_overlap():
    rng = random.Random(4)
    area = (0.0, 0.0, 1920.0, 1080.0)
    for _ in range(30):
        covers = []
        for _ in range(rng.randint(0, 12)):
            x, y = rng.uniform(-50, 1900), rng.uniform(-50, 1060)
            covers.append((x, y, rng.uniform(1, 700), rng.uniform(1, 400)))
        free = uncovered(area, covers)
        for _ in range(400):
            p = (rng.uniform(0, 1920), rng.uniform(0, 1080))
            in_free = sum(inside(p, r) for r in free)
            assert in_free == (0 if any(inside(p, c) for c in covers) else 1)
        assert all(r[2] > 0 and r[3] > 0 for r in free)


def test_the_tv_layout_needs_few_background_pieces():
    # header, two panels, five chips, the notice bar (the layout of tv.kv at 1920×1080)
    covers = [(0, 972, 1920, 108), (21.6, 287.3, 1032.8, 663.1), (1076, 287.3, 822.4, 663.1), (0, 0, 1920, 86.4)]
    covers += [(16.2 + i * 377.5 + 6, 91.8 + 4, 365.5, 178.5) for i in range(5)]
    free = uncovered((0, 0, 1920, 1080), covers)
    assert 0 < len(free) <= 20
    assert sum(w * h for _, _, w, h in free) < 0.2 * 1920 * 1080
