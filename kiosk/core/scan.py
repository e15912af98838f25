"""The document camera's live feed for the scan screen (no Kivy).

A daemon thread reads frames, finds the page and tracks stillness; the UI thread only
copies the latest snapshot into a texture. An auto-capture is posted to the UI thread
through `post`, so the core's state still changes on one thread only.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from kiosk.devices.camera import StillnessDetector, clean, detect, flatten

logger = logging.getLogger(__name__)

FRAME_INTERVAL_S = 1 / 15  # the preview needs no more; detection is the costly part
FAILS_BEFORE_DOWN = 30  # consecutive empty reads/errors before the screen says the camera failed
PREVIEW_WIDTH = 960  # frames are shrunk once on the worker, so the UI thread uploads little


@dataclass
class Snapshot:
    seq: int
    frame: np.ndarray  # BGR, at most PREVIEW_WIDTH wide
    corners: np.ndarray | None  # in the preview frame's pixels
    progress: float  # 0…1 stillness, for the capture ring


class CameraFeed:
    def __init__(self, source, on_auto: Callable[[], None] | None = None, post: Callable | None = None) -> None:
        self.source = source
        self._on_auto = on_auto
        self._post = post
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._snap: Snapshot | None = None
        self._full: tuple[np.ndarray, np.ndarray | None] | None = None
        self.failed = False
        self._still = StillnessDetector()
        self._thread = threading.Thread(target=self._run, name="kiosk-camera", daemon=True)

    def start(self) -> "CameraFeed":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def snapshot(self) -> Snapshot | None:
        with self._lock:
            return self._snap

    def latest_full(self) -> tuple[np.ndarray, np.ndarray | None] | None:
        """The last full-resolution frame and its page corners (for a capture)."""
        with self._lock:
            return self._full

    def _run(self) -> None:
        fails, seq = 0, 0
        while not self._stop.is_set():
            t0 = time.monotonic()
            try:
                frame = self.source.read()
            except Exception as exc:  # a camera unplugged mid-use: say so on screen, keep the kiosk
                logger.warning("camera read failed: %s", exc)
                frame = None
            if frame is None:
                fails += 1
                if fails >= FAILS_BEFORE_DOWN and not self.failed:
                    logger.warning("document camera gives no frames")
                    self.failed = True  # the screen's preview tick reads this
                self._stop.wait(0.1)
                continue
            if self.failed:
                logger.info("document camera gives frames again")
                self.failed = False
            fails = 0
            corners = detect(frame)
            fired = self._still.update(corners, frame.shape)
            scale = min(1.0, PREVIEW_WIDTH / frame.shape[1])
            small = frame
            if scale < 1.0:
                import cv2

                small = cv2.resize(frame, (int(frame.shape[1] * scale), int(frame.shape[0] * scale)), interpolation=cv2.INTER_AREA)
            seq += 1
            with self._lock:
                self._full = (frame, corners)
                self._snap = Snapshot(seq, small, None if corners is None else corners * scale, self._still.progress)
            if fired and self._on_auto is not None and self._post is not None and not self._stop.is_set():
                self._post(self._on_auto)
            self._stop.wait(max(0.0, FRAME_INTERVAL_S - (time.monotonic() - t0)))


def make_page(frame: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """The flattened, evenly lit page (runs on a worker: a few tens of ms)."""
    return clean(flatten(frame, corners), bw=False)
