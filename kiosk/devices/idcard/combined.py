"""Several card readers as one: a kiosk often has the SAM module (ID cards) and a PC/SC slot (社保卡)."""

from __future__ import annotations

import time

from kiosk.devices.base import CardReader, DeviceState, DeviceUnavailable, Identity, NoCard


class CombinedCardReader(CardReader):
    """Asks each reader in turn for a short slice until one has a card; a reader that is unavailable is
    skipped (the others keep working); only when every reader is unavailable is that the answer."""

    def __init__(self, readers: list[CardReader], slice_s: float = 0.15) -> None:
        if not readers:
            raise ValueError("no card readers")
        self.readers = readers
        self.slice_s = slice_s

    @property
    def state(self) -> DeviceState:
        states = [r.state for r in self.readers]
        for s in (DeviceState.BUSY, DeviceState.READY, DeviceState.ERROR):
            if s in states:
                return s
        return DeviceState.DISCONNECTED

    def read(self, timeout: float) -> Identity:
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            unavailable: list[DeviceUnavailable] = []
            for reader in self.readers:
                left = deadline - time.monotonic()
                try:
                    return reader.read(max(0.0, min(self.slice_s, left)))
                except NoCard:
                    continue
                except DeviceUnavailable as exc:
                    unavailable.append(exc)
            if len(unavailable) == len(self.readers):
                raise unavailable[0]
            if time.monotonic() >= deadline:
                raise NoCard("no card on any reader")

    def close(self) -> None:
        for reader in self.readers:
            reader.close()
