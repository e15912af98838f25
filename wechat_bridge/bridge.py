"""The bridge's work: events in, WeChat notices out.

One claimer thread takes the events in arrival order and claims their notices on the
server in batches (whatever has queued up, up to `batch`): a notice already claimed — by
this bridge before a restart, or by another bridge — is never sent again. Sending is
done by `workers` threads; each ticket's notices always go to the same worker (chosen by
the ticket token), so a follower gets them in the order the events happened while
different tickets go out in parallel."""

from __future__ import annotations

import logging
import queue
import threading
import time
import zlib
from dataclasses import dataclass

from yizhan.config.wechat import WechatConfig
from yizhan.messaging.base import Message

from wechat_bridge.notices import Notice, message, notice_for, still_true
from wechat_bridge.sender import QUOTA_ERRORS, Sender
from wechat_bridge.server import ServerApi, ServerUnavailable

logger = logging.getLogger(__name__)

_STOP = object()


@dataclass(frozen=True)
class Job:
    ticket_token: str
    notice: Notice
    event: dict


def masked(openid: str) -> str:
    return openid[:4] + "…" + openid[-3:] if len(openid) > 8 else "…"


class Bridge:
    def __init__(self, cfg: WechatConfig, server: ServerApi, sender: Sender, *, workers: int = 8, batch: int = 100,
                 claim_retries: int = 5) -> None:
        self.cfg = cfg
        self.server = server
        self.sender = sender
        self.stop_event = sender.stop
        self.batch = batch
        self.claim_retries = claim_retries
        self._intake: queue.Queue = queue.Queue()
        self._queues: list[queue.Queue] = [queue.Queue() for _ in range(max(1, workers))]
        self._claimer: threading.Thread | None = None
        self._threads: list[threading.Thread] = []
        self._quota_logged = False
        self._lock = threading.Lock()
        self.sent = 0
        self.failed = 0

    # ---- intake (the messenger's dispatcher thread) --------------------------------------------
    def on_event(self, msg: Message, event: dict) -> None:
        notice = notice_for(event, self.cfg)
        if notice is not None:
            self._intake.put(Job(msg.topic.rsplit("/", 1)[-1], notice, event))

    # ---- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        self._claimer = threading.Thread(target=self._claim_loop, name="wechat-claimer", daemon=True)
        self._claimer.start()
        for i, q in enumerate(self._queues):
            th = threading.Thread(target=self._send_loop, args=(q,), name=f"wechat-sender-{i}", daemon=True)
            th.start()
            self._threads.append(th)

    def stop(self, drain_s: float = 20.0) -> None:
        """Sends what is already queued (up to `drain_s`), then stops; retries still waiting
        after that are cut short."""
        deadline = time.monotonic() + drain_s
        self._intake.put(_STOP)
        if self._claimer is not None:
            self._claimer.join(max(0.0, deadline - time.monotonic()))
        for q in self._queues:
            q.put(_STOP)
        for th in self._threads:
            th.join(max(0.0, deadline - time.monotonic()))
        self.stop_event.set()
        for th in [self._claimer, *self._threads]:
            if th is not None:
                th.join(5.0)

    # ---- claiming -----------------------------------------------------------------------------
    def _claim_loop(self) -> None:
        while True:
            first = self._intake.get()
            if first is _STOP:
                return
            jobs = [first]
            stop_after = False
            while len(jobs) < self.batch:
                try:
                    job = self._intake.get_nowait()
                except queue.Empty:
                    break
                if job is _STOP:
                    stop_after = True
                    break
                jobs.append(job)
            try:
                self._claim_and_dispatch(jobs)
            except Exception:
                logger.exception("WeChat: claiming %s notices failed unexpectedly", len(jobs))
            if stop_after:
                return

    def _claim_and_dispatch(self, jobs: list[Job]) -> None:
        results = None
        for attempt in range(self.claim_retries + 1):
            try:
                results = self.server.claim([(j.ticket_token, j.notice.kind, j.event.get("at")) for j in jobs])
                break
            except ServerUnavailable as exc:
                if attempt == self.claim_retries or self.stop_event.is_set():
                    logger.error("queue server unreachable: %s WeChat notice(s) not sent: %s", len(jobs), exc)
                    return
                self.stop_event.wait(min(0.5 * 2 ** attempt, 10))
        assert results is not None
        for job, claim in zip(jobs, results):
            if not claim.get("ticket"):
                continue
            if claim.get("quota_exhausted"):
                if not self._quota_logged:
                    logger.error("WeChat daily quota of %s notices reached: no more notices today", self.cfg.daily_quota)
                    self._quota_logged = True
                continue
            if claim["notices"]:
                self._queues[zlib.crc32(job.ticket_token.encode()) % len(self._queues)].put((job, claim))

    # ---- sending ------------------------------------------------------------------------------
    def _send_loop(self, q: queue.Queue) -> None:
        while True:
            item = q.get()
            if item is _STOP:
                return
            try:
                self._send(*item)
            except Exception:
                logger.exception("WeChat notice failed unexpectedly")

    def _release(self, notice_id: int, errcode: int | None) -> None:
        try:
            self.server.failed(notice_id, errcode)
        except ServerUnavailable as exc:
            logger.warning("could not report an unsent notice to the server: %s", exc)

    def _send(self, job: Job, claim: dict) -> None:
        ticket = claim["ticket"]
        if not still_true(job.notice, ticket.get("state")):
            for n in claim["notices"]:
                self._release(n["id"], None)  # overtaken (called before '1 ahead' went out): not sent
            return
        for n in claim["notices"]:
            if self.stop_event.is_set():
                self._release(n["id"], None)
                continue
            path, body = message(self.cfg, job.notice, job.event, ticket, n["openid"], claim["url"], n["id"])
            outcome = self.sender.send(path, body)
            if outcome.ok:
                with self._lock:
                    self.sent += 1
                logger.info("WeChat %s notice sent for %s to %s", job.notice.kind, ticket["number"], masked(n["openid"]))
                continue
            with self._lock:
                self.failed += 1
            logger.error("WeChat %s notice for %s to %s not delivered after %s attempt(s): errcode %s %s",
                         job.notice.kind, ticket["number"], masked(n["openid"]), outcome.attempts, outcome.errcode, outcome.errmsg)
            if outcome.errcode in QUOTA_ERRORS and not self._quota_logged:
                logger.error("WeChat says the daily API quota is used up")
                self._quota_logged = True
            self._release(n["id"], outcome.errcode)
