"""`announcements.jsonl`: one line per call shown or spoken, the hall's proof (不错号、不漏号)."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

from yizhan.clock import Clock

logger = logging.getLogger(__name__)

FILE_NAME = "announcements.jsonl"


class AnnouncementLog:
    def __init__(self, state_dir: Path, clock: Clock, display: str) -> None:
        self.path = Path(state_dir) / FILE_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._display = display
        self._lock = threading.Lock()
        self._failed = False
        self.listeners: list = []  # callables(record) — the benchmark and tests watch outputs here

    def record(self, output: str, *, event_id: str, ticket: str, window: str, recall: int = 0, **extra: object) -> dict:
        rec = {
            "event_id": event_id,
            "ticket": ticket,
            "window": window,
            "output": output,
            "recall": recall,
            "at": self._clock.now().isoformat(timespec="milliseconds"),
            "display": self._display,
            **extra,
        }
        line = json.dumps(rec, ensure_ascii=False) + "\n"
        mono = time.monotonic()
        with self._lock:
            try:
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(line)
                if self._failed:
                    logger.info("announcement log %s writable again", self.path)
                    self._failed = False
            except OSError as exc:
                if not self._failed:
                    logger.error("cannot append to announcement log %s: %s", self.path, exc)
                    self._failed = True
        for listener in list(self.listeners):
            listener(rec, mono)
        return rec


def read_log(state_dir: Path) -> list[dict]:
    path = Path(state_dir) / FILE_NAME
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def recent_event_ids(state_dir: Path, display: str, max_bytes: int = 4 * 1024 * 1024) -> list[str]:
    """The event ids this display recorded lately (the file's tail only: it grows all year)."""
    path = Path(state_dir) / FILE_NAME
    if not path.exists():
        return []
    with path.open("rb") as fh:
        size = fh.seek(0, 2)
        fh.seek(max(0, size - max_bytes))
        data = fh.read()
    lines = data.split(b"\n")
    if size > max_bytes:
        lines = lines[1:]  # the first line is cut
    ids = []
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # a torn line from a crash
        if isinstance(rec, dict) and rec.get("display") == display and isinstance(rec.get("event_id"), str):
            ids.append(rec["event_id"])
    return ids
