"""WeChat service account (公众号) settings of a hall (owned by the WeChat bridge).

Only what is not secret lives here: the app id, template ids and when to notify. The app
secret and the callback token come from the environment or systemd credentials
(docs/wechat.md)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Keys of a category template's data: the prefix is the value type WeChat checks.
FIELD_KEY_RE = re.compile(r"^(thing|phrase|number|character_string|letter|symbol|time|date|name|keyword)\d+$")

# What the bridge can put into a template (our names → the template's keys).
FIELD_NAMES = ("number", "status", "ahead", "window", "queue", "note", "time")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class WechatTemplate(_Strict):
    id: str = Field(min_length=8, max_length=64, description="template_id from the WeChat console")
    fields: dict[Literal["number", "status", "ahead", "window", "queue", "note", "time"], str] = Field(
        min_length=1,
        description="our value → the template's key, e.g. number: character_string1, status: phrase2, window: thing4",
    )

    @field_validator("fields")
    @classmethod
    def _keys(cls, v: dict[str, str]) -> dict[str, str]:
        for ours, key in v.items():
            if not FIELD_KEY_RE.match(key):
                raise ValueError(
                    f"{ours}: {key!r} 不是模板字段名；应为 thing1、phrase2、number3、character_string4、time5 这样的字段名"
                    "（见公众平台模板详情）"
                )
        if len(set(v.values())) != len(v):
            raise ValueError("两个值填进了同一个模板字段；每个模板字段只能用一次")
        if "number" not in v:
            raise ValueError("模板必须包含号码字段 number（例如 number: character_string1）")
        return v


class WechatConfig(_Strict):
    app_id: str = Field(pattern=r"^wx[0-9a-zA-Z]{16}$", description="the service account's AppID (not secret)")
    account_name: str = Field(min_length=1, max_length=30, description="shown on the phone page: 关注「…」")
    message: Literal["template", "subscribe"] = Field(
        "template", description="template = 模板消息 (certified 服务号); subscribe = 订阅通知 (bizsend)"
    )
    template: WechatTemplate
    thresholds: list[int] = Field(default_factory=lambda: [3, 1], description="notify when this many (or fewer) are ahead")
    notify_skipped: bool = True
    daily_quota: int = Field(100_000, ge=1, le=100_000_000, description="notices per day before the bridge stops")
    parametric_qr: bool = Field(True, description="the phone page offers a follow QR bound to the ticket")

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, v: list[int]) -> list[int]:
        if not v:
            raise ValueError("至少一个提醒点，例如 [3, 1]")
        if any(n < 0 or n > 50 for n in v):
            raise ValueError("提醒点应在 0 到 50 之间（前面还有几人时提醒）")
        if len(set(v)) != len(v):
            raise ValueError("提醒点重复了")
        return sorted(v, reverse=True)

    @model_validator(mode="after")
    def _status_for_calls(self) -> "WechatConfig":
        if "status" not in self.template.fields and "window" not in self.template.fields:
            raise ValueError("模板至少要有 status 或 window 字段，否则叫号提醒说不出去哪个窗口")
        return self
