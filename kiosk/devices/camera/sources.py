"""Where frames come from: a camera index, a video URL or file, an image folder, or the simulator.

One interface (`FrameSource.read() -> frame | None`) so the kiosk and the tests
do not care which. `open_source("0")`, `open_source("rtsp://…")`,
`open_source("/path/frames/")`, `open_source("simulator")`.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from pathlib import Path

import cv2
import numpy as np

from kiosk.devices.base import DeviceUnavailable

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


class CameraUnavailable(DeviceUnavailable):
    message_key = "camera.unavailable"


class FrameSource(ABC):
    @abstractmethod
    def read(self) -> np.ndarray | None:
        """The next BGR frame, or None at the end of a file/folder or when the camera gave none."""

    def close(self) -> None:
        """Releases the camera."""

    def __enter__(self) -> "FrameSource":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CaptureSource(FrameSource):
    """A camera index or a video URL/file through OpenCV's VideoCapture."""

    def __init__(self, spec: int | str, width: int | None = None, height: int | None = None) -> None:
        self.spec = spec
        self._cap = cv2.VideoCapture(spec)
        if not self._cap.isOpened():
            raise CameraUnavailable(f"cannot open {spec!r}")
        if width and height and isinstance(spec, int):
            self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)

    def read(self) -> np.ndarray | None:
        ok, frame = self._cap.read()
        return frame if ok else None

    def close(self) -> None:
        self._cap.release()


class FolderSource(FrameSource):
    """Recorded frames in name order; `loop=True` starts again at the end (a demo kiosk)."""

    def __init__(self, folder: Path | str, loop: bool = False) -> None:
        self.files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.files:
            raise CameraUnavailable(f"no images in {folder}")
        self.loop = loop
        self._i = 0

    def read(self) -> np.ndarray | None:
        if self._i >= len(self.files):
            if not self.loop:
                return None
            self._i = 0
        path = self.files[self._i]
        self._i += 1
        frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if frame is None:
            logger.warning("unreadable frame %s skipped", path.name)
        return frame


class SimulatedCamera(FrameSource):
    """A page sliding in, resting (auto-capture fires), then the next page."""

    def __init__(self, width: int = 1280, height: int = 720, seed: int = 7, frames_per_page: int = 40) -> None:
        from kiosk.devices.camera.synth import DESKS, make_frame

        self._make = make_frame
        self._desks = DESKS
        self.width, self.height = width, height
        self.seed = seed
        self.frames_per_page = frames_per_page
        self._n = 0
        self._cache: dict[int, np.ndarray] = {}

    def read(self) -> np.ndarray | None:
        page, k = divmod(self._n, self.frames_per_page)
        self._n += 1
        if k < 5:  # the desk is empty between pages
            key = -1 - page % 4
            if key not in self._cache:
                self._cache = {key: self._make(self.width, self.height, desk=self._desks[page % 4], seed=page, with_page=False).image}
            return self._cache[key]
        if page not in self._cache:
            self._cache = {page: self._make(self.width, self.height, desk=self._desks[page % 4],
                                            tilt_deg=(page * 7) % 40 - 20, seed=self.seed + page).image}
        frame = self._cache[page]
        if k < 12:  # still being pushed into place
            shift = (12 - k) * 6
            return np.roll(frame, shift, axis=1)
        return frame


def open_source(spec: str, width: int | None = None, height: int | None = None) -> FrameSource:
    spec = spec.strip()
    if spec == "simulator":
        return SimulatedCamera(width or 1280, height or 720)
    if spec.isdigit():
        return CaptureSource(int(spec), width, height)
    if "://" not in spec and Path(spec).is_dir():
        return FolderSource(spec)
    return CaptureSource(spec)
