"""`python -m display_board.voice.make_pack DIR`: writes a complete voice pack rendered by
espeak-ng, as a template for recording a human voice (same file names, record over them).

A pack is a folder of WAV clips named by what they say; docs/display.md lists them.
"""

from __future__ import annotations

import argparse
import string
import sys
from pathlib import Path

from display_board.voice import audio
from display_board.voice.engines import EspeakClips, VoiceUnavailable
from display_board.voice.phrases import DIGITS

PHRASES = ["请", "号", "到", "窗口", "号窗口", "办理", "十"]


def clip_names() -> list[str]:
    return list(DIGITS) + list(string.ascii_uppercase) + PHRASES


def make_pack(folder: Path, voice: str = "cmn-latn-pinyin", speed: int = 165) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    source = EspeakClips(voice, speed)
    written = []
    for name in clip_names():
        path = folder / f"{name}.wav"
        audio.write_wav(path, source.clip(name))
        written.append(path)
    chime = folder / "chime.wav"
    audio.write_wav(chime, audio.chime())
    return written + [chime]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="生成一个 espeak-ng 语音包（可作为录制真人语音的模板）")
    parser.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    try:
        files = make_pack(args.folder)
    except VoiceUnavailable as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{len(files)} 个片段已写入 {args.folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
