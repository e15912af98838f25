"""Document camera: detection frames per second on one core, and accuracy on generated frames.

    .venv/bin/python bench/camera_fps.py
"""

from __future__ import annotations

import time

import cv2
import numpy as np

from kiosk.devices.camera.detect import corner_error, detect
from kiosk.devices.camera.synth import test_set

cv2.setNumThreads(1)  # one core, as on a kiosk that also runs its UI


def run(width: int, height: int, count: int = 40, rounds: int = 3) -> None:
    frames = test_set(count, width, height, seed=3)
    detect(frames[0].image)  # warm-up
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        found = [detect(f.image) for f in frames]
        best = min(best, time.perf_counter() - t0)
    diag = np.hypot(width, height)
    errs = [corner_error(c, f.corners) / diag if c is not None else 1.0 for c, f in zip(found, frames)]
    ok = sum(e < 0.015 for e in errs)
    print(f"{width}x{height}: {count / best:6.1f} fps ({1000 * best / count:5.1f} ms/frame), "
          f"corners within 1.5% of diagonal: {ok}/{count}, median error {100 * float(np.median(errs)):.2f}% of diagonal")


if __name__ == "__main__":
    print("cv2", cv2.__version__, "threads", cv2.getNumThreads())
    run(1280, 720)
    run(1920, 1080)
