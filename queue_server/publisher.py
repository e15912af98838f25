"""The outbox publisher: delivers the events each state change wrote to the `outbox` table.

- Rows go out in id order at QoS 1; a row is marked delivered only after the broker's
  PUBACK. If the broker or the server dies in between, the row goes out again (after a
  restart too): subscribers drop the repeat by its event_id (`yizhan.messaging.dedup`).
- While the broker is away it retries with backoff; nothing is skipped, order is kept.
- After every (re)connect it publishes `server/status` online and republishes the
  hall's retained state (the latest retained row per topic) and the events of the last
  `replay_s` seconds — a broker killed between its PUBACK and delivering to subscribers
  loses those messages, the replay restores them; subscribers drop what they already had.
- On a clean stop `server/status` becomes `stopped`; if the server dies, the broker sends
  the last will `offline`.

`MessagingRuntime` assembles the parts: the embedded broker when YIZHAN_MQTT_URL is unset,
the messenger with the server's last will, and this publisher — active only while it holds
the `PublisherLock` of the database. `yizhan server` runs it in a child process
(`MessagingProcess`, `python -m queue_server.publisher`), woken through a pipe at each commit.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import weakref
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, event, func, or_, select, update
from sqlalchemy.orm import Session

from yizhan.signals import StopSignals
from yizhan.clock import Clock, SystemClock
from yizhan.messaging import topics
from yizhan.messaging.base import Message, Messenger, PublishError
from yizhan.messaging.factory import server_status_payload
from yizhan.messaging.mqtt import BatchPublishError

from queue_server.db.engine import Database
from queue_server.db.tables import Outbox
from queue_server.events import OUTBOX_WRITTEN

logger = logging.getLogger(__name__)


def watch_outbox_commits(db: Database, callback: Any) -> list[tuple[Any, str, Any]]:
    """Calls `callback()` after every commit on `db` that wrote outbox rows (so the publisher
    delivers at once instead of at its next poll). Returns the listeners for `unwatch`."""
    pool = db.engine.pool

    def after_commit(session: Session) -> None:
        if session.info.pop(OUTBOX_WRITTEN, False) and getattr(session.get_bind(), "pool", None) is pool:
            callback()

    listeners = [(Session, "after_commit", after_commit)]
    for target, name, fn in listeners:
        event.listen(target, name, fn)
    return listeners


def unwatch(listeners: list[tuple[Any, str, Any]]) -> None:
    for target, name, fn in listeners:
        if event.contains(target, name, fn):
            event.remove(target, name, fn)
    listeners.clear()


class OutboxPublisher:
    def __init__(
        self,
        db: Database,
        messenger: Messenger,
        hall: str,
        *,
        clock: Clock | None = None,
        batch: int = 200,
        poll_interval: float = 1.0,
        replay_s: float = 30.0,
        backoff_min: float = 0.05,
        backoff_max: float = 5.0,
        ack_timeout: float = 5.0,
        keep_days: int = 7,
        echo_timeout: float = 5.0,
        mark_every: float = 0.5,
    ) -> None:
        self.db = db
        self.messenger = messenger
        self.hall = hall
        self.clock = clock or SystemClock()
        self.batch = batch
        self.poll_interval = poll_interval
        self.replay_s = replay_s
        self.backoff_min, self.backoff_max = backoff_min, backoff_max
        self.ack_timeout = ack_timeout
        self.keep_days = keep_days
        # Marking is one write transaction on the hall's database, taken from another process: on
        # SQLite the server's commands wait for it, so acknowledged rows are marked in batches at
        # most every `mark_every` seconds (after a crash they go out again; subscribers drop repeats).
        self.mark_every = mark_every
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._reconnected = threading.Event()
        self._thread: threading.Thread | None = None
        self._listeners: list[tuple[Any, str, Any]] = []
        self._last_prune: datetime | None = None
        # Rows the broker acknowledged are recorded in the database by the marker thread, off the
        # delivery path, so a call never waits for SQLite's write lock; until then they are
        # `_pending` (acknowledged, not yet marked) and not sent again.
        self._pending: set[int] = set()
        self._to_mark: list[int] = []
        self._mark_lock = threading.Lock()
        self._mark_wake = threading.Event()
        self._marker: threading.Thread | None = None
        self.delivered = 0  # rows marked delivered by this process (for logs and benchmarks)
        self.echo_timeout = echo_timeout
        self._echo_expected: tuple[str, float] | None = None
        self.echo_failed = False
        self.echoes = 0  # our "online" statuses that came back from the broker

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        self.messenger.subscribe(topics.server_status(self.hall), self._on_echo)
        self.messenger.on_connect(self._on_connect)
        if self.messenger.connected:  # already connected: the first round starts with the republish
            self._on_connect()
        self._watch_commits()
        self._thread = threading.Thread(target=self._run, name="outbox-publisher", daemon=True)
        self._thread.start()
        self._marker = threading.Thread(target=self._mark_loop, name="outbox-marker", daemon=True)
        self._marker.start()

    def notify(self) -> None:
        """New rows were committed: deliver now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stops after the row in hand; publishes `server/status` stopped (retained)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._mark_wake.set()
        if self._marker is not None:
            self._marker.join(timeout)
        unwatch(self._listeners)
        if self.messenger.connected:
            try:
                self._publish_status("stopped")
            except PublishError as exc:
                logger.warning("could not publish server/status stopped: %s", exc)

    # -- commit hook: wake at once when a transaction wrote outbox rows ---------------------------

    def _watch_commits(self) -> None:
        me = weakref.ref(self)

        def wake() -> None:
            publisher = me()
            if publisher is not None:
                publisher.notify()

        self._listeners = watch_outbox_commits(self.db, wake)

    def _on_connect(self) -> None:
        self._reconnected.set()
        self._wake.set()

    # -- the loop -----------------------------------------------------------------------------

    def _run(self) -> None:
        delay = self.backoff_min
        failing = False
        while not self._stopping.is_set():
            # Cleared before looking for work: a notify() arriving meanwhile makes the wait below return at once.
            self._wake.clear()
            if not self.messenger.connected:
                self._wake.wait(delay)
                delay = min(delay * 2, self.backoff_max)
                continue
            try:
                if self._reconnected.is_set():
                    self._reconnected.clear()
                    self._republish()
                more = self._deliver_batch()
                self._maybe_prune()
            except PublishError as exc:
                if not failing:
                    logger.warning("outbox delivery paused: %s; retrying", exc)
                    failing = True
                self._reconnected.set()  # whatever was in flight may be lost: republish on success
                self._stopping.wait(delay)
                delay = min(delay * 2, self.backoff_max)
                continue
            except Exception:
                # A database error (locked, restarted PostgreSQL): logged once with its cause, retried.
                if not failing:
                    logger.exception("outbox delivery paused by an error; retrying")
                    failing = True
                self._stopping.wait(delay)
                delay = min(delay * 2, self.backoff_max)
                continue
            if failing:
                logger.info("outbox delivery resumed")
                failing = False
            delay = self.backoff_min
            self._check_echo()
            if not more:
                self._wake.wait(self.poll_interval)

    def _deliver_batch(self) -> bool:
        """Publishes the oldest undelivered rows not yet acknowledged; True if there may be more."""
        with self._mark_lock:
            pending = set(self._pending)
        # Not "id > last sent": with PostgreSQL a smaller id may commit after a larger one.
        with self.db.read() as s:
            rows = [
                r
                for r in s.execute(
                    select(Outbox.id, Outbox.topic, Outbox.payload, Outbox.retain)
                    .where(Outbox.delivered_at.is_(None))
                    .order_by(Outbox.id)
                    .limit(self.batch + len(pending))
                )
                if r.id not in pending
            ][: self.batch]
        if not rows:
            return False
        acked, error = self._publish_rows(rows)
        if acked:
            # Only the acknowledged prefix: a later row is never counted before an earlier one.
            with self._mark_lock:
                self._pending.update(r.id for r in rows[:acked])
                self._to_mark.extend(r.id for r in rows[:acked])
            self._mark_wake.set()
        if error is not None:
            raise error
        return len(rows) == self.batch

    def _publish_rows(self, rows: list[Any]) -> tuple[int, PublishError | None]:
        """Publishes rows in order: (how many leading rows were acknowledged, the error if not all)."""
        items = [(r.topic, r.payload.encode("utf-8"), bool(r.retain)) for r in rows]
        many = getattr(self.messenger, "publish_many", None)
        if many is not None:  # MqttMessenger: the whole batch on the wire, then the acknowledgements
            try:
                many(items, qos=1, timeout=self.ack_timeout)
            except BatchPublishError as exc:
                return exc.acked, exc
            return len(items), None
        done = 0
        for topic, payload, retain in items:
            try:
                self.messenger.publish(topic, payload, retain=retain, qos=1, timeout=self.ack_timeout)
            except PublishError as exc:
                return done, exc
            done += 1
        return done, None

    def _mark_loop(self) -> None:
        delay = self.backoff_min
        while True:
            final = self._stopping.is_set() and not (self._thread is not None and self._thread.is_alive())
            if not final:
                self._mark_wake.wait(self.poll_interval)
                self._mark_wake.clear()
            with self._mark_lock:
                ids, self._to_mark = self._to_mark, []
            if ids:
                try:
                    self._mark_delivered(ids)
                    with self._mark_lock:
                        self._pending.difference_update(ids)
                    delay = self.backoff_min
                    if not final:
                        self._stopping.wait(self.mark_every)
                except Exception:
                    # Unmarked rows are sent again after a restart: a repeat, never a loss.
                    logger.exception("could not mark %d outbox rows delivered; retrying", len(ids))
                    if final:
                        return
                    with self._mark_lock:
                        self._to_mark[:0] = ids
                    self._stopping.wait(delay)
                    delay = min(delay * 2, self.backoff_max)
                    continue
            if final:
                return

    def _mark_delivered(self, ids: list[int]) -> None:
        if not ids:
            return
        now = self.clock.now()
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            with self.db.write() as s:
                s.execute(update(Outbox).where(Outbox.id.in_(chunk)).values(delivered_at=now))
        self.delivered += len(ids)

    def _publish_status(self, state: str) -> None:
        payload = server_status_payload(self.hall, state, self.clock)
        if state == "online":
            # The echo check: MQTT 3.1.1 brokers acknowledge and silently drop a publish their ACL
            # forbids (e.g. a hall id typo in the ACL); our own "online" must come back to us.
            self._echo_expected = (json.loads(payload)["event_id"], time.monotonic() + self.echo_timeout)
        self.messenger.publish(topics.server_status(self.hall), payload, retain=True, qos=1, timeout=self.ack_timeout)

    def _on_echo(self, msg: Message) -> None:
        try:
            event_id = json.loads(msg.payload)["event_id"]
        except (ValueError, KeyError, TypeError):
            return
        expected = self._echo_expected
        if expected is not None and expected[0] == event_id:
            self._echo_expected = None
            self.echoes += 1
            if self.echo_failed:
                logger.info("the broker delivers the server's messages again")
            self.echo_failed = False

    def _check_echo(self) -> None:
        expected = self._echo_expected
        if expected is not None and time.monotonic() > expected[1] and not self.echo_failed:
            self.echo_failed = True
            logger.error(
                "MQTT 代理确认收到但没有转发服务器的消息：请检查 ACL 中的大厅编号 %s 和用户权限 / the broker acknowledges "
                "but does not deliver the server's messages: check that its ACL grants yizhan/%s/# to this user",
                self.hall, self.hall,
            )

    def _republish(self) -> None:
        """After a (re)connect: online, then retained state and recent events, in id order."""
        self._publish_status("online")
        cutoff = self.clock.now() - timedelta(seconds=self.replay_s)
        device_topics = f"{topics.prefix(self.hall)}/device/%"
        with self.db.read() as s:
            with self._mark_lock:
                pending = sorted(self._pending)
            # Delivered = marked in the database, or acknowledged and not yet marked.
            delivered = or_(Outbox.delivered_at.is_not(None), Outbox.id.in_(pending))
            latest = (
                select(func.max(Outbox.id))
                .where(Outbox.retain.is_(True), delivered, Outbox.topic.not_like(device_topics))
                .group_by(Outbox.topic)
            )
            recent = or_(Outbox.delivered_at >= cutoff, Outbox.id.in_(pending))
            rows = list(
                s.execute(
                    select(Outbox.id, Outbox.topic, Outbox.payload, Outbox.retain)
                    .where(or_(Outbox.id.in_(latest), (Outbox.retain.is_(False)) & recent))
                    .order_by(Outbox.id)
                )
            )
        for i in range(0, len(rows), self.batch):
            chunk = rows[i : i + self.batch]
            many = getattr(self.messenger, "publish_many", None)
            items = [(r.topic, r.payload.encode("utf-8"), bool(r.retain)) for r in chunk]
            if many is not None:
                many(items, qos=1, timeout=self.ack_timeout)
            else:
                for topic, payload, retain in items:
                    self.messenger.publish(topic, payload, retain=retain, qos=1, timeout=self.ack_timeout)
        logger.info("republished %d retained states and recent events after connecting", len(rows))

    def _maybe_prune(self) -> None:
        """Deletes delivered rows older than `keep_days`, keeping the latest retained row per
        topic (the state to republish). Runs at most hourly."""
        now = self.clock.now()
        if self._last_prune is not None and now - self._last_prune < timedelta(hours=1):
            return
        self._last_prune = now
        cutoff = now - timedelta(days=self.keep_days)
        with self.db.write() as s:
            keep = select(func.max(Outbox.id)).where(Outbox.retain.is_(True)).group_by(Outbox.topic).scalar_subquery()
            res = s.execute(
                delete(Outbox).where(Outbox.delivered_at.is_not(None), Outbox.delivered_at < cutoff, Outbox.id.not_in(keep))
            )
        if res.rowcount:
            logger.info("pruned %d delivered outbox rows older than %d days", res.rowcount, self.keep_days)


