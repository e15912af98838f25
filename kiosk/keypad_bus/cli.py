"""`yizhan keypads [--simulate] [--bus ID]`: the RS-485 bus master of one keypad bus.

Needs YIZHAN_SERVER_URL and a `device` token (YIZHAN_TOKEN or the systemd
credential `token`) whose device id is the bus id: `yizhan token --role device --device BUS`.
With --simulate (or port `simulator`) the bus is a simulated one on a pty pair.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from kiosk.keypad_bus.bridge import ServerApi, WindowBridge
from kiosk.keypad_bus.master import BusMaster
from kiosk.keypad_bus.protocol import Kind
from kiosk.keypad_bus.simulator import BusSimulator, SimulatedClerks
from kiosk.keypad_bus.transport import SerialTransport
from yizhan.signals import StopSignals
from yizhan.config.loader import ConfigError, load_config
from yizhan.i18n import t
from yizhan.settings import load_settings

logger = logging.getLogger(__name__)


def _token(environ: dict[str, str]) -> str | None:
    if environ.get("YIZHAN_TOKEN"):
        return environ["YIZHAN_TOKEN"]
    cred = environ.get("CREDENTIALS_DIRECTORY")
    if cred and (Path(cred) / "token").is_file():
        return (Path(cred) / "token").read_text().strip()
    return None


def pty_pair(folder: Path) -> tuple[subprocess.Popen, str, str]:
    """Two linked serial ports (socat), the bus's wire for a simulated hall."""
    folder.mkdir(parents=True, exist_ok=True)
    a, b = folder / "bus-master", folder / "bus-devices"
    for p in (a, b):
        p.unlink(missing_ok=True)
    proc = subprocess.Popen([shutil.which("socat") or "socat", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 5
    while not (a.exists() and b.exists()):
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError("socat did not create the pty pair")
        time.sleep(0.01)
    return proc, str(a), str(b)


def main(argv: list[str]) -> int:
    from yizhan.cli import setup_logging

    ap = argparse.ArgumentParser(prog="yizhan keypads", description=t("keypads.cli.description"))
    ap.add_argument("--simulate", action="store_true", help=t("keypads.cli.simulate_help"))
    ap.add_argument("--bus", help=t("keypads.cli.bus_help"))
    ap.add_argument("--clerks", type=float, default=0, metavar="S", help=t("keypads.cli.clerks_help"))
    args = ap.parse_args(argv)
    setup_logging()
    settings = load_settings()
    try:
        cfg = load_config(settings.config_dir)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    buses = [b for b in cfg.keypad_buses if args.bus in (None, b.id)]
    if not buses:
        print(t("keypads.cli.no_bus", bus=args.bus or ""), file=sys.stderr)
        return 1
    bus = buses[0]
    token = _token(dict(os.environ))
    if not token:
        print(t("keypads.cli.no_token", bus=bus.id), file=sys.stderr)
        return 1
    devices: dict[int, Kind] = {}
    for w in bus.windows.values():
        if w.keypad:
            devices[w.keypad] = Kind.KEYPAD
        if w.caller:
            devices[w.caller] = Kind.CALLER
    simulate = args.simulate or bus.port == "simulator"
    socat = sim = clerks = None
    port = bus.port
    if simulate:
        socat, port, dev_port = pty_pair(settings.state_dir / "keypads")
        windows = {k: (w.keypad, w.caller) for k, w in bus.windows.items()}
        sim = BusSimulator.for_windows(dev_port, windows, bus.baudrate).start()
        if args.clerks > 0:
            clerks = SimulatedClerks(sim, windows, args.clerks).start()
        logger.info(t("keypads.log.simulated", n=len(devices), port=port))
    api = ServerApi(settings.server_url, token)
    master = BusMaster(SerialTransport(port, bus.baudrate, pace=simulate), devices, lambda ev: bridge.on_event(ev),
                       on_health=lambda d: bridge.on_health(d))
    bridge = WindowBridge(bus, api, master)
    messenger = None
    try:
        from yizhan.messaging import topics
        from yizhan.messaging.factory import build_messenger

        messenger = build_messenger(settings, client_id=f"yizhan-keypads-{bus.id}")

        def on_state(msg) -> None:  # type: ignore[no-untyped-def]
            try:
                bridge.on_window_state(json.loads(msg.payload))
            except ValueError:
                pass

        messenger.subscribe(topics.all_windows(cfg.hall.id), on_state)
        messenger.start()
    except Exception as exc:  # the keys still work without MQTT; console-made changes then do not light keypads
        logger.warning(t("keypads.log.no_mqtt", detail=str(exc)))
        messenger = None
    stop = StopSignals((signal.SIGTERM,))  # Ctrl-C stays a KeyboardInterrupt
    bridge.start()
    bridge.on_health()
    master.start()
    logger.info(t("keypads.log.started", bus=bus.id, port=port, baud=bus.baudrate, n=len(devices)))
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        master.stop()
        bridge.stop()
        api.close()
        if messenger is not None:
            messenger.stop()
        if clerks is not None:
            clerks.stop()
        if sim is not None:
            sim.stop()
        if socat is not None:
            socat.terminate()
            socat.wait(timeout=5)
    return 0
