"""Where an announcement's sound goes: the sound card (a player program) or WAV files (--simulate)."""

from __future__ import annotations

import logging
import shlex
import shutil
import subprocess
import threading
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from display_board.voice import audio

logger = logging.getLogger(__name__)


class PlayerError(Exception):
    """The sound could not be played; the text says why."""


class AudioOutput(ABC):
    @abstractmethod
    def play(self, samples: np.ndarray, name: str) -> str:
        """Plays (or writes) the announcement; blocks until it has finished sounding.
        Returns where it went (a device or a file)."""

    def check(self) -> None:
        """Raises PlayerError when the output cannot work at all."""


class WavFiles(AudioOutput):
    """--simulate: every announcement becomes a numbered WAV file, written without real-time waiting."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._n = len(list(self.folder.glob("*.wav")))
        self._lock = threading.Lock()

    def play(self, samples: np.ndarray, name: str) -> str:
        with self._lock:
            self._n += 1
            path = self.folder / f"{self._n:06d}-{name}.wav"
        try:
            audio.write_wav(path, samples)
        except OSError as exc:
            raise PlayerError(f"无法写入语音文件 {path}：{exc}") from None
        return str(path)


def detect_player() -> list[str] | None:
    for cmd in (["paplay"], ["aplay", "-q"], ["play", "-q"]):
        if shutil.which(cmd[0]):
            return cmd
    return None


class CommandPlayer(AudioOutput):
    """Plays through a program (paplay, aplay, sox's play). One at a time: the caller waits."""

    def __init__(self, command: str, scratch_dir: Path) -> None:
        if command == "auto":
            found = detect_player()
            self.argv = found or []
        else:
            self.argv = shlex.split(command)
        self.scratch = Path(scratch_dir) / "voice-now.wav"
        self.scratch.parent.mkdir(parents=True, exist_ok=True)

    def check(self) -> None:
        if not self.argv:
            raise PlayerError("找不到播放程序（安装 pulseaudio-utils、alsa-utils 或 sox）")
        if not shutil.which(self.argv[0]):
            raise PlayerError(f"找不到播放程序 {self.argv[0]}")

    def play(self, samples: np.ndarray, name: str) -> str:
        self.check()
        audio.write_wav(self.scratch, samples)
        argv = [a.replace("{path}", str(self.scratch)) for a in self.argv]
        if not any("{path}" in a for a in self.argv):
            argv.append(str(self.scratch))
        try:
            proc = subprocess.run(argv, capture_output=True, timeout=audio.duration(samples) + 15, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PlayerError(f"播放失败：{exc}") from None
        if proc.returncode != 0:
            detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise PlayerError(f"{self.argv[0]} 播放失败：{detail[-1] if detail else proc.returncode}")
        return self.argv[0]
