"""`yizhan check-config [DIR]`: every error as FILE:LINE: key.path: message; exit 1 on any."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from yizhan.config import ConfigError, load_config
from yizhan.settings import load_settings


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="yizhan check-config", description="检查大厅配置 / validate the hall's configuration")
    parser.add_argument("dir", nargs="?", help="配置目录（默认 YIZHAN_CONFIG 或 ./config）")
    args = parser.parse_args(argv)
    config_dir = Path(args.dir) if args.dir else load_settings().config_dir
    if config_dir.is_file():  # `yizhan check-config config/hall.yaml` names the file itself
        config_dir = config_dir.parent
    try:
        cfg = load_config(config_dir)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"\n配置有 {len(exc.problems)} 处错误 / {len(exc.problems)} error(s)", file=sys.stderr)
        return 1
    print(
        f"配置正确 / config OK: {cfg.hall.name} — {len(cfg.departments)} 个部门, {len(cfg.services)} 个事项, "
        f"{len(cfg.queues)} 个队列, {len(cfg.windows)} 个窗口"
    )
    return 0
