"""Caller keys → the window's actions on the queue server; ratings after a finish.

Runs on its own worker thread so HTTP never stalls the bus. The window state
published over MQTT (`finished`, the current ticket) is fed in too, so a finish
made in the web console also lights the keypad and the caller shows the number
the console called.
"""

from __future__ import annotations

import logging
import queue
import string
import threading
import time
from dataclasses import dataclass
from typing import Callable

import httpx

from kiosk.keypad_bus.master import BusMaster
from kiosk.keypad_bus.protocol import EV_KEY, EV_RATING, NO_ARG, Event, Key
from yizhan.config.keypads import KeypadBusConfig
from yizhan.i18n import t

logger = logging.getLogger(__name__)

BLANK = "----"


class ServerApi:
    """The few queue-server calls the bus makes, with its `device` token."""

    def __init__(self, base_url: str, token: str, timeout: float = 5.0) -> None:
        self.client = httpx.Client(base_url=base_url.rstrip("/") + "/api/v1", timeout=timeout,
                                   headers={"Authorization": f"Bearer {token}"})

    def post(self, path: str, body: dict | None = None) -> tuple[int, dict | None]:
        r = self.client.post(path, json=body or {})
        try:
            data = r.json() if r.content else None
        except ValueError:
            data = None
        return r.status_code, data

    def close(self) -> None:
        self.client.close()


@dataclass
class PendingRating:
    window: str
    ticket_id: int
    ticket: str
    deadline: float


