"""Fixtures for the WeChat tests: the fake WeChat API, a real Mosquitto, a real
`yizhan server` and `yizhan wechat` processes wired to them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.fixtures_hall import ServerProcess, start_server, yizhan, yizhan_env  # noqa: E402
from tests.fixtures_mqtt import USERS, Collector, messenger_factory, mosquitto_factory  # noqa: E402,F401
from tests.wechat.fake_wechat import APP_SECRET, FakeWeChat, event_xml, sign_params  # noqa: E402
from yizhan.messaging import topics  # noqa: E402
from yizhan.messaging.factory import device_status_payload  # noqa: E402

HALL_DIR = ROOT / "tests" / "wechat" / "hall"
HALL_ID = "wxhall"
CALLBACK_TOKEN = "yizhan-callback-token-42"


@pytest.fixture
def fake_wechat():
    fake = FakeWeChat().start()
    yield fake
    fake.stop()


@pytest.fixture
def broker(mosquitto_factory):  # noqa: F811
    return mosquitto_factory("hall", hall=HALL_ID)


@dataclass
class Hall:
    """A running server with the tokens a test needs, and helpers that act like the kiosk,
    the clerk and WeChat's servers."""

    server: ServerProcess
    kiosk: str
    clerks: dict[str, str]
    wechat_token: str
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))
    _keys: int = 0

    @property
    def url(self) -> str:
        return self.server.url

    def issue(self, service: str = "SB001") -> dict:
        self._keys += 1
        r = self.http.post(f"{self.url}/api/v1/tickets", headers={"Authorization": f"Bearer {self.kiosk}"},
                           json={"service": service, "idempotency_key": f"wx-{uuid.uuid4().hex}"})
        assert r.status_code == 201, r.text
        return r.json()

    def clerk(self, window: str, action: str) -> httpx.Response:
        r = self.http.post(f"{self.url}/api/v1/windows/{window}/{action}", headers={"Authorization": f"Bearer {self.clerks[window]}"})
        assert r.status_code in (200, 204), r.text
        return r

    def callback(self, body: bytes, params: dict[str, str] | None = None) -> httpx.Response:
        return self.http.post(f"{self.url}/wechat/callback", params=params or sign_params(CALLBACK_TOKEN), content=body,
                              headers={"Content-Type": "text/xml"})

    def scan(self, openid: str, ticket_token: str, subscribe: bool = False) -> httpx.Response:
        xml = event_xml(openid, "subscribe", f"qrscene_{ticket_token}") if subscribe else event_xml(openid, "SCAN", ticket_token)
        return self.callback(xml)


@pytest.fixture
def hall(tmp_path, fake_wechat, broker):
    env = yizhan_env(
        HALL_DIR, tmp_path / "state",
        YIZHAN_MQTT_URL=f"mqtt://yizhan-server:{USERS['yizhan-server']}@127.0.0.1:{broker.port}",
        YIZHAN_WECHAT_API=fake_wechat.url,
        YIZHAN_WECHAT_SECRET=APP_SECRET,
        YIZHAN_WECHAT_TOKEN=CALLBACK_TOKEN,
        YIZHAN_LOG_LEVEL="INFO",
    )
    server = start_server(env)
    try:
        clerks = {w: yizhan("token", "--role", "clerk", "--window", w, "--name", f"clerk{w}", env=env) for w in ("05", "06", "12")}
        h = Hall(server, yizhan("token", "--role", "kiosk", env=env), clerks, yizhan("token", "--role", "wechat", env=env))
        yield h
    finally:
        server.stop()


@dataclass
class BridgeProcess:
    proc: subprocess.Popen
    log: Path

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def bridge_factory(hall, broker, fake_wechat, tmp_path, messenger_factory):  # noqa: F811
    """Starts `yizhan wechat`; by default returns once the bridge has reported itself online,
    which it does after subscribing to the hall's ticket events (same connection, in order)."""
    started: list[BridgeProcess] = []
    statuses = Collector()
    topic = topics.device_status(HALL_ID, "yizhan-wechat")
    watcher = messenger_factory(broker, "yizhan-server", client_id="test-bridge-watcher")
    watcher.subscribe(topic, statuses)
    # Our own message on that topic comes back once the subscription is in place.
    watcher.publish(topic, device_status_payload(HALL_ID, "yizhan-wechat", "wechat", "offline"))
    statuses.wait_for(lambda ms: ms, what="the watcher's subscription")

    def online_since(seen: int):
        return lambda ms: any(json.loads(m.payload)["state"] == "online" for m in ms[seen:])

    def start(*args: str, ready: bool = True) -> BridgeProcess:
        seen = len(statuses.messages)
        env = hall.server.env | {
            "YIZHAN_SERVER_URL": hall.url,
            "YIZHAN_TOKEN": hall.wechat_token,
            "YIZHAN_MQTT_URL": f"mqtt://yizhan-wechat:{USERS['yizhan-wechat']}@127.0.0.1:{broker.port}",
            "YIZHAN_LOG_LEVEL": "INFO",
        }
        env.pop("YIZHAN_WECHAT_SECRET", None)  # the bridge never needs the app secret
        log = tmp_path / f"bridge-{len(started)}.log"
        fh = open(log, "ab")
        proc = subprocess.Popen([sys.executable, "-m", "yizhan.cli", "wechat", *args], env=env, cwd=ROOT,
                                stdout=fh, stderr=subprocess.STDOUT)
        fh.close()
        b = BridgeProcess(proc, log)
        started.append(b)
        if ready:
            try:
                statuses.wait_for(online_since(seen), timeout=60, what="the bridge reporting online")
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{b.text()[-3000:]}") from None
        return b

    yield start
    for b in started:
        b.stop()


os.environ.setdefault("PYTHONUNBUFFERED", "1")
