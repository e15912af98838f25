"""The display board process without its screen: messages in, LED boards, strips, voice and log out.

The TV (Kivy) plugs in as a `TvSink`; everything else here runs on plain threads,
so a dead serial port, a missing voice engine or a stuck TV never holds up the
other outputs.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from display_board.announcements import AnnouncementLog, recent_event_ids
from display_board.led.layout import board_lines, strip_line
from display_board.led.link import Link
from display_board.led.output import LedOutput
from display_board.led.simulator import BusSimulator, PtySimulator
from display_board.model import BadMessage, CallUpdate, HallView, QueueUpdate, ServerUpdate, Update, WindowUpdate
from display_board.snapshot import Snapshot, snapshot
from display_board.status import StatusReporter
from display_board.voice.announcer import Announcer
from display_board.voice.engines import ClipSource, EspeakClips, Voice, VoiceUnavailable, WavPackClips
from display_board.voice.phrases import TemplateError
from display_board.voice.player import AudioOutput, CommandPlayer, PlayerError, WavFiles
from yizhan.clock import Clock
from yizhan.config.displays import DisplayConfig
from yizhan.config.model import HallConfig
from yizhan.i18n import t
from yizhan.messaging import topics
from yizhan.messaging.base import Message, Messenger
from yizhan.messaging.dedup import Deduplicator, decode_event

logger = logging.getLogger(__name__)


class TvSink(Protocol):
    def push(self, snap: Snapshot, fresh: CallUpdate | None) -> None:
        """Called on the message thread; must return at once."""


@dataclass
class Simulators:
    """--simulate: the LED lines end in software boards on pty pairs."""

    board: BusSimulator | None = None
    strips: BusSimulator | None = None
    ptys: list[PtySimulator] = field(default_factory=list)


class DisplayService:
    def __init__(
        self,
        hall: HallConfig,
        display: DisplayConfig,
        messenger: Messenger,
        state_dir: Path,
        clock: Clock,
        *,
        simulate: bool = False,
        led_retry_s: float = 2.0,
    ) -> None:
        self.hall = hall
        self.cfg = display
        self.messenger = messenger
        self.state_dir = Path(state_dir)
        # announcements.jsonl is shared by the hall's display processes (DESIGN.md); the rest is ours.
        self.work_dir = self.state_dir / "display" / display.id
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        self.simulate = simulate
        self.log = AnnouncementLog(self.state_dir, clock, display.id)
        # Calls already shown or spoken before a restart are not repeated when the broker replays them.
        seed = recent_event_ids(self.state_dir, display.id)
        self.view = HallView(
            hall.hall.id,
            history=display.tv.history if display.tv else 8,
            queues_shown=frozenset(display.queues),
            seen=Deduplicator(20_000, seed=seed),
        )
        self.status = StatusReporter(messenger, hall.hall.id, display.id, clock)
        self.sims = Simulators()
        self.tv: TvSink | None = None
        self.board = self._make_board(led_retry_s)
        self.strips = self._make_strips(led_retry_s)
        self.announcer = self._make_announcer()
        self._lock = threading.Lock()  # one message at a time through the view
        self._bad_logged: set[str] = set()
        self._windows_spoken = {w.id: (w.spoken_name or w.display_name) for w in hall.windows}

    # -- construction -------------------------------------------------------------------
    def _link(self, address: str, boards: dict[int, tuple[int, int]], name: str, retry: float) -> tuple[Link, BusSimulator | None]:
        if self.simulate or address == "simulator":
            bus = BusSimulator(boards)
            pty = PtySimulator(bus).start()
            self.sims.ptys.append(pty)
            return Link(f"serial://{pty.port}?baudrate=9600", name), bus
        return Link(address, name), None

    def _make_board(self, retry: float) -> LedOutput | None:
        cfg = self.cfg.led_board
        if cfg is None:
            return None
        link, self.sims.board = self._link(cfg.address, {cfg.bus_address: (cfg.lines, cfg.columns)}, "board", retry)
        self.status.set("led_board", False, "starting")
        return LedOutput(
            "led_board", link, self.log, board_kind="hall", brightness={cfg.bus_address: cfg.brightness},
            on_health=lambda ok, detail: self.status.set("led_board", ok, detail), retry_s=retry,
        )

    def _make_strips(self, retry: float) -> LedOutput | None:
        cfg = self.cfg.window_strips
        if cfg is None:
            return None
        boards = {addr: (1, 4) for addr in cfg.windows.values()}
        link, self.sims.strips = self._link(cfg.address, boards, "strips", retry)
        self.status.set("window_strips", False, "starting")
        return LedOutput(
            "window_strips", link, self.log, board_kind="strip",
            brightness={addr: cfg.brightness for addr in cfg.windows.values()},
            on_health=lambda ok, detail: self.status.set("window_strips", ok, detail), retry_s=retry,
        )

    def _make_announcer(self) -> Announcer | None:
        cfg = self.cfg.voice
        if cfg is None or cfg.engine == "none":
            return None
        problem = ""
        source: ClipSource = EspeakClips(cfg.voice, cfg.speed) if cfg.engine == "espeak" else WavPackClips(cfg.pack_dir)
        voice: Voice | None = None
        try:
            voice = Voice(source, cfg.template, cfg.repeat, cfg.chime, cfg.gap_s)
            source.check()
        except (VoiceUnavailable, TemplateError) as exc:
            problem = str(exc)
        output: AudioOutput = WavFiles(self.work_dir / "voice") if self.simulate else CommandPlayer(cfg.player, self.work_dir)
        if not problem:
            try:
                output.check()
            except PlayerError as exc:
                problem = str(exc)
        if problem:
            logger.error("voice: %s (the other outputs go on)", problem)
        self.status.set("voice", not problem, problem)
        return Announcer(voice, output, self.log, on_health=lambda ok, detail: self.status.set("voice", ok, detail), problem=problem)

    # -- lifecycle -----------------------------------------------------------------------
    def attach_tv(self, tv: TvSink) -> None:
        self.tv = tv

    def start(self) -> None:
        for out in (self.board, self.strips):
            if out:
                out.start()
        if self.announcer:
            self.announcer.start()
            if self.announcer.voice and self.announcer.healthy:
                threading.Thread(target=self._warm_voice, name="voice-warm", daemon=True).start()
        hall = self.hall.hall.id
        self.messenger.on_connect(self._connected)
        for topic_filter in (topics.all_windows(hall), topics.all_queues(hall), topics.server_status(hall), topics.call(hall)):
            self.messenger.subscribe(topic_filter, self.on_message)
        self.status.start()
        self.messenger.start()
        self._refresh_all()
        if self.sims.ptys:
            self._sim_stop = threading.Event()
            threading.Thread(target=self._render_sims, name="led-sim-png", daemon=True).start()

    def _render_sims(self) -> None:
        """--simulate: the simulated boards drawn to PNGs in the work dir, at most once a second."""
        for bus, name in ((self.sims.board, "led-board.png"), (self.sims.strips, "led-strips.png")):
            if bus is not None:
                bus.changed.set()
        while not self._sim_stop.wait(1.0):
            for bus, name in ((self.sims.board, "led-board.png"), (self.sims.strips, "led-strips.png")):
                if bus is not None and bus.changed.is_set():
                    bus.changed.clear()
                    try:
                        bus.render_png(self.work_dir / name, title=self.hall.hall.name, fast=True)
                    except OSError as exc:
                        logger.warning("simulated LED picture not written: %s", exc)

    def stop(self) -> None:
        if getattr(self, "_sim_stop", None):
            self._sim_stop.set()
        if self.messenger.connected:
            self.status.publish_offline()
        self.status.stop()
        self.messenger.stop()
        if self.announcer:
            self.announcer.stop()
        for out in (self.board, self.strips):
            if out:
                out.stop()
        for pty in self.sims.ptys:
            pty.stop()

    def _warm_voice(self) -> None:
        try:
            self.announcer.voice.warm(list(self._windows_spoken.values()))
        except VoiceUnavailable as exc:
            logger.warning("voice: warm-up incomplete: %s", exc)

    def _connected(self) -> None:
        self._push_tv(None)

    def idle(self) -> bool:
        """Every output has finished what it was given (tests and the benchmark wait on this)."""
        return all(o is None or o.idle() for o in (self.board, self.strips, self.announcer))

    # -- messages ------------------------------------------------------------------------
    def on_message(self, msg: Message) -> None:
        data = decode_event(msg, hall=self.hall.hall.id)
        if data is None:
            return  # logged once per kind by the messaging layer
        with self._lock:
            try:
                update = self.view.apply(msg.topic, data)
            except BadMessage as exc:
                key = f"{msg.topic.split('/')[2] if msg.topic.count('/') >= 2 else msg.topic}:{exc}"
                if key not in self._bad_logged:
                    self._bad_logged.add(key)
                    logger.warning("ignored a message on %s: %s", msg.topic, exc)
                return
            if update is not None:
                self._dispatch(update)

    def _dispatch(self, update: Update) -> None:
        if isinstance(update, CallUpdate):
            call = update.call
            if self.board:
                self._show_board([call])
            if self.strips and call.window in self.cfg.window_strips.windows:
                ws = self.view.windows.get(call.window)
                self.strips.show(self.cfg.window_strips.windows[call.window], [strip_line(ws, call.ticket)], [call])
            if self.announcer:
                if call.window_spoken == call.window_name and call.window in self._windows_spoken:
                    # Older payloads lack window_spoken: the hall's spoken_name is the better guess.
                    call = replace(call, window_spoken=self._windows_spoken[call.window])
                self.announcer.put(call)
            self._push_tv(update)
        elif isinstance(update, WindowUpdate):
            ws = update.window
            if self.strips and ws.window in self.cfg.window_strips.windows:
                self.strips.show(self.cfg.window_strips.windows[ws.window], [strip_line(ws)])
            if self.board:
                self._show_board([])
            self._push_tv(None)
        elif isinstance(update, (QueueUpdate, ServerUpdate)):
            if self.board and isinstance(update, QueueUpdate):
                self._show_board([])
            self._push_tv(None)

    def _show_board(self, calls: list) -> None:
        cfg = self.cfg.led_board
        lines = board_lines(
            self.view, title=cfg.title or self.hall.hall.name, lines=cfg.lines, columns=cfg.columns,
            show_waiting=cfg.show_waiting, by_name=self.hall.hall.call_by_name,
        )
        self.board.show(cfg.bus_address, lines, calls)

    def _refresh_all(self) -> None:
        """Start-up: boards and strips show something sensible before the first message."""
        if self.board:
            self._show_board([])
        if self.strips:
            for window, address in self.cfg.window_strips.windows.items():
                self.strips.show(address, [strip_line(self.view.windows.get(window))])
        self._push_tv(None)

    def snapshot(self) -> Snapshot:
        return snapshot(
            self.view,
            hall_name=self.hall.hall.name,
            notice=self.hall.hall.notice or t("display.tv.default_notice"),
            history=self.cfg.tv.history if self.cfg.tv else 8,
            by_name=self.hall.hall.call_by_name,
            connected=self.messenger.connected,
        )

    def _push_tv(self, update: CallUpdate | None) -> None:
        if self.tv is not None:
            self.tv.push(self.snapshot(), update)