class PublisherLock:
    """Several servers may share one database; only one of them delivers its outbox (two
    publishers would interleave retained states), and only that one speaks for the hall on
    `server/status`. SQLite: an flock next to the database file; PostgreSQL: an advisory lock
    held by one connection. Both go away with the process that held them."""

    PG_KEY = 0x79697A68  # "yizh"

    def __init__(self, db: Database) -> None:
        self.db = db
        self._fd: int | None = None
        self._conn: Any = None

    def try_acquire(self) -> bool:
        if self.db.is_sqlite:
            import fcntl
            import os

            path = self.db.url.split("///", 1)[1] if "///" in self.db.url else ""
            if not path or path == ":memory:":
                return True
            fd = os.open(path + ".publisher.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                return False
            self._fd = fd
            return True
        from sqlalchemy import text

        conn = self.db.engine.connect()
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.PG_KEY}).scalar())
        conn.commit()  # the lock belongs to the session, not to this transaction
        if got:
            self._conn = conn
        else:
            conn.close()
        return got

    def alive(self) -> bool:
        """False once the PostgreSQL session holding the lock is gone (e.g. PostgreSQL restarted):
        another server may then hold it."""
        if self._conn is None:
            return True
        from sqlalchemy import text

        try:
            held = self._conn.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :k AND pid = pg_backend_pid() AND granted"),
                {"k": self.PG_KEY},
            ).scalar()
            self._conn.commit()
            return bool(held)
        except Exception:
            return False

    def release(self) -> None:
        if self._fd is not None:
            import os

            os.close(self._fd)
            self._fd = None
        if self._conn is not None:
            self._conn.close()  # ends the session and with it the advisory lock
            self._conn = None


