"""The embedded MQTT broker (amqtt) for a hall without Mosquitto: `yizhan server` and
`yizhan demo` start it in-process when YIZHAN_MQTT_URL is unset, so `make run` needs no
system service.

It listens on loopback only and accepts anonymous clients (every client is a process on
this machine); a hall's LAN uses Mosquitto with passwords and an ACL (config/mosquitto/).
Port: YIZHAN_MQTT_PORT (default 1883); 0 picks a free port and writes it to
`<state dir>/mqtt.port`, where the other processes' `yizhan.messaging.factory` finds it.
It keeps nothing on disk: after a restart the server republishes all retained state.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from pathlib import Path

logger = logging.getLogger(__name__)

PORT_FILE = "mqtt.port"


class BrokerStartError(RuntimeError):
    pass


class EmbeddedBroker:
    def __init__(self, port: int = 1883, *, host: str = "127.0.0.1", state_dir: Path | None = None) -> None:
        self.host = host
        self.requested_port = port
        self.port: int | None = None
        self.state_dir = state_dir
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker = None
        self._thread: threading.Thread | None = None

    @property
    def port_file(self) -> Path | None:
        return self.state_dir / PORT_FILE if self.state_dir is not None else None

    def start(self, timeout: float = 10.0) -> int:
        """Starts the broker on its own thread and event loop; returns the bound port."""
        # amqtt logs every connection at INFO, and a failed start as a traceback: we report
        # that failure ourselves, in one clear line.
        logging.getLogger("transitions").setLevel(logging.WARNING)
        amqtt_log = logging.getLogger("amqtt")
        amqtt_log.setLevel(logging.CRITICAL)
        from yizhan.messaging.factory import bilingual  # (factory imports this module)

        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._start_async())
            except BaseException as exc:  # reported to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="mqtt-broker", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise BrokerStartError(bilingual("mqtt.broker_timeout"))
        if failure:
            raise BrokerStartError(
                bilingual("mqtt.broker_listen_failed", host=self.host, port=self.requested_port, error=failure[0])
            ) from failure[0]
        assert self.port is not None
        amqtt_log.setLevel(logging.WARNING)
        if self.requested_port == 0 and self.port_file is not None:
            self.port_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.port_file.with_suffix(".tmp")
            tmp.write_text(f"{self.port}\n")
            os.replace(tmp, self.port_file)  # readers never see a half-written file
        logger.info("embedded MQTT broker listening on %s:%s", self.host, self.port)
        return self.port

    async def _start_async(self) -> None:
        from amqtt.broker import Broker

        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.requested_port}", "max_connections": 500}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
        self._broker = Broker(config)
        await self._broker.start()
        server = self._broker._servers["default"].instance  # the asyncio server, to learn a port-0 bind
        self.port = server.sockets[0].getsockname()[1]

    def stop(self, timeout: float = 10.0) -> None:
        loop, broker = self._loop, self._broker
        if loop is None or broker is None or not loop.is_running():
            return
        fut = asyncio.run_coroutine_threadsafe(broker.shutdown(), loop)
        try:
            fut.result(timeout)
        except Exception:
            logger.exception("embedded MQTT broker did not shut down cleanly")
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout)
        if self.requested_port == 0 and self.port_file is not None:
            try:
                if self.port_file.read_text().strip() == str(self.port):
                    self.port_file.unlink()
            except FileNotFoundError:
                pass
        logger.info("embedded MQTT broker stopped")
