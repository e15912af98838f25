"""RS-485 keypad bus configuration (owned by the keypads bus master)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class WindowKeypads(_Strict):
    keypad: int | None = Field(None, ge=1, le=247, description="bus address of the evaluation keypad (评价器)")
    caller: int | None = Field(None, ge=1, le=247, description="bus address of the hardware caller (叫号器)")


class KeypadBusConfig(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    port: str = Field("simulator", description="serial port or pyserial URL; simulator = simulated bus")
    baudrate: int = 9600
    rating_timeout_s: int = Field(30, ge=5, le=300, description="no press within this time = not rated")
    windows: dict[str, WindowKeypads] = Field(default_factory=dict)
