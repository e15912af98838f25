"""Display board configuration (owned by display_board)."""

from __future__ import annotations

from typing import Literal

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LedBoardConfig(_Strict):
    address: str = Field("simulator", description="serial:///dev/ttyUSB1?baudrate=9600, tcp://HOST:PORT or simulator")
    bus_address: int = Field(1, ge=0, le=255)
    protocol: Literal["yizhan"] = "yizhan"
    lines: int = Field(4, ge=1, le=32)
    columns: int = Field(16, ge=4, le=128, description="Chinese characters per line")
    brightness: int = Field(12, ge=0, le=15, description="0 = darkest, 15 = brightest")
    title: str = Field("", description="first line of the board; empty = the hall's name")
    show_waiting: bool = Field(True, description="last line scrolls the waiting count of each queue")


class WindowStripsConfig(_Strict):
    address: str = Field("simulator", description="the shared RS-485 bus of the window strips")
    protocol: Literal["yizhan"] = "yizhan"
    windows: dict[str, int] = Field(description="window id → strip bus address")
    brightness: int = Field(12, ge=0, le=15)


class TvConfig(_Strict):
    enabled: bool = True
    width: int = 1920
    height: int = 1080
    fullscreen: bool = True
    history: int = Field(8, ge=1, le=20)
    flash_s: float = Field(5.0, ge=0, le=30)
    font: str = Field("", description="a Simplified Chinese font file; empty = WenQuanYi Micro Hei or Noto Sans CJK SC")
    notice_fps: int = Field(15, ge=0, le=60, description="steps a second of the scrolling notice; 0 = a still notice (weak TV PCs)")


class VoiceConfig(_Strict):
    engine: Literal["espeak", "wav_pack", "none"] = "espeak"
    voice: str = "cmn-latn-pinyin"
    pack_dir: str = Field("", description="folder of WAV clips for the wav_pack engine")
    repeat: int = Field(2, ge=1, le=5)
    chime: bool = True
    template: str = "请{number}号到{window}办理"
    speed: int = Field(165, ge=80, le=400, description="espeak words per minute")
    gap_s: float = Field(0.6, ge=0, le=5, description="silence between repeats")
    player: str = Field("auto", description="auto (paplay, aplay or sox play) or a command taking a WAV path")

    @field_validator("template")
    @classmethod
    def _template(cls, v: str) -> str:
        names = set(re.findall(r"\{(\w*)\}", v))
        unknown = names - {"number", "window"}
        if unknown:
            raise ValueError(f"语音模板中的 {{{', '.join(sorted(unknown))}}} 无法识别；可用 {{number}}（票号）与 {{window}}（窗口）")
        if "number" not in names:
            raise ValueError("语音模板必须包含 {number}（票号），例如 请{number}号到{window}办理")
        return v


class DisplayConfig(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    name: str = ""
    led_board: LedBoardConfig | None = None
    window_strips: WindowStripsConfig | None = None
    tv: TvConfig | None = None
    voice: VoiceConfig | None = None
    queues: list[str] = Field(default_factory=list, description="queues shown; empty = all")

    def referenced_windows(self) -> list[str]:
        return list(self.window_strips.windows) if self.window_strips else []