class MessagingRuntime:
    """What `yizhan server` runs for MQTT: the embedded broker (when YIZHAN_MQTT_URL is unset),
    the server's messenger (last will: server/status offline) and the outbox publisher —
    the latter two only while this server holds the `PublisherLock`; another server on the
    same database waits as a standby and takes over when the active one stops or dies."""

    def __init__(self, settings: Any, db: Database, hall: str, clock: Clock | None = None, *,
                 standby_interval: float = 2.0, on_lock_lost: Any = None, **publisher_kw: Any) -> None:
        from yizhan.messaging.broker import EmbeddedBroker
        from yizhan.messaging.factory import build_messenger, server_will

        self.broker: EmbeddedBroker | None = None
        if not settings.mqtt_url:
            self.broker = EmbeddedBroker(settings.mqtt_port, state_dir=settings.state_dir)
            self.broker.start()
            # The clients of this process connect to the port actually bound.
            from dataclasses import replace

            settings = replace(settings, mqtt_port=self.broker.port)
        self.messenger = build_messenger(settings, client_id=f"yizhan-server-{hall}", will=server_will(hall, clock))
        self.publisher = OutboxPublisher(db, self.messenger, hall, clock=clock, **publisher_kw)
        self.lock = PublisherLock(db)
        self.standby_interval = standby_interval
        # Called when the active server's lock is gone; default: stop publishing (a standby takes over).
        self.on_lock_lost = on_lock_lost
        self.active = False
        self._stop = threading.Event()
        self._waiter: threading.Thread | None = None
        self._state_lock = threading.Lock()

    def start(self) -> "MessagingRuntime":
        if self.lock.try_acquire():
            self._activate()
        else:
            logger.info("another server on this database publishes the outbox; this one waits as a standby")
            self._waiter = threading.Thread(target=self._wait_for_lock, name="publisher-standby", daemon=True)
            self._waiter.start()
        return self

    def _wait_for_lock(self) -> None:
        while not self._stop.wait(self.standby_interval):
            try:
                got = self.lock.try_acquire()
            except Exception:
                logger.exception("publisher lock check failed; retrying")
                continue
            if got:
                logger.info("the active server is gone; this server now publishes the outbox")
                self._activate()
                return

    def _activate(self) -> None:
        with self._state_lock:
            if self._stop.is_set():
                self.lock.release()
                return
            self.publisher.start()  # first: it must hear the messenger's first connect
            self.messenger.start()
            self.active = True
        threading.Thread(target=self._watch_lock, name="publisher-lock", daemon=True).start()

    def _watch_lock(self) -> None:
        while not self._stop.wait(self.standby_interval):
            if not self.lock.alive():
                logger.error("lost the publisher lock (database connection gone); this server stops publishing")
                if self.on_lock_lost is not None:
                    self.on_lock_lost()
                else:
                    self.stop()
                return

    def notify(self) -> None:
        self.publisher.notify()

    def stop(self) -> None:
        self._stop.set()
        if self._waiter is not None:
            self._waiter.join(10)
        with self._state_lock:
            if self.active:
                self.publisher.stop()
                self.messenger.stop()
                self.active = False
            self.lock.release()
        if self.broker is not None:
            self.broker.stop()


