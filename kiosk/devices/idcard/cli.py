"""`yizhan devices readers` and `yizhan devices read-id`: never a full name or ID number on screen."""

from __future__ import annotations

import argparse
import json
import sys

from kiosk.devices.base import DeviceError, Identity
from yizhan.i18n import t
from yizhan.privacy import mask_id


def readers_main(argv: list[str]) -> int:
    argparse.ArgumentParser(prog="yizhan devices readers", description="列出读卡器和串口 / list readers").parse_args(argv)
    from serial.tools import list_ports

    print(t("devices.cli.readers_pcsc"))
    try:
        from smartcard.System import readers

        names = [str(r) for r in readers()]
        for name in names:
            print(f"  {name}")
        if not names:
            print(f"  {t('devices.cli.none')}")
    except Exception as exc:  # pcscd not running, or no PC/SC library
        print(f"  {t('devices.cli.pcsc_unavailable', detail=exc)}")
    print(t("devices.cli.readers_serial"))
    ports = sorted(list_ports.comports(), key=lambda p: p.device)
    for p in ports:
        desc = f"  {p.description}" if p.description and p.description != "n/a" else ""
        print(f"  {p.device}{desc}")
    if not ports:
        print(f"  {t('devices.cli.none')}")
    return 0


def identity_json(identity: Identity) -> dict[str, object]:
    """DESIGN.md's --json fields, masked. valid_to is null for a long-term (长期) card."""
    return {
        "type": identity.card_type.value,
        "name": identity.masked_name,
        "id_number": identity.masked_id,
        "sex": identity.sex,
        "birth_date": identity.birth_date.isoformat() if identity.birth_date else None,
        "valid_from": identity.valid_from.isoformat() if identity.valid_from else None,
        "valid_to": identity.valid_to.isoformat() if identity.valid_to else None,
    }


def identity_lines(identity: Identity) -> list[str]:
    lines = [
        t("devices.cli.card_type", value=t(f"devices.card_type.{identity.card_type.value}")),
        t("devices.cli.name", value=identity.masked_name),
        t("devices.cli.id_number", value=identity.masked_id),
    ]
    if identity.sex:
        lines.append(t("devices.cli.sex", value=identity.sex))
    if identity.birth_date:
        lines.append(t("devices.cli.birth_date", value=identity.birth_date.isoformat()))
    if identity.valid_from or identity.valid_to:
        start = identity.valid_from.isoformat() if identity.valid_from else "—"
        end = identity.valid_to.isoformat() if identity.valid_to else t("devices.cli.long_term")
        lines.append(t("devices.cli.validity", start=start, end=end))
    if identity.nationality:
        lines.append(t("devices.cli.nationality", value=identity.nationality))
    if identity.card_number:
        lines.append(t("devices.cli.card_number", value=mask_id(identity.card_number)))
    return lines


def read_id_main(argv: list[str]) -> int:
    from kiosk.devices.cli import error_text

    ap = argparse.ArgumentParser(prog="yizhan devices read-id", description="读一张证件 / read one card (masked)")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--serial", metavar="PORT", help="串口身份证模块 / serial SAM module, e.g. /dev/ttyUSB0")
    src.add_argument("--pcsc", metavar="READER", nargs="?", const="", help="PC/SC 读卡器（名称的一部分）/ PC/SC reader")
    ap.add_argument("--baudrate", type=int, default=115200)
    ap.add_argument("--timeout", type=float, default=5.0, help="等待放卡的秒数 / seconds to wait for a card")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.serial is not None:
        from kiosk.devices.idcard.sam_reader import SamSerialReader

        reader = SamSerialReader(args.serial, args.baudrate)
    else:
        from kiosk.devices.idcard.pcsc_reader import PcscCardReader, reader_names, service_available

        if not service_available():
            print(t("devices.cli.pcsc_unavailable", detail="SCardEstablishContext"), file=sys.stderr)
            return 1
        if args.pcsc and not any(args.pcsc.lower() in n.lower() for n in reader_names()):
            print(t("devices.cli.no_reader", name=args.pcsc), file=sys.stderr)
            return 1
        reader = PcscCardReader(args.pcsc)
    try:
        identity = reader.read(args.timeout)
    except DeviceError as exc:
        print(error_text(exc), file=sys.stderr)
        return 1
    finally:
        reader.close()
    if args.json:
        print(json.dumps(identity_json(identity), ensure_ascii=False))
    else:
        print("\n".join(identity_lines(identity)))
    return 0
