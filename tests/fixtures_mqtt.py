"""A real Mosquitto for tests: started from the shipped config (config/mosquitto/) on a free
loopback port in a temp dir, with the shipped ACL, and stopped afterwards.

Use from a conftest: `from tests.fixtures_mqtt import *  # noqa` gives the fixtures
`mosquitto` (a started hall broker) and `mosquitto_factory` (start more, e.g. a central one).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from yizhan.messaging.base import Message
from yizhan.messaging.mqtt import MqttMessenger, Will
from yizhan.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
CONF_DIR = ROOT / "config" / "mosquitto"
HALL = "test-hall"
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"

# user name → password; devices log in with their device id as user name (the ACL relies on it)
USERS = {
    "yizhan-server": "server-secret",
    "yizhan-wechat": "wechat-secret",
    "tv-1": "tv-secret",
    "kiosk-1": "kiosk-secret",
}


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> object:
    """Polls `predicate` until it is truthy; fails the test with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


def render(template: str, **subst: str) -> str:
    for key, value in subst.items():
        template = template.replace(f"@{key}@", value)
    return template


def rewrite_conf(text: str, overrides: dict[str, str | None], extra: list[str] = ()) -> str:
    """The shipped config with some directives replaced (None drops the line)."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^(\w+)(\s|$)", line)
        if m and m.group(1) in overrides:
            value = overrides[m.group(1)]
            if value is not None:
                out.append(f"{m.group(1)} {value}")
            continue
        out.append(line)
    out.extend(extra)
    return "\n".join(out) + "\n"


@dataclass
class Mosquitto:
    workdir: Path
    port: int
    conf: Path
    proc: subprocess.Popen | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.workdir / "mosquitto.log"

    def start(self) -> "Mosquitto":
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=logf, stderr=subprocess.STDOUT)
        logf.close()

        def accepting() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"mosquitto exited: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return True
            except OSError:
                return False

        wait_until(accepting, 10, f"mosquitto on port {self.port}")
        return self

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, no final save of the persistence file."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    @property
    def persistence_file(self) -> Path:
        return self.workdir / "data" / "mosquitto.db"


def make_passwd(path: Path, users: dict[str, str]) -> None:
    path.write_text("")
    for user, pw in users.items():
        subprocess.run([MOSQUITTO_PASSWD, "-b", str(path), user, pw], check=True, capture_output=True)
    path.chmod(0o600)


def hall_broker(workdir: Path, *, hall: str = HALL, users: dict[str, str] = USERS, bridge_conf: str | None = None,
                conf_file: str = "mosquitto.conf", acl_text: str | None = None) -> Mosquitto:
    """A Mosquitto configured by the shipped files, paths and port moved into `workdir`."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "data").mkdir(exist_ok=True)
    confd = workdir / "conf.d"
    confd.mkdir(exist_ok=True)
    port = free_port()
    make_passwd(workdir / "passwd", users)
    acl = acl_text if acl_text is not None else render((CONF_DIR / "acl.in").read_text(), HALL=hall)
    (workdir / "acl").write_text(acl)
    if bridge_conf:
        (confd / "bridge.conf").write_text(bridge_conf)
    extra = []
    if os.geteuid() == 0:
        # The documented quirk: started as root without "user", mosquitto drops to the user
        # mosquitto and cannot read files in a root-only temp dir.
        extra.append("user root")
    text = rewrite_conf(
        (CONF_DIR / conf_file).read_text(),
        {
            "listener": f"{port} 127.0.0.1",
            "password_file": str(workdir / "passwd"),
            "acl_file": str(workdir / "acl"),
            "persistence_location": f"{workdir / 'data'}/",
            # tests kill the broker seconds after a subscriber connects
            "autosave_interval": "1",
            "include_dir": str(confd),
        },
        extra,
    )
    conf = workdir / "mosquitto.conf"
    conf.write_text(text)
    return Mosquitto(workdir, port, conf)


class Collector:
    """Collects messages from a handler; tests wait on it with a deadline."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._cond = threading.Condition()

    def __call__(self, msg: Message) -> None:
        with self._cond:
            self.messages.append(msg)
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[list[Message]], object], timeout: float = 10.0, what: str = "messages") -> object:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate(self.messages)
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout} s waiting for {what}; got {len(self.messages)} messages")
                self._cond.wait(min(left, 0.1))


@pytest.fixture
def mosquitto_factory(tmp_path):
    started: list[Mosquitto] = []

    def factory(name: str = "hall", **kw) -> Mosquitto:
        m = hall_broker(tmp_path / name, **kw)
        m.start()
        started.append(m)
        return m

    yield factory
    for m in started:
        m.stop()


@pytest.fixture
def mosquitto(mosquitto_factory) -> Mosquitto:
    return mosquitto_factory("hall")


@pytest.fixture
def messenger_factory():
    made: list[MqttMessenger] = []

    def factory(broker: Mosquitto, user: str | None, password: str | None = None, *, client_id: str | None = None,
                will: Will | None = None, clean_session: bool = True, start: bool = True, wait: bool = True,
                **kw) -> MqttMessenger:
        m = MqttMessenger(
            "127.0.0.1", broker.port, client_id=client_id or f"{user}-{len(made)}", username=user,
            password=password if password is not None else USERS.get(user or "", None), will=will,
            clean_session=clean_session, **kw,
        )
        made.append(m)
        if start:
            m.start()
            if wait:
                assert m.wait_connected(10), f"{user} did not connect: {m.refusal}"
        return m

    yield factory
    for m in made:
        m.stop()


def wait_saved(broker: Mosquitto, timeout: float = 15.0) -> None:
    """Waits until the broker has written its persistence file after this moment (autosave),
    so sessions and subscriptions made so far survive a SIGKILL."""
    since = time.time()
    path = broker.persistence_file
    wait_until(lambda: path.exists() and path.stat().st_mtime > since, timeout, f"{path} saved")


class LinkProxy:
    """A TCP forwarder standing for the network link between a hall and the centre:
    `down()` cuts every connection and refuses new ones, `up()` restores the link."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._server: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def up(self) -> "LinkProxy":
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", self.port))
        srv.listen(8)
        self._server = srv
        threading.Thread(target=self._accept, args=(srv,), daemon=True).start()
        return self

    def down(self) -> None:
        with self._lock:
            srv, self._server = self._server, None
            conns, self._conns = self._conns, []
        if srv is not None:
            try:
                srv.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            except OSError:
                pass
            srv.close()
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()

    def _accept(self, srv: socket.socket) -> None:
        while True:
            try:
                client, _ = srv.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._server is not srv:
                    client.close()
                    upstream.close()
                    return
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
