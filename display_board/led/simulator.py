"""LED controllers in software: they read the same bytes a real board reads, answer the same
way, remember what they show, and draw themselves to a PNG (a dot-matrix look).

Used by the tests (on a pty pair), by `yizhan display --simulate`, and for docs/screens/led.png.
"""

from __future__ import annotations

import logging
import os
import select
import threading
from dataclasses import dataclass, field
from pathlib import Path

from display_board.fonts import chinese_font
from display_board.led.protocol import (
    ALL_LINES,
    BROADCAST,
    Cmd,
    Colour,
    Effect,
    Frame,
    FrameError,
    FrameParser,
    Status,
    decode_text,
    reply_frame,
)

logger = logging.getLogger(__name__)

LED_COLOURS = {Colour.RED: (255, 40, 30), Colour.GREEN: (40, 230, 70), Colour.YELLOW: (255, 200, 30)}


@dataclass
class ShownLine:
    text: str = ""
    colour: Colour = Colour.RED
    effect: Effect = Effect.STATIC
    scroll: bool = False


@dataclass
class BoardMemory:
    """What one controller displays."""

    lines: int
    columns: int
    brightness: int = 15
    shown: list[ShownLine] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.shown = [ShownLine() for _ in range(self.lines)]

    def texts(self) -> list[str]:
        return [s.text for s in self.shown]

    def apply(self, frame: Frame) -> Status:
        if frame.cmd == Cmd.PING:
            return Status.OK
        if frame.cmd == Cmd.BRIGHTNESS:
            if len(frame.payload) != 1 or frame.payload[0] > 15:
                return Status.BAD_PAYLOAD
            self.brightness = frame.payload[0]
            return Status.OK
        if frame.cmd == Cmd.CLEAR:
            if len(frame.payload) != 1:
                return Status.BAD_PAYLOAD
            line = frame.payload[0]
            if line == ALL_LINES:
                self.shown = [ShownLine() for _ in range(self.lines)]
                return Status.OK
            if line >= self.lines:
                return Status.BAD_LINE
            self.shown[line] = ShownLine()
            return Status.OK
        if frame.cmd in (Cmd.TEXT, Cmd.SCROLL):
            try:
                cmd = decode_text(frame)
            except FrameError:
                return Status.BAD_PAYLOAD
            if cmd.line >= self.lines:
                return Status.BAD_LINE
            self.shown[cmd.line] = ShownLine(cmd.text, cmd.colour, cmd.effect, cmd.scroll)
            return Status.OK
        return Status.BAD_COMMAND


class BusSimulator:
    """The boards on one line. `mode`: ok, silent (answers nothing), nonsense (answers noise)."""

    def __init__(self, boards: dict[int, tuple[int, int]], mode: str = "ok") -> None:
        self.boards = {addr: BoardMemory(lines, cols) for addr, (lines, cols) in boards.items()}
        self.mode = mode
        self.parser = FrameParser()
        self.frames: list[Frame] = []  # everything received, for the tests
        self.changed = threading.Event()
        self._lock = threading.Lock()

    def feed(self, data: bytes) -> bytes:
        out = bytearray()
        with self._lock:
            for frame in self.parser.feed(data):
                self.frames.append(frame)
                targets = list(self.boards.values()) if frame.address == BROADCAST else [self.boards.get(frame.address)]
                status = Status.OK
                for board in targets:
                    if board is not None:
                        status = board.apply(frame)
                if frame.address == BROADCAST or targets[0] is None:
                    continue
                if self.mode == "ok":
                    out += reply_frame(frame, status).encode()
                elif self.mode == "nonsense":
                    out += b"\x5a\xa5\x00\xffOK\r\n" + bytes((frame.seq * 7 + i) % 256 for i in range(9))
            self.changed.set()
        return bytes(out)

    def texts(self, address: int) -> list[str]:
        with self._lock:
            return self.boards[address].texts()

    def render_png(self, path: Path, addresses: list[int] | None = None, *, title: str = "", fast: bool = False) -> Path:
        with self._lock:
            boards = [(a, self.boards[a]) for a in (addresses or sorted(self.boards))]
            image = render_boards(boards, title)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        image.save(tmp, format="PNG", compress_level=1 if fast else 6)
        tmp.replace(path)  # a viewer never sees half a picture
        return path


DOT = 5  # screen pixels per LED
PIXELS_PER_CELL = 8  # LED pixels per half-width cell (16×16 per Chinese character)


