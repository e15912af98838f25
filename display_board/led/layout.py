"""What each LED line says (pure): the hall board's lines and one window strip's text."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from display_board.led.protocol import Colour, Effect
from display_board.model import Call, HallView, WindowState
from yizhan.i18n import t


@dataclass(frozen=True)
class LedLine:
    text: str
    colour: Colour = Colour.RED
    effect: Effect = Effect.STATIC
    scroll: bool = False


BLANK = LedLine("")


def cells(text: str) -> int:
    """Width in half-width LED cells: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def fit(text: str, width: int) -> str:
    out, used = [], 0
    for ch in text:
        w = cells(ch)
        if used + w > width:
            break
        out.append(ch)
        used += w
    return "".join(out)


def call_text(call: Call, width: int, by_name: bool = False) -> str:
    """'请A012号到5号窗口', shortened to 'A012 5号窗口' when the line is narrow."""
    if by_name and call.masked_name:
        candidates = [t("display.led.call_name", name=call.masked_name, ticket=call.ticket, window=call.window_name)]
    else:
        candidates = []
    candidates += [
        t("display.led.call", ticket=call.ticket, window=call.window_name),
        t("display.led.call_short", ticket=call.ticket, window=call.window_name),
    ]
    for text in candidates:
        if cells(text) <= width:
            return text
    return fit(candidates[-1], width)


def waiting_text(view: HallView) -> str:
    parts = [
        t("display.led.waiting", name=q.name, queue=q.queue, n=q.waiting) if q.open else t("display.led.queue_closed", name=q.name, queue=q.queue)
        for q in view.queue_list()
    ]
    return "  ".join(parts)


def board_lines(view: HallView, *, title: str, lines: int, columns: int, show_waiting: bool, by_name: bool = False) -> list[LedLine]:
    """The hall board: title, the latest calls (newest flashing), and the waiting counts scrolling."""
    width = columns * 2
    out: list[LedLine] = []
    call_rows = lines
    if lines >= 3:
        out.append(LedLine(fit(title, width), Colour.GREEN))
        call_rows -= 1
    if show_waiting and lines >= 2:
        call_rows -= 1
    recent = view.recent(call_rows)
    for i in range(call_rows):
        if i < len(recent):
            call = recent[i]
            fresh = i == 0 and not call.from_state
            out.append(LedLine(call_text(call, width, by_name), Colour.RED, Effect.FLASH if fresh else Effect.STATIC))
        else:
            out.append(BLANK)
    if show_waiting and lines >= 2:
        text = waiting_text(view)
        out.append(LedLine(text, Colour.YELLOW, scroll=cells(text) > width) if text else BLANK)
    return out


def strip_line(ws: WindowState | None, ticket: str | None = None) -> LedLine:
    """A window strip: the number being served, 暂停服务 when paused/closed, 请稍候 when idle."""
    if ticket:
        return LedLine(ticket, Colour.RED)
    if ws is None:
        return LedLine(t("display.strip.idle"), Colour.GREEN)
    if ws.state == "paused":
        return LedLine(t("display.strip.paused"), Colour.YELLOW)
    if ws.state == "closed":
        return LedLine(t("display.strip.closed"), Colour.YELLOW)
    if ws.ticket:
        return LedLine(ws.ticket, Colour.RED)
    return LedLine(t("display.strip.idle"), Colour.GREEN)
