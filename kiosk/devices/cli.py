"""`yizhan devices …`: field diagnostics (DESIGN.md). Each subcommand is `module:function(argv) -> int`;
other device kinds add their line to SUBCOMMANDS and keep their code in their own package."""

from __future__ import annotations

import importlib
import sys

from yizhan.i18n import t

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "readers": ("kiosk.devices.idcard.cli:readers_main", "列出读卡器和串口 / list PC/SC readers and serial ports"),
    "read-id": ("kiosk.devices.idcard.cli:read_id_main", "读一张证件（号码、姓名脱敏）/ read one card, masked"),
    "print-test": ("kiosk.devices.printer.cli:print_test_main", "打印测试号票 / print a sample ticket"),
    "printer-status": ("kiosk.devices.printer.cli:printer_status_main", "打印机状态 / printer status"),
    # other engineers' device kinds:
    "scan": ("kiosk.devices.camera.cli:main", "高拍仪找文档 / find the document in a camera frame"),
    "keypads-listen": ("kiosk.keypad_bus.listen_cli:main", "监听评价器总线 / listen on the keypad bus"),
}


def error_text(exc: BaseException) -> str:
    """The catalogue message for a device error, with the technical detail for the field engineer."""
    key = getattr(exc, "message_key", "device.error")
    detail = " ".join(str(exc).split())
    return f"{t(key)}（{detail}）" if detail else t(key)


def _usage() -> str:
    lines = ["用法 / usage: yizhan devices SUBCOMMAND [ARGS]", ""]
    lines += [f"  {name:<15} {text}" for name, (_, text) in SUBCOMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in SUBCOMMANDS:
        print(t("devices.cli.unknown_subcommand", name=name) + "\n\n" + _usage(), file=sys.stderr)
        return 2
    target = SUBCOMMANDS[name][0]
    module_name, func_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            print(t("devices.cli.not_installed", name=name, module=module_name), file=sys.stderr)
            return 2
        raise
    return int(getattr(module, func_name)(rest) or 0)
