"""Loads config/hall.yaml into HallConfig with errors that name file, line, key and a fix."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from yizhan.config.model import CrossCheckError, HallConfig

logger = logging.getLogger(__name__)

Path_ = tuple[str | int, ...]


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


def _line_index(node: yaml.Node, path: Path_ = (), out: dict[Path_, int] | None = None) -> dict[Path_, int]:
    """Maps every key path in the YAML document to its 1-based line."""
    out = {} if out is None else out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[path + (key,)] = key_node.start_mark.line + 1
            _line_index(value_node, path + (key,), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[path + (i,)] = item.start_mark.line + 1
            _line_index(item, path + (i,), out)
    return out


def _line_for(lines: dict[Path_, int], path: Path_) -> int:
    # Pydantic adds union tags and aliases to paths; walk back to the nearest known key.
    p = tuple(path)
    while p and p not in lines:
        p = p[:-1]
    return lines.get(p, 1)


_HINTS = {
    "missing": "缺少必填项，请添加",
    "extra_forbidden": "未知的键（拼写错误？），请删除或改正",
    "string_pattern_mismatch": "格式不对",
    "int_parsing": "应为整数",
    "bool_parsing": "应为 true 或 false",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
    "greater_than_equal": "数值太小",
    "less_than_equal": "数值太大",
    "too_short": "至少需要一项",
    "string_too_long": "太长",
}


def _message(err: dict[str, Any]) -> str:
    hint = _HINTS.get(err["type"])
    detail = err["msg"]
    if err["type"] == "value_error":
        detail = str(err.get("ctx", {}).get("error", detail))
        return detail
    if hint:
        return f"{hint}（{detail}）"
    return detail


def _clean_loc(loc: tuple) -> Path_:
    # Drop pydantic's union tags such as 'serial_sam' inside discriminated unions and function names.
    return tuple(p for p in loc if not (isinstance(p, str) and (p.startswith("function-") or "[" in p)))


def parse_config(text: str, filename: str = "hall.yaml") -> HallConfig:
    """Parses and validates; raises ConfigError listing every problem."""
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise ConfigError([ConfigProblem(filename, line, "", f"YAML 语法错误：{getattr(exc, 'problem', exc)}；请检查缩进和冒号")]) from None
    if not isinstance(data, dict) or node is None:
        raise ConfigError([ConfigProblem(filename, 1, "", "配置文件应为一个 YAML 映射（hall:, departments:, …）")])
    lines = _line_index(node)
    try:
        return HallConfig.model_validate(data)
    except ValidationError as exc:
        problems: list[ConfigProblem] = []
        for err in exc.errors():
            cross = err.get("ctx", {}).get("error")
            if isinstance(cross, CrossCheckError):
                for path, msg in cross.problems:
                    problems.append(ConfigProblem(filename, _line_for(lines, path), _dotted(path), msg))
                continue
            loc = _clean_loc(err["loc"])
            problems.append(ConfigProblem(filename, _line_for(lines, loc), _dotted(loc), _message(err)))
        problems.sort(key=lambda p: p.line)
        raise ConfigError(problems) from None


def _dotted(path: Path_) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def load_config(config_dir: Path | str) -> HallConfig:
    path = Path(config_dir) / "hall.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigProblem(str(path), 0, "", "找不到配置文件；请设置 YIZHAN_CONFIG 指向含 hall.yaml 的目录")]) from None
    except UnicodeDecodeError:
        raise ConfigError([ConfigProblem(str(path), 0, "", "配置文件不是 UTF-8 编码；请另存为 UTF-8")]) from None
    return parse_config(text, str(path))
