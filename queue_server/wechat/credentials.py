"""Where the server finds the WeChat secrets: the environment or systemd credentials,
never hall.yaml. Unlike `yizhan.settings.read_secret`, nothing is generated: a made-up
app secret would only earn errors from WeChat."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_API = "https://api.weixin.qq.com"


def _secret(env_name: str, cred_name: str, environ: dict[str, str]) -> str | None:
    value = environ.get(env_name, "").strip()
    if value:
        return value
    cred_dir = environ.get("CREDENTIALS_DIRECTORY")
    if cred_dir:
        path = Path(cred_dir) / cred_name
        if path.is_file():
            return path.read_text(encoding="utf-8").strip() or None
    return None


@dataclass(frozen=True)
class WechatSecrets:
    api_base: str
    app_secret: str | None  # for access tokens (qrcode/create, and handed to the bridge)
    callback_token: str | None  # the 令牌 entered in the console, for callback signatures


def load_secrets(environ: dict[str, str] | None = None) -> WechatSecrets:
    env = os.environ if environ is None else environ
    return WechatSecrets(
        api_base=(env.get("YIZHAN_WECHAT_API") or DEFAULT_API).rstrip("/"),
        app_secret=_secret("YIZHAN_WECHAT_SECRET", "wechat_secret", env),
        callback_token=_secret("YIZHAN_WECHAT_TOKEN", "wechat_token", env),
    )