def _dot_matrix(board: BoardMemory, font) -> "Image.Image":
    """The board at LED resolution, blown up to round dots (vectorised: a render takes milliseconds,
    so the simulator never starves the TV's thread)."""
    import numpy as np
    from PIL import Image, ImageDraw

    width = board.columns * 2 * PIXELS_PER_CELL
    rows = []
    scale = 0.35 + 0.65 * board.brightness / 15
    for line in board.shown:
        bitmap = Image.new("L", (width, 16), 0)
        ImageDraw.Draw(bitmap).text((0, 0), line.text, font=font, fill=255)
        lit = np.asarray(bitmap) > 96
        colour = np.array(LED_COLOURS.get(line.colour, LED_COLOURS[Colour.RED]), dtype=np.float32) * scale
        rgb = np.where(lit[..., None], colour, np.array([38, 14, 12], dtype=np.float32))
        rows.append(rgb)
    leds = np.concatenate(rows, axis=0).astype(np.uint8)
    big = leds.repeat(DOT, axis=0).repeat(DOT, axis=1)
    yy, xx = np.mgrid[0:DOT, 0:DOT]
    centre = (DOT - 2) / 2
    dot = ((yy - centre) ** 2 + (xx - centre) ** 2) <= (centre + 0.3) ** 2
    mask = np.tile(dot, (leds.shape[0], leds.shape[1]))
    big[~mask] = (5, 5, 5)
    return Image.fromarray(big, "RGB")


def render_boards(boards: list[tuple[int, BoardMemory]], title: str = "") -> "Image.Image":
    """Draws each board as a dot-matrix LED panel under its address label."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(chinese_font(), 16, index=0)
    label_font = ImageFont.truetype(chinese_font(), 18, index=0)
    margin, label_h = 16, 28
    panels = [(address, board, _dot_matrix(board, font)) for address, board in boards]
    top = 40 if title else 0
    width = max(p.width for _, _, p in panels) + 2 * margin
    height = top + sum(p.height for _, _, p in panels) + len(panels) * (label_h + margin) + margin
    canvas = Image.new("RGB", (width, height), (28, 28, 32))
    draw = ImageDraw.Draw(canvas)
    if title:
        draw.text((margin, 10), title, font=label_font, fill=(220, 220, 220))
    y = top + margin
    for address, board, panel in panels:
        draw.text((margin, y), f"地址 {address} · {board.lines}×{board.columns} · 亮度 {board.brightness}", font=label_font, fill=(170, 170, 170))
        y += label_h
        draw.rectangle((margin - 4, y - 4, margin + panel.width + 3, y + panel.height + 3), fill=(5, 5, 5), outline=(70, 70, 70))
        canvas.paste(panel, (margin, y))
        y += panel.height + margin
    return canvas


class PtySimulator:
    """Runs a BusSimulator on the master side of a pty; the driver opens `port` like a real serial port."""

    def __init__(self, bus: BusSimulator, *, master_fd: int | None = None, port: str | None = None) -> None:
        self.bus = bus
        if master_fd is None:
            master_fd, slave_fd = os.openpty()
            import tty

            tty.setraw(slave_fd)
            port = os.ttyname(slave_fd)
            self._slave_fd: int | None = slave_fd  # held open so the pty survives driver reconnects
        else:
            self._slave_fd = None
        self.master_fd = master_fd
        self.port = port or ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="led-sim", daemon=True)

    def start(self) -> "PtySimulator":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for fd in (self.master_fd, self._slave_fd):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self.master_fd], [], [], 0.1)
                if not ready:
                    continue
                data = os.read(self.master_fd, 4096)
            except OSError:
                if self._stop.wait(0.1):
                    return
                continue
            if data:
                reply = self.bus.feed(data)
                if reply:
                    try:
                        os.write(self.master_fd, reply)
                    except OSError:
                        pass


class SerialPortSimulator:
    """Runs a BusSimulator on a serial port by path (the far end of a socat pty pair, or a
    USB–RS-485 adapter looped to the real bus for bench tests)."""

    def __init__(self, bus: BusSimulator, port: str) -> None:
        import serial

        self.bus = bus
        self.serial = serial.Serial(port, 9600, timeout=0.05)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="led-sim-serial", daemon=True)

    def start(self) -> "SerialPortSimulator":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        try:
            self.serial.close()
        except OSError:
            pass

    def _run(self) -> None:
        import serial

        while not self._stop.is_set():
            try:
                data = self.serial.read(4096)
                if data:
                    reply = self.bus.feed(data)
                    if reply:
                        self.serial.write(reply)
            except (serial.SerialException, OSError):
                return  # the line is gone; the test or operator starts a new simulator


class TcpSimulator:
    """Boards behind a TCP port (an Ethernet LED controller or a serial server), for `tcp://` addresses."""

    def __init__(self, bus: BusSimulator, host: str = "127.0.0.1", port: int = 0) -> None:
        import socket

        self.bus = bus
        self._server = socket.create_server((host, port))
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="led-sim-tcp", daemon=True)

    def start(self) -> "TcpSimulator":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        try:
            self._server.close()
        except OSError:
            pass
        self._thread.join(2)

    def _run(self) -> None:
        self._server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(0.2)
                while not self._stop.is_set():
                    try:
                        data = conn.recv(4096)
                    except TimeoutError:
                        continue
                    except OSError:
                        break
                    if not data:
                        break
                    reply = self.bus.feed(data)
                    if reply:
                        conn.sendall(reply)
