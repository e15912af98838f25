"""Live edits of config/hall.yaml from the manager's console.

An edit is applied to the YAML document with a round-trip parser (comments, quotes and layout
stay as the hall wrote them), the resulting text is validated exactly like `yizhan check-config`
(same loader, same FILE:LINE messages), and only a valid file is written (atomically, under a
lock so two managers cannot interleave). The caller then reloads the service and audits it."""

from __future__ import annotations

import fcntl
import io
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable, Iterator

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from yizhan.config import ConfigError, HallConfig
from yizhan.config.loader import parse_config

SPANS = ("morning", "lunch", "afternoon")


class EditError(Exception):
    """An edit that cannot be applied: Chinese messages, one per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass
class EditResult:
    cfg: HallConfig
    changes: dict  # field → [before, after]


def _yaml() -> YAML:
    y = YAML()
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)  # the layout of the shipped hall.yaml
    return y


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    lock = path.with_name(path.name + ".lock")
    with open(lock, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _find(seq: list, key: str, value: str, what: str) -> CommentedMap:
    for item in seq:
        if str(item.get(key)) == value:
            return item
    raise EditError([f"配置中没有{what} {value}"])


def _int_or_text(value: str) -> int | str:
    value = value.strip()
    return int(value) if re.fullmatch(r"-?\d+", value) else value


class ConfigEditor:
    def __init__(self, config_file: Path) -> None:
        self.path = Path(config_file)

    def edit(self, change: Callable[[CommentedMap], dict]) -> EditResult:
        y = _yaml()
        with _locked(self.path):
            text = self.path.read_text(encoding="utf-8")
            doc = y.load(text)
            changes = change(doc)
            out = io.StringIO()
            y.dump(doc, out)
            new_text = out.getvalue()
            try:
                cfg = parse_config(new_text, self.path.name)
            except ConfigError as exc:
                raise EditError([str(p) for p in exc.problems]) from None
            if new_text != text:
                tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
                tmp.write_text(new_text, encoding="utf-8")
                os.replace(tmp, self.path)
            return EditResult(cfg, changes)

    # ---- the edits the console offers --------------------------------------------------------
    def edit_queue(self, queue_id: str, form: dict[str, str]) -> EditResult:
        def change(doc: CommentedMap) -> dict:
            q = _find(doc["queues"], "id", queue_id, "队列")
            changes: dict = {}

            def put(mapping: CommentedMap, key: str, value: object, label: str, after: str | None = None) -> None:
                before = mapping.get(key)
                if before == value:
                    return
                if value in (None, ""):
                    if key in mapping:
                        del mapping[key]
                        changes[label] = [before, None]
                    return
                if key not in mapping and after is not None:
                    keys = list(mapping.keys())
                    pos = keys.index(after) + 1 if after in keys else 0
                    mapping.insert(pos, key, value)
                else:
                    mapping[key] = value
                changes[label] = [before, value]

            if "name" in form:
                put(q, "name", form["name"].strip(), "name")
            hours = q["hours"]
            prev = None
            for span in SPANS:
                if span in form:
                    put(hours, span, form[span].strip().replace(" ", "") or None, f"hours.{span}", after=prev)
                if span in hours:
                    prev = span
            if "days" in form:
                days = form["days"].strip()
                value: object = days
                if days not in ("workdays", "every_day"):
                    nums = [x for x in re.split(r"[,，\s]+", days) if x]
                    value = CommentedSeq(_int_or_text(x) for x in nums)
                    value.fa.set_flow_style()
                if days == "workdays" and "days" not in hours:
                    value = None  # the default: keep the file short
                if value is not None and list(value) == list(hours.get("days") or []) and not isinstance(value, str):
                    value = hours["days"]
                put(hours, "days", value, "hours.days", after=prev)
            if "stop_issuing_before_close_min" in form:
                put(hours, "stop_issuing_before_close_min", _int_or_text(form["stop_issuing_before_close_min"] or "0"), "hours.stop_issuing_before_close_min")
            if "daily_cap" in form:
                put(q, "daily_cap", _int_or_text(form["daily_cap"]), "daily_cap")
            if "digits" in form and form["digits"].strip():
                put(q, "digits", _int_or_text(form["digits"]), "digits", after="daily_cap")
            new_id = form.get("prefix", "").strip().upper()
            if new_id and new_id != queue_id:
                changes["prefix"] = [queue_id, new_id]
                q["id"] = new_id
                for s in doc["services"]:
                    if s.get("queue") == queue_id:
                        s["queue"] = new_id
                for w in doc["windows"]:
                    qs = w["queues"]
                    if queue_id in qs:
                        renamed = CommentedMap((new_id if k == queue_id else k, v) for k, v in qs.items())
                        if qs.fa.flow_style():
                            renamed.fa.set_flow_style()
                        w["queues"] = renamed
                _rename_in_lists(doc.get("displays") or [], queue_id, new_id)
            return changes

        return self.edit(change)

    def edit_service(self, code: str, form: dict[str, str]) -> EditResult:
        def change(doc: CommentedMap) -> dict:
            s = _find(doc["services"], "code", code, "事项")
            changes: dict = {}
            if "materials" in form:
                items = [line.strip() for line in form["materials"].splitlines() if line.strip()]
                if list(s.get("materials") or []) != items:
                    changes["materials"] = [list(s.get("materials") or []), items]
                    s["materials"] = CommentedSeq(items)
            for key, conv in (("class", str.strip), ("promised_days", _int_or_text), ("queue", lambda v: v.strip().upper()),
                              ("name", str.strip), ("fees", str.strip)):
                if key in form:
                    value = conv(form[key])
                    if s.get(key) != value:
                        changes[key] = [s.get(key), value]
                        s[key] = value
            return changes

        return self.edit(change)

    def edit_window(self, window_id: str, form: dict[str, str]) -> EditResult:
        def change(doc: CommentedMap) -> dict:
            w = _find(doc["windows"], "id", window_id, "窗口")
            changes: dict = {}
            if "queues" in form:
                weights = parse_weights(form["queues"])
                before = dict(w["queues"])
                if before != weights:
                    new = CommentedMap(weights.items())
                    new.fa.set_flow_style()
                    w["queues"] = new
                    changes["queues"] = [before, weights]
            if "name" in form:
                name = form["name"].strip()
                before = w.get("name", "")
                if name != before:
                    if name:
                        keys = list(w.keys())
                        if "name" in w:
                            w["name"] = name
                        else:
                            w.insert(keys.index("id") + 1, "name", name)
                    else:
                        del w["name"]
                    changes["name"] = [before, name]
            return changes

        return self.edit(change)

    def edit_calendar(self, form: dict[str, str]) -> EditResult:
        """工作日历: the closed days and the make-up working days, one date a line (or comma-separated)."""
        lists = {key: parse_dates(form[key]) for key in ("holidays", "workdays") if key in form}

        def change(doc: CommentedMap) -> dict:
            cal = doc.get("calendar")
            if cal is None:
                cal = CommentedMap()
                keys = list(doc.keys())
                doc.insert(keys.index("hall") + 1 if "hall" in keys else 0, "calendar", cal)
            changes: dict = {}
            for key, days in lists.items():
                before, after = [str(d) for d in cal.get(key) or []], [d.isoformat() for d in days]
                if before == after:
                    continue
                seq = CommentedSeq(days)
                seq.fa.set_flow_style()
                cal[key] = seq
                changes[key] = [before, after]
            return changes

        return self.edit(change)


def parse_dates(text: str) -> list[date]:
    """'2026-12-31, 2027/1/1' (one a line or separated by commas) → sorted distinct dates."""
    out: set[date] = set()
    problems = []
    for part in re.split(r"[,，;；、\s]+", text.strip()):
        if not part:
            continue
        m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", part)
        try:
            if not m:
                raise ValueError
            out.add(date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
        except ValueError:
            problems.append(f"“{part}”不是日期；请写成 年-月-日，例如 2026-12-31")
    if problems:
        raise EditError(problems)
    return sorted(out)


def parse_weights(text: str) -> dict[str, int | str]:
    """'A:3, L:1' (or 'A=3 L=1', or 'A' meaning weight 1) → {"A": 3, "L": 1}."""
    out: dict[str, int | str] = {}
    problems = []
    for part in re.split(r"[,，;；\s]+", text.strip()):
        if not part:
            continue
        m = re.fullmatch(r"([A-Za-z])(?:[:：=](\S+))?", part)
        if not m:
            problems.append(f"“{part}”看不懂；请写成 队列:权重，例如 A:3, L:1")
            continue
        q = m.group(1).upper()
        if q in out:
            problems.append(f"队列 {q} 写了两次")
        out[q] = _int_or_text(m.group(2) or "1")
    if problems:
        raise EditError(problems)
    if not out:
        raise EditError(["窗口至少要办理一个队列，例如 A:3"])
    return out


def _rename_in_lists(node: object, old: str, new: str) -> None:
    """Display sections list the queues they show (`queues: [A, B]`): follow a renamed prefix."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "queues" and isinstance(value, list):
                for i, item in enumerate(value):
                    if item == old:
                        value[i] = new
            else:
                _rename_in_lists(value, old, new)
    elif isinstance(node, list):
        for item in node:
            _rename_in_lists(item, old, new)
