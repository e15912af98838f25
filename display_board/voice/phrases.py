"""What is said for a call, as a list of phrases (pure).

Ticket numbers are spelled one character at a time (A012 → A 零 一 二): read as a
value, 012 would become 十二. Window numbers are read as numbers (12号窗口 → 十二号窗口),
as people say them.
"""

from __future__ import annotations

import re
import string

DIGITS = "零一二三四五六七八九"
PLACEHOLDERS = {"number", "window"}
_FIELD = re.compile(r"\{(\w*)\}")


class TemplateError(ValueError):
    pass


def check_template(template: str) -> None:
    names = {m.group(1) for m in _FIELD.finditer(template)}
    unknown = names - PLACEHOLDERS
    if unknown:
        raise TemplateError(f"语音模板中的 {{{', '.join(sorted(unknown))}}} 无法识别；可用 {{number}} 与 {{window}}")
    if "number" not in names:
        raise TemplateError("语音模板必须包含 {number}（票号）")


def spell_ticket(ticket: str) -> list[str]:
    out: list[str] = []
    for ch in ticket.upper():
        if ch.isdigit() and ch in string.digits:
            out.append(DIGITS[int(ch)])
        elif ch in string.ascii_uppercase:
            out.append(ch)
    return out


def say_number(n: int) -> str:
    """0–99 as spoken (十二, 二十, 二十一); larger numbers digit by digit."""
    if n < 10:
        return DIGITS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        head = "十" if tens == 1 else DIGITS[tens] + "十"
        return head + (DIGITS[ones] if ones else "")
    return "".join(DIGITS[int(d)] for d in str(n))


def speak_window(spoken: str) -> str:
    """'05号窗口' → '五号窗口'; 'P1号窗口' → 'P一号窗口'."""
    return re.sub(r"\d+", lambda m: say_number(int(m.group())), spoken)


def phrases(template: str, ticket: str, window_spoken: str) -> list[str]:
    """The phrases of one saying of a call, in order; each is rendered once and cached."""
    out: list[str] = []
    pos = 0
    for m in _FIELD.finditer(template):
        literal = template[pos : m.start()].strip()
        if literal:
            out.append(literal)
        if m.group(1) == "number":
            out.extend(spell_ticket(ticket))
        elif m.group(1) == "window":
            if window_spoken:
                out.append(speak_window(window_spoken))
        pos = m.end()
    tail = template[pos:].strip()
    if tail:
        out.append(tail)
    return out
