"""`yizhan devices scan IMAGE --out FILE [--json] [--bw]` (DESIGN.md, field diagnostics)."""

from __future__ import annotations

import argparse
import json
import sys

import cv2

from kiosk.devices.camera.detect import detect
from kiosk.devices.camera.flatten import clean, flatten
from yizhan.i18n import t


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="yizhan devices scan", description=t("camera.cli.description"))
    ap.add_argument("image")
    ap.add_argument("--out", required=True)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--bw", action="store_true", help=t("camera.cli.bw_help"))
    args = ap.parse_args(argv)
    frame = cv2.imread(args.image, cv2.IMREAD_COLOR)
    if frame is None:
        print(t("camera.cli.unreadable", path=args.image), file=sys.stderr)
        return 2
    corners = detect(frame)
    if corners is None:
        print(t("camera.cli.no_document"), file=sys.stderr)
        return 1
    page = clean(flatten(frame, corners), bw=args.bw)
    if not cv2.imwrite(args.out, page):
        print(t("camera.cli.cannot_write", path=args.out), file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"corners": [[round(float(x), 1), round(float(y), 1)] for x, y in corners]}))
    else:
        print(t("camera.cli.done", path=args.out, w=page.shape[1], h=page.shape[0]))
    return 0
