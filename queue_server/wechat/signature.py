"""WeChat's callback signature and replay protection (pure, no I/O)."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import OrderedDict


def signature(token: str, timestamp: str, nonce: str) -> str:
    """SHA-1 of the token, timestamp and nonce sorted and joined (WeChat's 消息加解密 rules)."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode("utf-8")).hexdigest()


def signature_ok(token: str, timestamp: str, nonce: str, given: str) -> bool:
    return hmac.compare_digest(signature(token, timestamp, nonce), (given or "").lower())


class ReplayGuard:
    """Refuses a (timestamp, nonce) pair seen before, and timestamps outside `window_s`.

    WeChat signs each push with a fresh nonce; the same pair again is a recorded request
    played back. Memory is bounded: pairs older than the window are refused by age anyway,
    so they are forgotten.
    """

    def __init__(self, window_s: int = 300, capacity: int = 100_000) -> None:
        self.window_s = window_s
        self.capacity = capacity
        self._seen: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, timestamp: str, nonce: str, now: float | None = None) -> str | None:
        """None when fresh (and remembers it), else the reason it is refused."""
        now_s = int(time.time() if now is None else now)
        try:
            ts = int(timestamp)
        except ValueError:
            return "bad_timestamp"
        if abs(now_s - ts) > self.window_s:
            return "stale"
        key = (timestamp, nonce)
        with self._lock:
            while self._seen:
                (oldest, seen_ts) = next(iter(self._seen.items()))
                if now_s - seen_ts > self.window_s or len(self._seen) > self.capacity:
                    self._seen.popitem(last=False)
                else:
                    break
            if key in self._seen:
                return "replay"
            self._seen[key] = ts
        return None