class MessagingProcess:
    """`MessagingRuntime` in a child process of `yizhan server`, so delivering a call never
    waits for the Python GIL behind the request threads (and the embedded broker gets its own).

    The server writes a byte to a pipe after every commit that wrote outbox rows; the child
    delivers at once. If the server dies, the child sees the pipe close and exits at once
    without a clean disconnect, so the broker sends the last will `offline`. If the child
    dies, the server restarts it.
    """

    def __init__(self, settings: Any, db: Database, hall: str, tz: str = "Asia/Shanghai") -> None:
        self.settings, self.db, self.hall, self.tz = settings, db, hall, tz
        self._proc: Any = None
        self._notify_w: int | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listeners: list[tuple[Any, str, Any]] = []
        self._supervisor: threading.Thread | None = None

    def start(self, timeout: float = 60.0) -> "MessagingProcess":
        if not self._spawn(timeout):
            raise SystemExit(1)  # the child printed why (broker address, port in use)
        self._listeners = watch_outbox_commits(self.db, self.notify)
        self._supervisor = threading.Thread(target=self._supervise, name="publisher-supervisor", daemon=True)
        self._supervisor.start()
        return self

    def _spawn(self, timeout: float) -> bool:
        import os
        import select
        import subprocess
        import sys

        notify_r, notify_w = os.pipe()
        ready_r, ready_w = os.pipe()
        os.set_blocking(notify_w, False)  # a request thread never blocks on a full pipe
        cmd = [sys.executable, "-m", "queue_server.publisher", "--hall", self.hall, "--tz", self.tz,
               "--notify-fd", str(notify_r), "--ready-fd", str(ready_w)]
        proc = subprocess.Popen(cmd, pass_fds=(notify_r, ready_w), stdin=subprocess.DEVNULL)
        os.close(notify_r)
        os.close(ready_w)
        ok = False
        try:
            readable, _, _ = select.select([ready_r], [], [], timeout)
            ok = bool(readable) and os.read(ready_r, 64).startswith(b"READY")
        finally:
            os.close(ready_r)
        if not ok:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            os.close(notify_w)
            return False
        with self._lock:
            old, self._notify_w, self._proc = self._notify_w, notify_w, proc
        if old is not None:
            os.close(old)
        return True

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            proc = self._proc
            proc.wait()
            if self._stopping.is_set():
                return
            logger.error("the outbox publisher process exited (code %s); restarting it", proc.returncode)
            while not self._stopping.wait(1.0):
                if self._spawn(60.0):
                    break

    def notify(self) -> None:
        import os

        w = self._notify_w
        if w is None:
            return
        try:
            os.write(w, b"\x01")
        except (BlockingIOError, BrokenPipeError, OSError):
            pass  # a full pipe already holds wake-ups; a dead child is restarted by the supervisor

    def stop(self, timeout: float = 15.0) -> None:
        import os
        import subprocess

        self._stopping.set()
        unwatch(self._listeners)
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()  # the child publishes server/status "stopped" and disconnects cleanly
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        with self._lock:
            w, self._notify_w = self._notify_w, None
        if w is not None:
            os.close(w)


