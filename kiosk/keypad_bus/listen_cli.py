"""`yizhan devices keypads-listen PORT [--baud N] [--poll 1-8,12]`: decoded key presses for a technician.

Without --poll it listens to a running bus and prints every frame it decodes
(key presses and ratings in words, commands in short). With --poll it is the
master itself, for a bus with no `yizhan keypads` running.
"""

from __future__ import annotations

import argparse
import sys
import time

from kiosk.keypad_bus.protocol import Cmd, Decoder, Event, Kind
from kiosk.keypad_bus.transport import SerialTransport
from yizhan.i18n import t


def _addresses(text: str) -> dict[int, Kind]:
    out: dict[int, Kind] = {}
    for part in text.split(","):
        a, _, b = part.partition("-")
        for n in range(int(a), int(b or a) + 1):
            out[n] = Kind.CALLER
    return out


def _describe(f) -> str | None:  # type: ignore[no-untyped-def]
    if f.cmd == Cmd.EVENT or (f.cmd == Cmd.STATUS and len(f.payload) >= 7):
        p = f.payload if f.cmd == Cmd.EVENT else f.payload[2:7]
        try:
            return Event.parse(f.addr, p).describe()
        except ValueError:
            return None
    if f.cmd == Cmd.SHOW:
        return f"{f.addr:3d} 显示 / show {f.payload.decode('ascii', 'replace')}"
    if f.cmd == Cmd.PROMPT:
        return f"{f.addr:3d} 请评价 / prompt {f.payload[1:].decode('ascii', 'replace')} ({f.payload[0]} s)"
    return None


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="yizhan devices keypads-listen", description=t("keypads.listen.description"))
    ap.add_argument("port", help="/dev/ttyUSB0 or a pyserial URL")
    ap.add_argument("--baud", type=int, default=9600)
    ap.add_argument("--poll", help=t("keypads.listen.poll_help"))
    ap.add_argument("--seconds", type=float, default=0, help=t("keypads.listen.seconds_help"))
    args = ap.parse_args(argv)
    transport = SerialTransport(args.port, args.baud)
    if not transport.open():
        print(t("keypads.listen.cannot_open", port=args.port), file=sys.stderr)
        return 2
    print(t("keypads.listen.listening", port=args.port, baud=args.baud), flush=True)
    end = time.monotonic() + args.seconds if args.seconds else float("inf")
    dec = Decoder()
    try:
        if args.poll:
            from kiosk.keypad_bus.master import BusMaster

            master = BusMaster(transport, _addresses(args.poll), lambda ev: print(ev.describe(), flush=True))
            while time.monotonic() < end:
                master.cycle()
            return 0
        while time.monotonic() < end:
            for f in dec.feed(transport.read(0.2)):
                text = _describe(f)
                if text:
                    print(text, flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        print(t("keypads.listen.summary", crc=dec.crc_errors), flush=True)
        transport.close()
    return 0
