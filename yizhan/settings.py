"""Environment settings shared by every process (DESIGN.md, "Configuration")."""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    config_dir: Path
    state_dir: Path
    db_url: str
    mqtt_url: str | None
    mqtt_port: int
    host: str
    port: int
    server_url: str
    token: str | None

    @property
    def config_file(self) -> Path:
        return self.config_dir / "hall.yaml"


def default_state_dir() -> Path:
    return PROJECT_ROOT / "var"


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    config_dir = Path(env.get("YIZHAN_CONFIG") or PROJECT_ROOT / "config")
    state_dir = Path(env.get("YIZHAN_STATE_DIR") or default_state_dir())
    host = env.get("YIZHAN_HOST", "127.0.0.1")
    port = int(env.get("YIZHAN_PORT", "8080"))
    db_url = env.get("YIZHAN_DB_URL") or f"sqlite:///{state_dir / 'yizhan.db'}"
    return Settings(
        config_dir=config_dir,
        state_dir=state_dir,
        db_url=db_url,
        mqtt_url=env.get("YIZHAN_MQTT_URL") or None,
        mqtt_port=int(env.get("YIZHAN_MQTT_PORT", "1883")),
        host=host,
        port=port,
        server_url=(env.get("YIZHAN_SERVER_URL") or f"http://{host}:{port}").rstrip("/"),
        token=env.get("YIZHAN_TOKEN") or None,
    )


def read_secret(name: str, state_dir: Path, environ: dict[str, str] | None = None) -> bytes:
    """A secret from the environment (YIZHAN_<NAME>), from systemd's credentials
    ($CREDENTIALS_DIRECTORY/<name>), or — for a development hall only — generated
    once into the state dir so restarts keep it."""
    env = os.environ if environ is None else environ
    value = env.get("YIZHAN_" + name.upper())
    if value:
        return value.encode()
    cred_dir = env.get("CREDENTIALS_DIRECTORY")
    if cred_dir and (Path(cred_dir) / name).is_file():
        return (Path(cred_dir) / name).read_bytes().strip()
    path = state_dir / "secrets" / name
    if path.is_file():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    value_b = secrets.token_hex(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(value_b)
    logger.warning("secret %s not configured; generated one in %s (set it for production)", name, path.parent)
    return value_b
