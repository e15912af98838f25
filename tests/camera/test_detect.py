"""Page detection on generated frames with known corners (every desk, tilts to 30°, shadows, noise, blur)."""

import numpy as np
import pytest

from kiosk.devices.camera import detect
from kiosk.devices.camera.detect import corner_error
from kiosk.devices.camera.synth import DESKS, make_frame, test_set as make_test_set


@pytest.fixture(scope="module")
def frames():
    return make_test_set(80, 1280, 720, seed=11)


def test_corners_within_1_5_percent_of_diagonal_on_95_percent(frames):
    good = 0
    failures = []
    for i, f in enumerate(frames):
        c = detect(f.image)
        diag = float(np.hypot(*f.image.shape[:2]))
        if c is not None and corner_error(c, f.corners) < 0.015 * diag:
            good += 1
        else:
            failures.append((i, f.desk, round(f.tilt_deg)))
    assert good >= 0.95 * len(frames), failures


def test_set_covers_every_desk_tilt_shadow_noise_and_blur(frames):
    assert {f.desk for f in frames} == set(DESKS)
    assert max(abs(f.tilt_deg) for f in frames) > 25


@pytest.mark.parametrize("desk", DESKS)
def test_frame_without_a_page_is_refused(desk):
    for seed in range(5):
        f = make_frame(1280, 720, desk=desk, seed=seed, with_page=False, shadow=seed % 2 == 0, noise=3)
        assert detect(f.image) is None


def test_corners_are_clockwise_from_top_left():
    f = make_frame(1280, 720, desk="dark", tilt_deg=25, seed=5)
    c = detect(f.image)
    assert c is not None
    # top-left is the upper-left-most; clockwise means the second corner is to its right
    assert c[0][0] + c[0][1] <= min(p[0] + p[1] for p in c) + 1
    assert c[1][0] > c[0][0] and c[3][1] > c[0][1]


def test_full_hd_frames():
    frames = make_test_set(20, 1920, 1080, seed=5)
    diag = np.hypot(1920, 1080)
    good = sum(1 for f in frames if (c := detect(f.image)) is not None and corner_error(c, f.corners) < 0.015 * diag)
    assert good >= 19
