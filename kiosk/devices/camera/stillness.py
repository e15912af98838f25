"""When to capture by itself: the page was found and has stopped moving (pure).

Feed every preview frame's corners (or None). `update` returns True once per
resting page: after the corners moved less than `tolerance` (share of the frame
diagonal) for `frames_needed` consecutive frames. It re-arms only after the
page moved or went away, so one page is not captured twice.
"""

from __future__ import annotations

import numpy as np


class StillnessDetector:
    def __init__(self, frames_needed: int = 8, tolerance: float = 0.004) -> None:
        self.frames_needed = frames_needed
        self.tolerance = tolerance
        self._last: np.ndarray | None = None
        self._still = 0
        self._fired = False

    def reset(self) -> None:
        self._last, self._still, self._fired = None, 0, False

    @property
    def progress(self) -> float:
        """0…1, for a filling ring on the preview."""
        return min(1.0, self._still / self.frames_needed)

    def update(self, corners: np.ndarray | None, frame_shape: tuple[int, ...]) -> bool:
        if corners is None:
            self.reset()
            return False
        diag = float(np.hypot(frame_shape[0], frame_shape[1]))
        c = np.asarray(corners, np.float32)
        if self._last is not None and float(np.max(np.linalg.norm(c - self._last, axis=1))) <= self.tolerance * diag:
            self._still += 1
        else:
            if self._last is not None and self._fired:
                self._fired = False  # moved: the next rest is a new page
            self._still = 0
        self._last = c
        if self._still >= self.frames_needed and not self._fired:
            self._fired = True
            return True
        return False
