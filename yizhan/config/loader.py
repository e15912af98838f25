"""Loads config/hall.yaml into HallConfig with errors that name file, line, key and a fix.

Every problem becomes `FILE:LINE: key.path: message`, the message in Chinese and saying
how to fix it. Line numbers come from PyYAML's node marks, so they point at the key the
message is about (or, for a missing key, at the mapping that lacks it).
"""

from __future__ import annotations

import difflib
import logging
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from yizhan.config.model import CrossCheckError, HallConfig

logger = logging.getLogger(__name__)

Path_ = tuple[str | int, ...]

# libyaml's parser when present: ten times faster on a full hall, with the same line marks.
_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BASE):  # type: ignore[misc,valid-type]
    """Dates stay text for the model to check: YAML's own date reading fails with a bare
    ValueError on a date like 2026-13-01, without a line."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BASE.yaml_implicit_resolvers.items()
}
_LOADER = _Loader


@dataclass(frozen=True)
class ConfigProblem:
    file: str
    line: int
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.key or '(top)'}: {self.message}"


class ConfigError(Exception):
    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# --- YAML: parse, map key paths to lines, find duplicate keys ------------------------------


class _Index:
    """Line of every key path in the document, and the duplicate keys PyYAML would silently merge."""

    def __init__(self, root: yaml.Node) -> None:
        self.lines: dict[Path_, int] = {}
        self.duplicates: list[tuple[Path_, int, int]] = []  # path, line, line of the first one
        self._constructor = yaml.SafeLoader("")
        self._walk(root, ())

    def _key(self, node: yaml.Node) -> Any:
        # The typed key as the data holds it (`01: x` is the int 1, `"01": x` the string "01").
        if isinstance(node, yaml.ScalarNode):
            try:
                value = self._constructor.construct_object(node, deep=True)
                return value if isinstance(value, (str, int)) and not isinstance(value, bool) else str(value)
            except yaml.YAMLError:
                return node.value
        return node.start_mark.line + 1  # a complex key; never looked up

    def _walk(self, node: yaml.Node, path: Path_) -> None:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            first: dict[Any, int] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self._key(key_node)
                line = key_node.start_mark.line + 1
                if key in first:
                    self.duplicates.append((path + (key,), line, first[key]))
                    continue
                first[key] = line
                self.lines[path + (key,)] = line
                self._walk(value_node, path + (key,))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self.lines[path + (i,)] = item.start_mark.line + 1
                self._walk(item, path + (i,))

    def line_for(self, path: Path_) -> int:
        # Walk back to the nearest key that exists in the file (a missing key → its parent).
        p = tuple(path)
        while p and p not in self.lines:
            p = p[:-1]
        return self.lines.get(p, 1)


# Needles cover both libyaml's and PyYAML's wording of the same problem.
_YAML_PROBLEMS = (
    ("found character '\\t'", "这一行用了制表符（Tab）缩进；YAML 只能用空格缩进，请把 Tab 换成空格"),
    ("tab character", "这一行用了制表符（Tab）缩进；YAML 只能用空格缩进，请把 Tab 换成空格"),
    ("did not find expected key", "缩进不一致：同一层的键必须对齐（用相同数量的空格）"),
    ("did not find expected ',' or ']'", "方括号列表没有闭合，或元素之间缺少逗号"),
    ("did not find expected ',' or '}'", "花括号映射没有闭合，或元素之间缺少逗号"),
    ("did not find expected node content", "这里缺少值，或括号、引号没有闭合"),
    ("found character that cannot start any token", "这里有 YAML 不允许放在开头的字符（如 Tab、@、`）；请删掉或给值加引号"),
    ("mapping values are not allowed", "这里不能出现“键: 值”；可能是上一行缩进不对，或值里含有“: ”需要加引号"),
    ("expected <block end>", "缩进不一致：同一层的键必须对齐（用相同数量的空格）"),
    ("could not find expected ':'", "缺少冒号：每个键后面要有“: ”"),
    ("found undefined alias", "引用了未定义的锚点（*名字 之前需要 &名字）"),
    ("found unexpected end of stream", "引号或括号没有闭合"),
    ("expected ',' or ']'", "方括号列表没有闭合，或元素之间缺少逗号"),
    ("expected ',' or '}'", "花括号映射没有闭合，或元素之间缺少逗号"),
    ("but found another document", "文件里有多个 YAML 文档（---）；hall.yaml 只能有一个"),
    ("could not determine a constructor", "不支持的 YAML 标签（!!…）；请删掉标签，直接写值"),
    ("found unhashable key", "键不能是列表或映射；请写成普通的“键: 值”"),
    ("found unknown escape character", "双引号字符串里有无效的转义（\\）；请改用单引号或去掉反斜杠"),
)


def _yaml_problem(exc: yaml.YAMLError, filename: str) -> ConfigProblem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark else 1
    column = mark.column + 1 if mark else 0
    raw = f"{getattr(exc, 'context', '') or ''} {getattr(exc, 'problem', '') or exc}".strip()
    hint = next((text for needle, text in _YAML_PROBLEMS if needle in raw), None)
    where = f"第 {column} 列" if column else ""
    if hint:
        message = f"YAML 语法错误（{where}）：{hint}" if where else f"YAML 语法错误：{hint}"
    else:
        message = f"YAML 语法错误（{where}，{raw}）：请检查缩进（只用空格）、冒号和引号"
    return ConfigProblem(filename, line, "", message)


# --- pydantic errors → Chinese messages -------------------------------------------------


def _allowed_keys(path: Path_, data: Any = None) -> list[str]:
    """The keys a mapping at `path` may hold, read from the model (for 'unknown key' hints)."""
    models: list[type[BaseModel]] = [HallConfig]
    for part in path:
        nxt: list[type[BaseModel]] = []
        for model in models:
            if isinstance(part, int):
                continue  # handled by unwrapping list[...] below
            field = model.model_fields.get(part) or next(
                (f for f in model.model_fields.values() if f.alias == part), None
            )
            if field is not None:
                nxt.extend(_models_in(field.annotation))
        if isinstance(part, int):
            continue
        # A key that is no field is a dict key (a window id under `windows:`): same models.
        models = nxt or models
    if len(models) > 1:
        # A device union: keep the member whose `type` the file names.
        node = data
        for part in path:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                node = None
                break
        chosen = node.get("type") if isinstance(node, dict) else None
        narrowed = [m for m in models if "type" in m.model_fields and chosen in typing.get_args(m.model_fields["type"].annotation)]
        models = narrowed or models
    keys: set[str] = set()
    for model in models:
        keys.update(f.alias or name for name, f in model.model_fields.items())
    return sorted(keys)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """BaseModel classes inside an annotation (through Optional, Annotated, list, dict values, unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _models_in(args[0])
    if origin in (list, tuple, set):
        return [m for a in args for m in _models_in(a)]
    if origin is dict:
        return _models_in(args[1]) if len(args) == 2 else []
    if origin in (typing.Union, types.UnionType):
        return [m for a in args for m in _models_in(a)]
    return []


def _message(err: dict[str, Any], path: Path_, data: Any) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    last = path[-1] if path else ""
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    if kind == "missing":
        parent = _dotted(path[:-1]) or "文件顶层"
        return f"缺少必填项 {last}；请在 {parent} 下添加“{last}: …”（见 docs/configuration.md）"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(path[:-1], data)
        close = difflib.get_close_matches(str(last), allowed, n=1)
        fix = f"是不是“{close[0]}”？" if close else "请删除或改正。"
        listing = f"这里可用的键：{', '.join(allowed)}" if allowed else ""
        return f"未知的键 {last!r}；{fix}{listing}".rstrip("；")
    if kind in ("string_type",):
        if isinstance(value, int) and not isinstance(value, bool):
            return f"应为文字，却写了数字 {value}；编号请加引号，例如 \"{value:02d}\""
        return f"应为文字；请写成字符串（必要时加引号），而不是 {_yaml_kind(value)}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"应为整数，现在是 {value!r}；例如 3"
    if kind in ("float_type", "float_parsing"):
        return f"应为数字，现在是 {value!r}；例如 1.5"
    if kind in ("bool_type", "bool_parsing"):
        return f"应为 true 或 false，现在是 {value!r}"
    if kind in ("list_type",):
        return f"应为列表（每项一行，以“- ”开头），现在是 {_yaml_kind(value)}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"应为映射（“键: 值”，下一行缩进），现在是 {_yaml_kind(value)}"
    if kind in ("literal_error", "enum"):
        return f"取值 {value!r} 不在允许范围内；可选：{_expected(ctx)}"
    if kind == "union_tag_invalid":
        return f"type {ctx.get('tag')!r} 不认识；可选：{_expected(ctx, key='expected_tags')}"
    if kind == "union_tag_not_found":
        return "缺少 type；请写明设备类型"
    if kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern", "")
        if pattern == r"^[A-Z]$":
            return f"{value!r} 不是队列前缀；队列 id 必须是一个大写字母，例如 A（建议不用 I 和 O）"
        return f"{value!r} 格式不对；只能用英文字母、数字、- 和 _，例如 kiosk-1"
    if kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        return f"数值 {value!r} 太小；应{'不小于' if kind == 'greater_than_equal' else '大于'} {bound}"
    if kind in ("less_than_equal", "less_than"):
        bound = ctx.get("le", ctx.get("lt"))
        return f"数值 {value!r} 太大；应{'不大于' if kind == 'less_than_equal' else '小于'} {bound}"
    if kind == "too_short":
        return f"至少需要 {ctx.get('min_length', 1)} 项；请补上"
    if kind == "too_long":
        return f"最多 {ctx.get('max_length')} 项；请删掉多余的"
    if kind == "string_too_long":
        return f"太长；最多 {ctx.get('max_length')} 个字符"
    if kind == "string_too_short":
        return "不能为空"
    if kind.startswith("time"):
        return f"时间 {value!r} 不对；请写成 HH:MM，例如 08:30"
    if kind.startswith("date"):
        return f"日期 {value!r} 不对；请写成 年-月-日，例如 2026-12-31"
    return f"{err['msg']}（请对照 docs/configuration.md 修改）"


def _expected(ctx: dict[str, Any], key: str = "expected") -> str:
    return str(ctx.get(key, "")).replace(" or ", ", ").replace("'", "")


def _yaml_kind(value: Any) -> str:
    if value is None:
        return "空值（冒号后什么都没写？）"
    if isinstance(value, bool):
        return f"布尔值 {value}"
    if isinstance(value, (int, float)):
        return f"数字 {value}"
    if isinstance(value, str):
        return f"文字 {value!r}"
    if isinstance(value, list):
        return "列表"
    if isinstance(value, dict):
        return "映射"
    return type(value).__name__


def _resolve(loc: tuple, data: Any) -> Path_:
    """Turns pydantic's loc into a path through the data: drops union tags ('pcsc'),
    validator names and '[key]' markers that are not keys in the file."""
    out: list[str | int] = []
    node = data
    parts = [p for p in loc if not (isinstance(p, str) and (p.startswith("function-") or p == "[key]"))]
    for i, part in enumerate(parts):
        is_last = i == len(parts) - 1
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
        elif isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and part.isdigit() and int(part) in node:
            out.append(int(part))
            node = node[int(part)]
        elif is_last:
            out.append(part)  # a missing or unknown key: keep it, the line goes to its parent
        # else: a union tag or a model-level marker — not part of the file's structure
    return tuple(out)


_LIST_SECTIONS = ("departments", "queues", "services", "windows", "kiosks", "displays", "keypad_buses")


def _cross_checks_despite(errors: list[dict[str, Any]], data: dict[str, Any]) -> list[tuple[Path_, str]]:
    """Pydantic runs the cross-checks only when every field is valid, so a manager would fix
    the field errors and then meet a second list. Run them now on the items that are valid,
    leaving out what mentions a broken item (its id is not trustworthy yet)."""
    broken: dict[str, set[int]] = {}
    for err in errors:
        loc = err["loc"]
        if loc and loc[0] in _LIST_SECTIONS:
            if len(loc) < 2 or not isinstance(loc[1], int):
                return []  # a whole section is unusable
            broken.setdefault(str(loc[0]), set()).add(loc[1])
    sections: dict[str, list[Any]] = {}
    kept: dict[str, list[int]] = {}
    dropped: set[str] = set()
    for name in _LIST_SECTIONS:
        raw = data.get(name) or []
        if not isinstance(raw, list):
            return []
        bad = broken.get(name, set())
        kept[name] = [i for i in range(len(raw)) if i not in bad]
        annotation = HallConfig.model_fields[name].annotation
        try:
            items = TypeAdapter(annotation).validate_python([raw[i] for i in kept[name]])
        except ValidationError:
            return []
        positions = list(kept[name])
        for i in sorted(bad):
            item = raw[i] if i < len(raw) else None
            ident = item.get("id") if isinstance(item, dict) else None
            if name in ("departments", "queues") and isinstance(ident, str) and ident:
                # Only their id takes part in the checks: keep a stand-in so references resolve.
                model = _models_in(annotation)[0]
                at = next((k for k, pos in enumerate(positions) if pos > i), len(positions))
                items.insert(at, model.model_construct(id=ident))
                positions.insert(at, i)
            elif isinstance(item, dict):
                dropped.update(str(item[k]) for k in ("id", "code") if k in item)
        sections[name], kept[name] = items, positions
    try:
        HallConfig.model_construct(**sections)._cross_checks()
    except CrossCheckError as cross:
        out = []
        for path, msg in cross.problems:
            if any(f"'{d}'" in msg or f"队列 {d} " in msg for d in dropped):
                continue
            if broken.get("windows") and "没有任何窗口" in msg:
                continue
            section, index = path[0], path[1]
            out.append(((section, kept[str(section)][int(index)], *path[2:]), msg))
        return out
    return []


def _dotted(path: Path_) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def parse_config(text: str, filename: str = "hall.yaml") -> HallConfig:
    """Parses and validates; raises ConfigError listing every problem."""
    if not text.strip():
        raise ConfigError([ConfigProblem(filename, 1, "", "配置文件是空的；请从仓库里的 config/hall.yaml 复制一份再修改")])
    try:
        node = yaml.compose(text, Loader=_LOADER)
        data = yaml.load(text, Loader=_LOADER)  # noqa: S506 — a safe loader
    except yaml.YAMLError as exc:
        raise ConfigError([_yaml_problem(exc, filename)]) from None
    if node is None or data is None:
        raise ConfigError([ConfigProblem(filename, 1, "", "配置文件里只有注释；请写入 hall:、departments:、queues:、services:、windows: 等部分")])
    if not isinstance(data, dict):
        raise ConfigError(
            [ConfigProblem(filename, node.start_mark.line + 1, "", "顶层应为映射（hall:、departments:、queues:、services:、windows: …），而不是列表或单个值")]
        )
    index = _Index(node)
    problems = [
        ConfigProblem(filename, line, _dotted(path), f"键 {path[-1]!r} 重复（第 {first} 行已写过）；请删除其中一个，否则后写的会悄悄覆盖前面的")
        for path, line, first in index.duplicates
    ]
    try:
        cfg = HallConfig.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            cross = (err.get("ctx") or {}).get("error")
            base = _resolve(err["loc"], data)
            if isinstance(cross, CrossCheckError):
                for sub, msg in cross.problems:
                    path = base + tuple(sub)
                    problems.append(ConfigProblem(filename, index.line_for(path), _dotted(path), msg))
                continue
            if err["type"] == "union_tag_invalid":
                base = base + (str((err.get("ctx") or {}).get("discriminator", "type")).strip("'"),)
            problems.append(ConfigProblem(filename, index.line_for(base), _dotted(base), _message(err, base, data)))
        field_errors = [e for e in exc.errors() if not isinstance((e.get("ctx") or {}).get("error"), CrossCheckError) or e["loc"]]
        for path, msg in _cross_checks_despite(field_errors, data) if field_errors else ():
            problems.append(ConfigProblem(filename, index.line_for(path), _dotted(path), msg))
    else:
        if not problems:
            return cfg
    problems.sort(key=lambda p: p.line)
    raise ConfigError(problems)


def load_config(config_dir: Path | str) -> HallConfig:
    path = Path(config_dir) / "hall.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigProblem(str(path), 0, "", "找不到配置文件；请设置 YIZHAN_CONFIG 指向含 hall.yaml 的目录，或在命令后写目录")]) from None
    except IsADirectoryError:
        raise ConfigError([ConfigProblem(str(path), 0, "", "这是一个目录，不是文件；hall.yaml 应为 YAML 文件")]) from None
    except PermissionError:
        raise ConfigError([ConfigProblem(str(path), 0, "", "没有读取权限；请让运行 yizhan 的用户可以读取它（chmod/chown）")]) from None
    except UnicodeDecodeError:
        raise ConfigError([ConfigProblem(str(path), 0, "", "配置文件不是 UTF-8 编码；请用 UTF-8 另存（不要用 GBK）")]) from None
    return parse_config(text, str(path))
