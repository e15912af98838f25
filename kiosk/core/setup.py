"""Builds a KioskCore from the environment and hall.yaml (no Kivy here)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path

from kiosk.core.api import ApiClient
from kiosk.core.catalogue import Catalogue
from kiosk.core.kiosk import Devices, KioskCore, Timing
from kiosk.core.runtime import Post
from kiosk.core.voice import Voice
from yizhan.clock import Clock, clock_from_env
from yizhan.config import load_config
from yizhan.config.model import HallConfig, KioskConfig
from yizhan.settings import Settings, load_settings, read_secret

logger = logging.getLogger(__name__)


@dataclass
class KioskEnv:
    settings: Settings
    config: HallConfig
    kiosk: KioskConfig
    clock: Clock
    id_hash_key: bytes


def load_env(environ: dict[str, str] | None = None) -> KioskEnv:
    """Raises yizhan.config.ConfigError (listing every problem) on a bad hall.yaml."""
    env = os.environ if environ is None else environ
    settings = load_settings(env)
    if not settings.token:
        # systemd: LoadCredential=yizhan_token:… (never in the unit file or hall.yaml)
        cred = Path(env.get("CREDENTIALS_DIRECTORY", "")) / "yizhan_token"
        if env.get("CREDENTIALS_DIRECTORY") and cred.is_file():
            settings = replace(settings, token=cred.read_text().strip() or None)
    config = load_config(settings.config_dir)
    kiosk_id = env.get("YIZHAN_KIOSK_ID") or (config.kiosks[0].id if config.kiosks else "kiosk-1")
    catalogue = Catalogue(config)
    return KioskEnv(
        settings=settings,
        config=config,
        kiosk=catalogue.kiosk(kiosk_id),
        clock=clock_from_env(config.hall.timezone, env),
        # The same key on every kiosk and the server's appointment book, so limits and look-ups match.
        id_hash_key=read_secret("id_hash_key", settings.state_dir, env),
    )


def build_devices(kiosk: KioskConfig, simulate: bool) -> Devices:
    """The kiosk's devices from its configuration (`--simulate`: the simulators that speak the
    hardware's bytes). A device that cannot be set up is left out — the kiosk works without it
    and tells the citizen what to do — never a crash."""
    return Devices(reader=_reader(kiosk, simulate), printer=_printer(kiosk, simulate), camera=_camera(kiosk, simulate))


def _camera(kiosk: KioskConfig, simulate: bool):  # -> FrameSource | None
    cc = kiosk.camera
    try:
        from kiosk.devices.camera import open_source

        if simulate:
            return open_source("simulator")
        if cc is None:
            return None
        return open_source(cc.source, cc.width, cc.height)
    except Exception:  # no camera or no driver: the scan screen sends the citizen to the service desk
        logger.exception("document camera %s not available", cc.source if cc else "simulator")
        return None


def _reader(kiosk: KioskConfig, simulate: bool):  # -> CardReader | None
    from kiosk.devices import factory

    try:
        if simulate:
            from kiosk.devices.idcard.sam_reader import SimulatedCardReader

            return SimulatedCardReader()
        if not kiosk.card_readers:
            return None
        return factory.build_kiosk_reader(kiosk)
    except Exception:  # a missing driver or library: run without a reader, loudly
        logger.exception("card reader not available; the kiosk runs without one")
        return None


def _printer(kiosk: KioskConfig, simulate: bool):  # -> TicketPrinter | None
    from kiosk.devices import factory
    from kiosk.devices.printer.printer import EscposTicketPrinter

    pc = kiosk.printer
    try:
        if simulate or pc.address == "simulator":
            from kiosk.devices.printer.simulator import PrinterModel, SimulatedTransport

            model = PrinterModel(encoding=pc.encoding)
            printer = EscposTicketPrinter(
                "simulator", paper_mm=pc.paper_mm, encoding=pc.encoding, native_qr=pc.native_qr,
                status_timeout=pc.status_timeout_s, print_timeout=pc.print_timeout_s,
                transport=SimulatedTransport(model),
            )
            printer.model = model  # the tour and tests play the operator (paper out, cover open)
            return printer
        return factory.build_printer(pc)
    except Exception:
        logger.exception("ticket printer %s not available; numbers are shown on screen only", pc.address)
        return None


def build_core(
    kenv: KioskEnv,
    devices: Devices,
    post: Post,
    *,
    simulate: bool = False,
    voice: Voice | None = None,
    background: bool = True,
) -> KioskCore:
    s = kenv.settings
    if not s.token:
        logger.warning("YIZHAN_TOKEN is not set: the server will refuse this kiosk (yizhan token --role kiosk --device %s)", kenv.kiosk.id)
    if voice is None:
        mode = os.environ.get("YIZHAN_KIOSK_VOICE") or ("wav" if simulate else "play")
        voice = Voice(mode, out_dir=s.state_dir / "kiosk-voice")
    return KioskCore(
        catalogue=Catalogue(kenv.config),
        api=ApiClient(s.server_url, s.token),
        devices=devices,
        clock=kenv.clock,
        post=post,
        kiosk_id=kenv.kiosk.id,
        id_hash_key=kenv.id_hash_key,
        timing=Timing(idle_s=kenv.kiosk.idle_timeout_s, elder_idle_s=kenv.kiosk.elder_idle_timeout_s),
        voice=voice,
        state_dir=Path(s.state_dir),
        background=background,
    )
