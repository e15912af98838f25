"""The MQTT messenger (paho-mqtt 2.x, callback API version 2).

Semantics every process relies on:
- `publish` waits for the broker's PUBACK (QoS 1) and raises `PublishError` when it does
  not come; a message reported as failed is never sent later behind the caller's back
  (paho would resend it after a reconnect, possibly after newer state — we drop it, and
  the caller, e.g. the outbox publisher, retries in order).
- Reconnects are automatic (backoff `reconnect_min`…`reconnect_max`); subscriptions are
  renewed and `on_connect` callbacks run after every connect.
- Handlers and connect callbacks run on one dispatcher thread, not paho's network thread,
  so they may publish and wait for the acknowledgement.
- A last will (`Will`) may carry a payload factory, called before every connect, so each
  will has a fresh event_id.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Callable

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from yizhan.messaging.base import Handler, Message, Messenger, PublishError, topic_matches

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Will:
    topic: str
    payload: bytes | Callable[[], bytes]
    retain: bool = True
    qos: int = 1

    def render(self) -> bytes:
        return self.payload() if callable(self.payload) else self.payload


_STOP = object()


class BatchPublishError(PublishError):
    """Part of a `publish_many` was not acknowledged: `acked` leading items were."""

    def __init__(self, message: str, acked: int) -> None:
        super().__init__(message)
        self.acked = acked


def _acked(info: paho.MQTTMessageInfo) -> bool:
    try:
        return info.is_published()
    except (RuntimeError, ValueError):
        return False


class MqttMessenger(Messenger):
    def __init__(
        self,
        host: str,
        port: int = 1883,
        *,
        client_id: str,
        username: str | None = None,
        password: str | None = None,
        will: Will | None = None,
        clean_session: bool = True,
        keepalive: int = 15,
        tls: bool = False,
        reconnect_min: float = 0.2,
        reconnect_max: float = 5.0,
        max_queued: int = 10_000,
    ) -> None:
        super().__init__()
        self.host, self.port, self.client_id = host, port, client_id
        self._will = will
        self._keepalive = keepalive
        self._subs: list[tuple[str, Handler]] = []
        self._subs_lock = threading.Lock()
        self._connected = threading.Event()
        self._stopping = False
        self._was_connected = False
        self._lost_logged = False
        self._refusal: str | None = None
        self._inbox: queue.Queue = queue.Queue()
        self._dispatcher: threading.Thread | None = None

        c = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean_session,
            protocol=paho.MQTTv311,
        )
        if username is not None:
            c.username_pw_set(username, password)
        if tls:
            c.tls_set_context(ssl.create_default_context())
        c.reconnect_delay_set(reconnect_min, reconnect_max)  # type: ignore[arg-type]  # floats work
        # Bounds memory if a caller publishes without waiting while the broker is away.
        c.max_queued_messages_set(max_queued)
        # Lets publish_many keep a batch of outbox rows on the wire (Mosquitto acknowledges in order).
        c.max_inflight_messages_set(100)
        c.on_pre_connect = self._on_pre_connect
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        self._client = c

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._stopping = False
        self._dispatcher = threading.Thread(target=self._dispatch_loop, name=f"mqtt-dispatch-{self.client_id}", daemon=True)
        self._dispatcher.start()
        self._client.connect_async(self.host, self.port, keepalive=self._keepalive)
        self._client.loop_start()

    def stop(self) -> None:
        """Clean disconnect: the broker does not send the last will."""
        self._stopping = True
        try:
            self._client.disconnect()
        finally:
            self._client.loop_stop()
            self._connected.clear()
            self._inbox.put(_STOP)
            if self._dispatcher is not None and self._dispatcher is not threading.current_thread():
                self._dispatcher.join(timeout=5)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float | None = None) -> bool:
        return self._connected.wait(timeout)

    @property
    def refusal(self) -> str | None:
        """Why the broker last refused the connection (e.g. 'Not authorized'), else None."""
        return self._refusal

    # -- publish / subscribe ----------------------------------------------------------------

    def publish(self, topic: str, payload: bytes, *, retain: bool = False, qos: int = 1, timeout: float = 5.0) -> None:
        if threading.current_thread() is getattr(self._client, "_thread", None):
            raise RuntimeError("publish() from paho's network thread would deadlock; use a handler")
        if not self._connected.is_set():
            raise PublishError(f"not connected to {self.host}:{self.port}")
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            self._forget(info.mid)
            raise PublishError(f"publish to {topic} failed: {paho.error_string(info.rc)}")
        try:
            info.wait_for_publish(timeout)
        except (RuntimeError, ValueError) as exc:
            self._forget(info.mid)
            raise PublishError(f"publish to {topic} failed: {exc}") from None
        if not info.is_published():
            self._forget(info.mid)
            raise PublishError(f"no acknowledgement for {topic} within {timeout:.1f} s")

    def publish_many(self, items: list[tuple[str, bytes, bool]], *, qos: int = 1, timeout: float = 5.0) -> None:
        """Publishes (topic, payload, retain) items in order without waiting between them, then
        waits for all acknowledgements. On failure raises `BatchPublishError` whose `acked` is
        the number of leading items the broker acknowledged; the rest are never sent later."""
        if threading.current_thread() is getattr(self._client, "_thread", None):
            raise RuntimeError("publish_many() from paho's network thread would deadlock; use a handler")
        if not self._connected.is_set():
            raise BatchPublishError(f"not connected to {self.host}:{self.port}", 0)
        infos: list[paho.MQTTMessageInfo] = []
        try:
            for topic, payload, retain in items:
                info = self._client.publish(topic, payload, qos=qos, retain=retain)
                infos.append(info)
                if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    raise PublishError(f"publish to {topic} failed: {paho.error_string(info.rc)}")
            deadline = time.monotonic() + timeout
            for info in infos:
                info.wait_for_publish(max(0.001, deadline - time.monotonic()))
                if not info.is_published():
                    raise PublishError(f"no acknowledgement within {timeout:.1f} s")
        except (RuntimeError, ValueError, PublishError) as exc:
            acked = 0
            for info in infos:
                if not _acked(info):
                    break
                acked += 1
            for info in infos[acked:]:
                self._forget(info.mid)
            raise BatchPublishError(str(exc), acked) from None

    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        with self._subs_lock:
            known = any(f == topic_filter for f, _ in self._subs)
            self._subs.append((topic_filter, handler))
        if not known and self._connected.is_set():
            self._client.subscribe(topic_filter, qos=1)

    # -- paho callbacks (network thread) ---------------------------------------------------------

    def _on_pre_connect(self, client: paho.Client, userdata: object) -> None:
        if self._will is not None:
            client.will_set(self._will.topic, self._will.render(), qos=self._will.qos, retain=self._will.retain)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:  # type: ignore[no-untyped-def]
        if reason_code.is_failure:
            reason = str(reason_code)
            if reason != self._refusal:
                logger.error("MQTT broker %s:%s refused %s: %s", self.host, self.port, self.client_id, reason)
            self._refusal = reason
            return
        self._refusal = None
        with self._subs_lock:
            filters = list(dict.fromkeys(f for f, _ in self._subs))
        if filters:
            client.subscribe([(f, 1) for f in filters])
        if self._was_connected:
            logger.info("MQTT broker %s:%s is back", self.host, self.port)
        else:
            logger.info("MQTT connected to %s:%s as %s", self.host, self.port, self.client_id)
        self._was_connected = True
        self._lost_logged = False
        self._connected.set()
        self._inbox.put(("connect", None))

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:  # type: ignore[no-untyped-def]
        self._connected.clear()
        self._fail_outstanding()
        if not self._stopping and self._was_connected and not self._lost_logged:
            logger.warning("MQTT broker %s:%s lost (%s); reconnecting", self.host, self.port, reason_code)
            self._lost_logged = True

    def _on_message(self, client, userdata, msg: paho.MQTTMessage) -> None:  # type: ignore[no-untyped-def]
        self._inbox.put(("message", Message(msg.topic, bytes(msg.payload), bool(msg.retain), msg.qos)))

    # -- dispatcher thread -----------------------------------------------------------------------

    def _dispatch_loop(self) -> None:
        while True:
            item = self._inbox.get()
            if item is _STOP:
                return
            kind, data = item
            if kind == "connect":
                for cb in list(self._connect_callbacks):
                    try:
                        cb()
                    except Exception:
                        logger.exception("on_connect callback %r failed", cb)
                continue
            with self._subs_lock:
                handlers = [h for f, h in self._subs if topic_matches(f, data.topic)]
            for h in handlers:
                try:
                    h(data)
                except Exception:
                    logger.exception("handler for %s failed", data.topic)

    # -- paho internals (pinned paho-mqtt 2.2) ----------------------------------------------------

    def _forget(self, mid: int) -> None:
        """Drops a message we reported as failed, so paho does not resend it after a reconnect."""
        c = self._client
        with c._out_message_mutex:
            m = c._out_messages.pop(mid, None)
            if m is not None and m.state in (paho.mqtt_ms_wait_for_puback, paho.mqtt_ms_wait_for_pubrec):
                c._inflight_messages = max(0, c._inflight_messages - 1)

    def _fail_outstanding(self) -> None:
        """On a lost connection, wakes every waiting `publish` at once with a failure."""
        c = self._client
        with c._out_message_mutex:
            pending = list(c._out_messages.values())
            c._out_messages.clear()
            c._inflight_messages = 0
        for m in pending:
            m.info.rc = MQTTErrorCode.MQTT_ERR_CONN_LOST
            m.info._set_as_published()