class WindowBridge:
    def __init__(self, bus: KeypadBusConfig, api: ServerApi, master: BusMaster,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.bus = bus
        self.api = api
        self.master = master
        self.clock = clock
        self.caller_window = {w.caller: wid for wid, w in bus.windows.items() if w.caller}
        self.keypad_window = {w.keypad: wid for wid, w in bus.windows.items() if w.keypad}
        self.pending: dict[str, PendingRating] = {}
        self.paused: dict[str, bool] = {}
        self.shown: dict[str, str] = {}
        self.not_rated = 0
        self.rated = 0
        self.actions: list[tuple[str, str, int]] = []  # (window, action, http status), newest last
        self._work: "queue.Queue[Callable[[], None]]" = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.on_action: Callable[[str, str, int], None] | None = None

    # ---- inputs (any thread) --------------------------------------------------------------
    def on_event(self, ev: Event) -> None:
        self._work.put(lambda: self._handle(ev))

    def on_window_state(self, payload: dict) -> None:
        self._work.put(lambda: self._state(payload))

    # ---- work (the bridge's thread) ---------------------------------------------------------
    def _show(self, window: str, text: str) -> None:
        cfg = self.bus.windows.get(window)
        if cfg and cfg.caller and self.shown.get(window) != text:
            self.shown[window] = text
            self.master.show(cfg.caller, text)

    def _prompt(self, window: str, ticket_id: int, ticket: str) -> None:
        cfg = self.bus.windows.get(window)
        if not cfg or not cfg.keypad:
            return
        if window in self.pending and self.pending[window].ticket_id == ticket_id:
            return  # the same finish seen twice (our own answer and the MQTT state)
        self.pending[window] = PendingRating(window, ticket_id, ticket, self.clock() + self.bus.rating_timeout_s)
        self.master.prompt(cfg.keypad, ticket, self.bus.rating_timeout_s)

    def _action(self, window: str, action: str, body: dict | None = None) -> tuple[int, dict | None]:
        try:
            status, data = self.api.post(f"/windows/{window}/{action}", body)
        except httpx.HTTPError as exc:
            logger.warning(t("keypads.log.server_unreachable", detail=str(exc)))
            status, data = 0, None
        if status >= 400:
            logger.warning(t("keypads.log.action_refused", window=window, action=action,
                             message=(data or {}).get("message", status)))
        self.actions.append((window, action, status))
        del self.actions[:-200]
        if self.on_action:
            self.on_action(window, action, status)
        return status, data

    def _handle(self, ev: Event) -> None:
        if ev.type == EV_KEY and ev.addr in self.caller_window:
            self._key(self.caller_window[ev.addr], ev)
        elif ev.type == EV_RATING and ev.addr in self.keypad_window:
            self._rating(self.keypad_window[ev.addr], ev.code)

    def _key(self, window: str, ev: Event) -> None:
        key = ev.code
        if key == Key.NEXT:
            status, data = self._action(window, "call-next")
            if status >= 400 and (data or {}).get("code") == "window_not_open":
                # the first "next" of a shift opens the window (the caller has no separate key)
                if self._action(window, "open")[0] == 200:
                    self.paused[window] = False
                    status, data = self._action(window, "call-next")
            if status == 200 and data:
                self._show(window, data["ticket"]["number"])
            elif status == 204:
                self._show(window, BLANK)
        elif key == Key.RECALL:
            self._action(window, "recall")
        elif key in (Key.SKIP, Key.FINISH):
            status, data = self._action(window, "skip" if key == Key.SKIP else "finish")
            if status == 200:
                self._show(window, BLANK)
                if key == Key.FINISH and data:
                    self._prompt(window, int(data["id"]), str(data["number"]))
        elif key == Key.PAUSE:
            # toggles: a paused (or closed) window opens, an open one pauses
            action = "pause" if self.paused.get(window) is False else "open"
            status, data = self._action(window, action)
            if status == 200 and data:
                self.paused[window] = data.get("state") != "open"
        elif key == Key.TRANSFER:
            # the caller's digits name the target queue: 1 = A, 2 = B, …
            if ev.arg == NO_ARG or not 1 <= ev.arg <= 26:
                logger.warning(t("keypads.log.transfer_needs_queue", window=window))
                return
            status, _ = self._action(window, "transfer", {"queue": string.ascii_uppercase[ev.arg - 1]})
            if status == 200:
                self._show(window, BLANK)

    def _rating(self, window: str, score: int) -> None:
        p = self.pending.pop(window, None)
        if p is None or self.clock() > p.deadline or not 1 <= score <= 5:
            logger.info("rating %s at window %s without an open request ignored", score, window)
            return
        try:
            status, data = self.api.post(f"/tickets/{p.ticket_id}/rating", {"score": score})
        except httpx.HTTPError as exc:
            logger.warning(t("keypads.log.server_unreachable", detail=str(exc)))
            status, data = 0, None
        if status == 201:
            self.rated += 1
        else:
            logger.warning(t("keypads.log.rating_refused", ticket=p.ticket, message=(data or {}).get("message", status)))
        self.actions.append((window, "rating", status))
        if self.on_action:
            self.on_action(window, "rating", status)

    def _state(self, payload: dict) -> None:
        window = payload.get("window")
        if window not in self.bus.windows:
            return
        self.paused[window] = payload.get("state") != "open"
        self._show(window, payload.get("ticket") or BLANK)
        fin = payload.get("finished")
        if fin and fin.get("ticket_id") is not None:
            self._prompt(window, int(fin["ticket_id"]), str(fin.get("ticket", "")))

    def on_health(self, _device: object = None) -> None:
        self._work.put(self.report_health)

    def report_health(self) -> None:
        """The bus's health on the server (and so on MQTT `device/<bus>/status`): one part per device."""
        parts = {}
        names = {w.keypad: (wid, "评价器") for wid, w in self.bus.windows.items() if w.keypad}
        names |= {w.caller: (wid, "叫号器") for wid, w in self.bus.windows.items() if w.caller}
        for addr, d in self.master.devices.items():
            wid, kind = names.get(addr, ("?", "设备"))
            parts[f"{wid}-{kind}"] = {"ok": d.online, "detail": f"地址 {addr}" + ("" if d.online else "，无应答")}
        all_ok = all(p["ok"] for p in parts.values())
        state = "online" if all_ok else ("offline" if not any(p["ok"] for p in parts.values()) else "degraded")
        try:
            status, _ = self.api.post(f"/devices/{self.bus.id}/status", {"kind": "keypad_bus", "state": state, "parts": parts})
            if status >= 400:
                logger.warning("bus health not accepted by the server: %s", status)
        except httpx.HTTPError as exc:
            logger.warning(t("keypads.log.server_unreachable", detail=str(exc)))

    def expire(self) -> None:
        """No press within the configured time: not rated (never a default score)."""
        now = self.clock()
        for window, p in list(self.pending.items()):
            if now > p.deadline:
                del self.pending[window]
                self.not_rated += 1
                logger.info(t("keypads.log.not_rated", ticket=p.ticket, window=window))
                cfg = self.bus.windows[window]
                if cfg.keypad:
                    self.master.cancel(cfg.keypad)
                if self.on_action:
                    self.on_action(window, "not-rated", 0)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                job = self._work.get(timeout=0.2)
            except queue.Empty:
                job = None
            try:
                if job is not None:
                    job()
                self.expire()
            except Exception:
                logger.exception("keypad bridge job failed")

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="keypad-bridge", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
