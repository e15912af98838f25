"""Where the sound of a phrase comes from: espeak-ng, or a folder of recorded WAV clips.

Both engines hand out each phrase rendered once and cached, so a call is
assembled from memory in about a millisecond and the first sound is never
waiting on synthesis.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from display_board.voice import audio

logger = logging.getLogger(__name__)


class VoiceUnavailable(Exception):
    """The engine cannot say a phrase (program missing, clip missing); the text says what to fix."""


class ClipSource(ABC):
    name: str = ""

    def __init__(self) -> None:
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self.rendered = 0  # phrases actually synthesised or read (the rest came from the cache)

    def clip(self, phrase: str) -> np.ndarray:
        with self._lock:
            cached = self._cache.get(phrase)
        if cached is not None:
            return cached
        samples = self._render(phrase)
        with self._lock:
            self._cache[phrase] = samples
            self.rendered += 1
        return samples

    def chime(self) -> np.ndarray:
        return audio.chime()

    @abstractmethod
    def _render(self, phrase: str) -> np.ndarray: ...

    @abstractmethod
    def check(self) -> None:
        """Raises VoiceUnavailable when the engine cannot work at all."""


class EspeakClips(ClipSource):
    name = "espeak"

    def __init__(self, voice: str = "cmn-latn-pinyin", speed: int = 165, program: str = "espeak-ng") -> None:
        super().__init__()
        self.voice = voice
        self.speed = speed
        self.program = program

    def check(self) -> None:
        if not shutil.which(self.program):
            raise VoiceUnavailable(f"找不到语音程序 {self.program}（apt install espeak-ng）")
        self.clip("请")

    def _render(self, phrase: str) -> np.ndarray:
        path = shutil.which(self.program)
        if not path:
            raise VoiceUnavailable(f"找不到语音程序 {self.program}（apt install espeak-ng）")
        try:
            proc = subprocess.run(
                [path, "-v", self.voice, "-s", str(self.speed), "--stdout", phrase],
                capture_output=True, timeout=10, check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise VoiceUnavailable(f"{self.program} 运行失败：{exc}") from None
        if proc.returncode != 0 or not proc.stdout.startswith(b"RIFF"):
            detail = proc.stderr.decode("utf-8", "replace").strip()[:200]
            raise VoiceUnavailable(f"{self.program} 无法朗读（语音 {self.voice}）：{detail or proc.returncode}")
        # espeak streams a WAV whose header sizes are unknown (0xFFFFFFFF); fix them before parsing.
        data = bytearray(proc.stdout)
        data[4:8] = (len(data) - 8).to_bytes(4, "little")
        idx = data.find(b"data")
        if idx >= 0:
            data[idx + 4 : idx + 8] = (len(data) - idx - 8).to_bytes(4, "little")
        return audio.trim(audio.read_wav(bytes(data)))


class WavPackClips(ClipSource):
    """A voice pack: a folder of WAV clips named by what they say (请.wav, 号.wav, A.wav, 零.wav,
    十.wav, 号窗口.wav, 办理.wav …) and optionally chime.wav. A phrase without its own clip is
    assembled from the longest clips that spell it."""

    name = "wav_pack"

    def __init__(self, folder: str | Path) -> None:
        super().__init__()
        self.folder = Path(folder)
        self._files: dict[str, Path] = {}
        self._longest = 1

    def _index(self) -> None:
        if not self.folder.is_dir():
            raise VoiceUnavailable(f"语音包目录不存在：{self.folder}")
        self._files = {p.stem.upper() if len(p.stem) == 1 else p.stem: p for p in self.folder.glob("*.wav")}
        if not self._files:
            raise VoiceUnavailable(f"语音包目录中没有 WAV 文件：{self.folder}")
        self._longest = max(len(k) for k in self._files)

    def check(self) -> None:
        self._index()
        from display_board.voice.phrases import DIGITS

        missing = [d for d in DIGITS if d not in self._files]
        if missing:
            raise VoiceUnavailable(f"语音包 {self.folder} 缺少数字片段：{'、'.join(missing)}")

    def split(self, phrase: str) -> list[str]:
        """Greedy longest-match of the phrase onto clip names; VoiceUnavailable names the gaps."""
        if not self._files:
            self._index()
        parts: list[str] = []
        missing: list[str] = []
        i = 0
        text = "".join(phrase.split())
        while i < len(text):
            for length in range(min(self._longest, len(text) - i), 0, -1):
                piece = text[i : i + length]
                key = piece.upper() if length == 1 else piece
                if key in self._files:
                    parts.append(key)
                    i += length
                    break
            else:
                missing.append(text[i])
                i += 1
        if missing:
            raise VoiceUnavailable(f"语音包 {self.folder} 缺少片段：{'、'.join(dict.fromkeys(missing))}")
        return parts

    def _render(self, phrase: str) -> np.ndarray:
        pieces = []
        for key in self.split(phrase):
            try:
                pieces.append(audio.trim(audio.read_wav(self._files[key])))
            except (OSError, EOFError, ValueError) as exc:
                raise VoiceUnavailable(f"语音包片段 {self._files[key].name} 无法读取：{exc}") from None
        return np.concatenate(pieces) if pieces else audio.silence(0)

    def chime(self) -> np.ndarray:
        if not self._files:
            self._index()
        path = self._files.get("chime")
        if path is None:
            return audio.chime()
        try:
            return audio.read_wav(path)
        except (OSError, EOFError, ValueError) as exc:
            raise VoiceUnavailable(f"语音包提示音 chime.wav 无法读取：{exc}") from None


class Voice:
    """Assembles one announcement: chime, then the call said `repeat` times."""

    def __init__(self, source: ClipSource, template: str, repeat: int = 2, chime: bool = True, gap_s: float = 0.6) -> None:
        from display_board.voice.phrases import check_template

        check_template(template)
        self.source = source
        self.template = template
        self.repeat = repeat
        self.use_chime = chime
        self.gap_s = gap_s

    def phrases(self, ticket: str, window_spoken: str) -> list[str]:
        from display_board.voice.phrases import phrases

        return phrases(self.template, ticket, window_spoken)

    def render(self, ticket: str, window_spoken: str) -> np.ndarray:
        gap = audio.silence(0.05)
        saying: list[np.ndarray] = []
        for phrase in self.phrases(ticket, window_spoken):
            saying += [self.source.clip(phrase), gap]
        once = np.concatenate(saying)
        parts = [self.source.chime()] if self.use_chime else []
        for i in range(self.repeat):
            if i:
                parts.append(audio.silence(self.gap_s))
            parts.append(once)
        parts.append(audio.silence(0.2))
        return np.concatenate(parts)

    def warm(self, windows_spoken: list[str]) -> None:
        """Renders the phrases every call uses (digits, letters, windows) ahead of the first call."""
        from display_board.voice.phrases import DIGITS, speak_window

        for phrase in self.phrases("", "") + list(DIGITS) + [speak_window(w) for w in windows_spoken]:
            if phrase:
                self.source.clip(phrase)
        self.source.chime()