def child_main(argv: list[str] | None = None) -> int:
    """`python -m queue_server.publisher`: the child process of `MessagingProcess`."""
    import argparse
    import os
    import sys

    from yizhan.cli import setup_logging
    from yizhan.clock import clock_from_env
    from yizhan.messaging.broker import BrokerStartError
    from yizhan.messaging.factory import MessagingConfigError
    from yizhan.settings import load_settings

    ap = argparse.ArgumentParser(prog="queue_server.publisher")
    ap.add_argument("--hall", required=True)
    ap.add_argument("--tz", default="Asia/Shanghai")
    ap.add_argument("--notify-fd", type=int, required=True)
    ap.add_argument("--ready-fd", type=int, required=True)
    args = ap.parse_args(argv)
    setup_logging()
    settings = load_settings()
    db = Database(settings.db_url)
    stop = StopSignals()
    try:
        # Lock lost: leave at once; the server restarts this process, which waits as a standby.
        runtime = MessagingRuntime(settings, db, args.hall, clock_from_env(args.tz), on_lock_lost=lambda: os._exit(3)).start()
    except (BrokerStartError, MessagingConfigError) as exc:
        print(exc, file=sys.stderr, flush=True)
        return 1

    def watch_parent() -> None:
        while True:
            try:
                data = os.read(args.notify_fd, 4096)
            except InterruptedError:
                continue
            if not data:
                # The server is gone (even by SIGKILL): leave without a clean disconnect, so the
                # broker publishes the last will "offline".
                os._exit(1)
            runtime.notify()

    threading.Thread(target=watch_parent, name="publisher-parent", daemon=True).start()
    os.write(args.ready_fd, b"READY\n")
    os.close(args.ready_fd)
    stop.wait()
    runtime.stop()
    db.dispose()
    return 0


def start_messaging_or_exit(settings: Any, db: Database, hall: str, clock: Clock | None = None) -> MessagingProcess:
    """For `yizhan server`: the publisher process; a broker address or embedded broker that
    cannot be used stops the server with the child's clear message instead of a traceback."""
    tz = str(getattr(clock, "tz", "Asia/Shanghai"))
    return MessagingProcess(settings, db, hall, tz).start()


if __name__ == "__main__":
    import sys

    sys.exit(child_main())
