"""Voice prompts for elder mode (适老模式), spoken with espeak-ng's Mandarin voice.

`play` speaks through the sound card; `wav` (simulation) writes each prompt to a WAV file in
the state dir so nothing waits on real-time audio; `off` is silent. Speaking never blocks the
UI and a missing espeak-ng only logs once.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from pathlib import Path

logger = logging.getLogger(__name__)


class Voice:
    def __init__(self, mode: str = "play", out_dir: Path | None = None, lang: str = "cmn") -> None:
        self.mode = mode
        self.out_dir = out_dir
        self.lang = lang
        self._exe = shutil.which("espeak-ng")
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._count = 0
        self.spoken: list[str] = []  # the last prompts, for the tour and diagnostics
        if mode != "off" and self._exe is None:
            logger.warning("espeak-ng not found: elder-mode voice prompts are silent")

    def say(self, text: str) -> None:
        if self.mode == "off" or not text:
            return
        self.spoken = (self.spoken + [text])[-20:]
        if self._exe is None:
            return
        cmd = [self._exe, "-v", self.lang, "-s", "150", text]
        if self.mode == "wav" and self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self._count += 1
            cmd[1:1] = ["-w", str(self.out_dir / f"kiosk-voice-{self._count % 50:02d}.wav")]
        with self._lock:
            # A new prompt replaces the one still speaking: the citizen has moved on.
            if self._proc is not None and self._proc.poll() is None:
                self._proc.terminate()
            try:
                self._proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            except OSError as exc:
                logger.warning("voice prompt failed: %s", exc)
                self._proc = None

    def close(self) -> None:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
