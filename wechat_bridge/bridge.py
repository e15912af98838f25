"""The bridge's work: events in, WeChat notices out.

Each ticket's events are handled by one worker (chosen by the ticket token), so a
follower's notices arrive in the order the events happened; different tickets go out in
parallel. Before sending, the bridge claims the notice on the server: a notice already
claimed (by this bridge before a restart, or another bridge) is never sent again."""

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
    def __init__(self, cfg: WechatConfig, server: ServerApi, sender: Sender, *, workers: int = 8,
                 claim_retries: int = 5) -> None:
        self.cfg = cfg
        self.server = server
        self.sender = sender
        self.stop_event = sender.stop
        self.claim_retries = claim_retries
        self._queues: list[queue.Queue] = [queue.Queue() for _ in range(max(1, workers))]
        self._threads: list[threading.Thread] = []
        self._quota_logged = False
        self._lock = threading.Lock()
        self.sent = 0
        self.failed = 0

    # ---- intake (the messenger's dispatcher thread) --------------------------------------------
    def on_event(self, msg: Message, event: dict) -> None:
        notice = notice_for(event, self.cfg)
        if notice is None:
            return
        token = msg.topic.rsplit("/", 1)[-1]
        self._queues[zlib.crc32(token.encode()) % len(self._queues)].put(Job(token, notice, event))

    # ---- workers ----------------------------------------------------------------------------
    def start(self) -> None:
        for i, q in enumerate(self._queues):
            th = threading.Thread(target=self._work, args=(q,), name=f"wechat-worker-{i}", daemon=True)
            th.start()
            self._threads.append(th)

    def stop(self, drain_s: float = 20.0) -> None:
        """Sends what is already queued (up to `drain_s`), then stops the workers; retries
        still waiting after that are cut short."""
        for q in self._queues:
            q.put(_STOP)
        deadline = time.monotonic() + drain_s
        for th in self._threads:
            th.join(max(0.0, deadline - time.monotonic()))
        self.stop_event.set()
        for th in self._threads:
            th.join(5.0)

    def idle(self) -> bool:
        return all(q.unfinished_tasks == 0 for q in self._queues)

    def _work(self, q: queue.Queue) -> None:
        while True:
            job = q.get()
            try:
                if job is _STOP:
                    return
                if not self.stop_event.is_set():
                    self._handle(job)
            except Exception:
                logger.exception("WeChat notice %s failed unexpectedly", getattr(job, "notice", None))
            finally:
                q.task_done()

    def _claim(self, job: Job) -> dict | None:
        for attempt in range(self.claim_retries + 1):
            try:
                return self.server.claim(job.ticket_token, job.notice.kind)
            except ServerUnavailable as exc:
                if attempt == self.claim_retries or self.stop_event.is_set():
                    logger.error("queue server unreachable, %s notice for a ticket not sent: %s", job.notice.kind, exc)
                    return None
                self.stop_event.wait(min(0.5 * 2 ** attempt, 10))
        return None

    def _handle(self, job: Job) -> None:
        claim = self._claim(job)
        if claim is None or not claim.get("ticket"):
            return
        ticket = claim["ticket"]
        if claim.get("quota_exhausted"):
            if not self._quota_logged:
                logger.error("WeChat daily quota of %s notices reached: no more notices today", self.cfg.daily_quota)
                self._quota_logged = True
            return
        if not still_true(job.notice, ticket.get("state")):
            for n in claim["notices"]:
                self.server.failed(n["id"], None)  # not sent: release the claim
            return
        for n in claim["notices"]:
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
            try:
                self.server.failed(n["id"], outcome.errcode)
            except ServerUnavailable as exc:
                logger.warning("could not report the failed notice to the server: %s", exc)
