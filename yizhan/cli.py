"""The single entry point `yizhan` (DESIGN.md, "Command line").

Each subcommand lives in its own package and parses its own arguments: `yizhan X ARGS`
calls `<module>.main(ARGS)`, imported only when X is asked for, so a kiosk never
imports the server and `yizhan token` answers quickly.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys

COMMANDS: dict[str, tuple[str, str]] = {
    "server": ("queue_server.cli:server_main", "队列服务器（HTTP API、网页控制台、消息发布）/ the queue server"),
    "kiosk": ("kiosk.cli:main", "自助取号机 / the touchscreen kiosk"),
    "display": ("display_board.cli:main", "叫号显示屏与语音 / display board: LED, window strips, TV, voice"),
    "keypads": ("kiosk.keypad_bus.cli:main", "RS-485 评价器与叫号器总线 / the keypad bus master"),
    "wechat": ("wechat_bridge.cli:main", "微信通知桥 / the WeChat bridge"),
    "demo": ("yizhan.demo:main", "模拟整个大厅 / a whole simulated hall on one machine"),
    "check-config": ("yizhan.check_config:main", "检查配置 / validate config/hall.yaml"),
    "token": ("queue_server.cli:token_main", "生成访问令牌 / print a bearer token"),
    "devices": ("kiosk.devices.cli:main", "现场设备诊断 / field diagnostics for devices"),
}


def _usage() -> str:
    lines = ["用法 / usage: yizhan COMMAND [ARGS]", ""]
    for name, (_, text) in COMMANDS.items():
        lines.append(f"  {name:<13} {text}")
    lines.append("")
    lines.append("yizhan COMMAND --help 查看各命令的参数 / shows a command's options")
    return "\n".join(lines)


def setup_logging() -> None:
    level = os.environ.get("YIZHAN_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stdout,
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"未知命令 / unknown command: {name}\n\n{_usage()}", file=sys.stderr)
        return 2
    target, _ = COMMANDS[name]
    module_name, func_name = target.split(":")
    module = importlib.import_module(module_name)
    result = getattr(module, func_name)(rest)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
