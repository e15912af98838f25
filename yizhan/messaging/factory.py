"""Builds the right Messenger for a process from the settings (DESIGN.md, "Configuration").

- `YIZHAN_MQTT_URL=mqtt://user:pass@host:port` (or `mqtts://` for TLS) → that broker;
  a password left out of the URL is read from YIZHAN_MQTT_PASSWORD or the systemd
  credential `mqtt_password`.
- unset → the embedded broker of `yizhan server` on loopback, port YIZHAN_MQTT_PORT
  (0 = read `<state dir>/mqtt.port`, written by the server).
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from yizhan.clock import Clock, SystemClock
from yizhan.i18n import t
from yizhan.messaging import topics
from yizhan.messaging.broker import PORT_FILE
from yizhan.messaging.mqtt import MqttMessenger, Will
from yizhan.settings import Settings


class MessagingConfigError(ValueError):
    """A broker address that cannot be used; the message says how to fix it (Chinese first)."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(bilingual(key, **params))


def bilingual(key: str, **params: object) -> str:
    """'中文 / English' for messages printed to an operator's terminal."""
    return f"{t(key, **params)} / {t(key, 'en', **params)}"


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False
    embedded: bool = False

    def __str__(self) -> str:  # never shows the password
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"


def parse_mqtt_url(url: str, environ: dict[str, str] | None = None) -> BrokerAddress:
    env = os.environ if environ is None else environ
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise MessagingConfigError("mqtt.url_scheme", scheme=parts.scheme)
    tls = parts.scheme in ("mqtts", "ssl")
    if not parts.hostname:
        raise MessagingConfigError("mqtt.url_no_host")
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError:
        raise MessagingConfigError("mqtt.url_bad_port") from None
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if username and password is None:
        password = _password_from_secret(env)
    return BrokerAddress(parts.hostname, port, username, password, tls)


def _password_from_secret(env: dict[str, str]) -> str | None:
    if env.get("YIZHAN_MQTT_PASSWORD"):
        return env["YIZHAN_MQTT_PASSWORD"]
    cred = env.get("CREDENTIALS_DIRECTORY")
    if cred and (Path(cred) / "mqtt_password").is_file():
        return (Path(cred) / "mqtt_password").read_text().strip()
    return None


def broker_address(settings: Settings, environ: dict[str, str] | None = None) -> BrokerAddress:
    if settings.mqtt_url:
        return parse_mqtt_url(settings.mqtt_url, environ)
    port = settings.mqtt_port
    if port == 0:
        path = settings.state_dir / PORT_FILE
        try:
            port = int(path.read_text().strip())
        except (FileNotFoundError, ValueError):
            raise MessagingConfigError("mqtt.port_file_missing", path=path) from None
    return BrokerAddress("127.0.0.1", port, embedded=True)


def envelope(hall: str, clock: Clock | None = None) -> dict:
    """The fields every payload starts with."""
    now = (clock or SystemClock()).now()
    return {"event_id": uuid.uuid4().hex, "hall": hall, "at": now.isoformat(timespec="milliseconds")}


def encode(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def server_status_payload(hall: str, state: str, clock: Clock | None = None) -> bytes:
    return encode(envelope(hall, clock) | {"state": state})


def device_status_payload(hall: str, device: str, kind: str, state: str, parts: dict | None = None,
                          clock: Clock | None = None) -> bytes:
    return encode(envelope(hall, clock) | {"device": device, "kind": kind, "state": state, "parts": parts or {}})


def server_will(hall: str, clock: Clock | None = None) -> Will:
    return Will(topics.server_status(hall), lambda: server_status_payload(hall, "offline", clock))


def device_will(hall: str, device: str, kind: str, clock: Clock | None = None) -> Will:
    """Every process that owns hardware sets this: the broker marks the device offline
    when the process dies or its link drops."""
    return Will(topics.device_status(hall, device), lambda: device_status_payload(hall, device, kind, "offline", None, clock))


def build_messenger(
    settings: Settings,
    *,
    client_id: str,
    will: Will | None = None,
    clean_session: bool = True,
    environ: dict[str, str] | None = None,
) -> MqttMessenger:
    """A started-later MqttMessenger for this process.

    Subscribers that must not miss a call across their own short disconnects (displays,
    the WeChat bridge) pass `clean_session=False` with a stable `client_id`: the broker then
    queues QoS 1 messages for them while they are away.
    """
    addr = broker_address(settings, environ)
    return MqttMessenger(
        addr.host,
        addr.port,
        client_id=client_id,
        username=addr.username,
        password=addr.password,
        will=will,
        clean_session=clean_session,
        tls=addr.tls,
    )
