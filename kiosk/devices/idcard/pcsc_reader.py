"""PC/SC card reader through pyscard: the social security card, card UIDs, hot-plug.

pyscard's ReaderMonitor and CardMonitor report readers and cards coming and going. Readers that vanish
(unplugged, pcscd restarted) are logged once; when they come back the card monitor is restarted if it
died with the service, so the kiosk keeps reading without a restart.
"""

from __future__ import annotations

import logging
import threading
import time

from smartcard.CardMonitoring import CardMonitor, CardMonitoringThread, CardObserver
from smartcard.Exceptions import CardConnectionException, NoCardException, SmartcardException
from smartcard.ReaderMonitoring import ReaderMonitor, ReaderObserver

from kiosk.devices.base import (
    CardReader,
    CardRemoved,
    DeviceState,
    DeviceUnavailable,
    Identity,
    NoCard,
    UnsupportedCard,
)
from kiosk.devices.idcard import social_security as ss

logger = logging.getLogger(__name__)


class IdCardNeedsSam(UnsupportedCard):
    """A resident ID card on a plain contactless reader: its data can only be read through a SAM module."""

    message_key = "card.id_on_pcsc"


def reader_names() -> list[str]:
    """Names of the PC/SC readers; [] when there are none or pcscd is not running."""
    from smartcard.System import readers

    try:
        return [str(r) for r in readers()]
    except Exception:  # pyscard raises different errors per platform when the service is gone
        return []


def _reader_objects() -> list:
    from smartcard.System import readers

    try:
        return list(readers())
    except Exception:
        return []


def _release(conn) -> None:
    """Disconnects and releases a pyscard connection now; a context left for the garbage collector raises
    from __del__ once pcscd has restarted."""
    try:
        conn.disconnect()
    except Exception:
        pass
    try:
        conn.release()
    except Exception:
        pass
    conn.hcontext = None


def service_available() -> bool:
    """True when pcscd answers (a PC/SC context can be established)."""
    from smartcard import scard

    hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hr != scard.SCARD_S_SUCCESS:
        return False
    scard.SCardReleaseContext(ctx)
    return True


def _present_cards() -> list[tuple[str, bytes]]:
    """(reader, ATR) of every card pcscd sees right now."""
    from smartcard import scard

    hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hr != scard.SCARD_S_SUCCESS:
        return []
    try:
        hr, names = scard.SCardListReaders(ctx, [])
        if hr != scard.SCARD_S_SUCCESS or not names:
            return []
        hr, states = scard.SCardGetStatusChange(ctx, 0, [(n, scard.SCARD_STATE_UNAWARE) for n in names])
        if hr != scard.SCARD_S_SUCCESS:
            return []
        return [(name, bytes(atr)) for name, state, atr in states if state & scard.SCARD_STATE_PRESENT]
    finally:
        scard.SCardReleaseContext(ctx)


def _card_monitor_alive() -> bool:
    inst = CardMonitoringThread.instance
    return inst is not None and inst.is_alive()


class _Hub(ReaderObserver, CardObserver):
    """One ReaderMonitor and one CardMonitor per process (pyscard keeps them as singletons whose constructor
    resets the observer list), fanned out to every PcscCardReader."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._monitor_lock = threading.Lock()  # the reader-monitor thread and register() both start it
        self.clients: list["PcscCardReader"] = []
        self.reader_monitor: ReaderMonitor | None = None
        self.card_monitor: CardMonitor | None = None

    def register(self, client: "PcscCardReader") -> None:
        with self._lock:
            self.clients.append(client)
            if self.reader_monitor is None:
                self.reader_monitor = ReaderMonitor(readerProc=self._poll, period=0.5)
                self.reader_monitor.addObserver(self)
                if service_available():
                    self._ensure_card_monitor()
            else:
                client._sync_readers(set(reader_names()))
                # ask pcscd rather than the monitor's list, which may still hold a card that just left
                client._cards_changed(_present_cards(), [])

    def unregister(self, client: "PcscCardReader") -> None:
        with self._lock:
            if client in self.clients:
                self.clients.remove(client)
            if self.clients or self.reader_monitor is None:
                return
            rm, cm = self.reader_monitor, self.card_monitor
            self.reader_monitor = self.card_monitor = None
        rm.deleteObserver(self)
        if cm is not None:
            cm.deleteObserver(self)  # pyscard keeps its card thread for the life of the process

    def _poll(self) -> list:
        """The ReaderMonitor's reader procedure. Every poll also hands each client the full list, so a client
        never misses a change that happened before the monitor's first poll."""
        objects = _reader_objects()
        names = {str(r) for r in objects}
        for client in list(self.clients):
            client._sync_readers(names)
        if names and self.reader_monitor is not None:
            self._ensure_card_monitor()
        return objects

    def _ensure_card_monitor(self) -> None:
        """Starts pyscard's card monitor once the service is there; pyscard stops it for good when pcscd goes
        away, so a dead one is replaced."""
        with self._monitor_lock:
            self._start_card_monitor()

    def _start_card_monitor(self) -> None:
        if self.card_monitor is None:
            self.card_monitor = CardMonitor()
            self.card_monitor.addObserver(self)
        if not _card_monitor_alive():
            logger.info("starting the PC/SC card monitor")
            with CardMonitoringThread.lock:
                dead = CardMonitoringThread.instance
                request = getattr(dead, "cardrequest", None) if dead is not None else None
                if request is not None:
                    request.pcsccardrequest.hcontext = None  # belongs to the pcscd that went away: never release it
                CardMonitoringThread.instance = None
            self.card_monitor.instance.rmthread = CardMonitoringThread(self.card_monitor.instance)

    def update(self, observable, handlers) -> None:  # pyscard's threads
        added, removed = handlers
        if isinstance(observable, ReaderMonitor):
            pass  # _poll already told the clients
        else:
            a2 = [(str(c.reader), bytes(c.atr)) for c in added]
            r2 = [(str(c.reader), bytes(c.atr)) for c in removed]
            for client in list(self.clients):
                client._cards_changed(a2, r2)


class PcscCardReader(CardReader):
    def __init__(self, reader: str = "") -> None:
        self.reader = reader
        self._cond = threading.Condition()
        self._readers: set[str] = set()
        self._cards: dict[str, tuple[bytes, int]] = {}  # reader → (ATR, insertion number)
        self._done: set[int] = set()  # insertions already read: a card is read once per placing
        self._seq = 0
        self._lost = False
        self._busy = False
        self._closed = False
        self.last_uid = ""
        self.last_atr = ""
        self._readers.update(n for n in reader_names() if self._matches(n))
        _HUB.register(self)

    def _matches(self, name: str) -> bool:
        return not self.reader or self.reader.lower() in name.lower()

    # -- monitor callbacks ----------------------------------------------------------------------
    def _readers_changed(self, added: list[str], removed: list[str]) -> None:
        with self._cond:
            had = bool(self._readers)
            for name in removed:
                self._readers.discard(name)
                self._cards.pop(name, None)
            self._readers.update(n for n in added if self._matches(n))
            now = bool(self._readers)
            if had and not now and not self._lost:
                logger.warning("PC/SC reader %s lost", self.reader or "(any)")
                self._lost = True
            if now and self._lost:
                logger.info("PC/SC reader %s is back: %s", self.reader or "(any)", sorted(self._readers))
                self._lost = False
            self._cond.notify_all()

    def _sync_readers(self, names: set[str]) -> None:
        mine = {n for n in names if self._matches(n)}
        with self._cond:
            current = set(self._readers)
        if mine != current:
            self._readers_changed(sorted(mine - current), sorted(current - mine))

    def _cards_changed(self, added: list[tuple[str, bytes]], removed: list[tuple[str, bytes]]) -> None:
        with self._cond:
            for reader, _ in removed:
                self._cards.pop(reader, None)
            for reader, atr in added:
                if self._matches(reader):
                    if reader in self._cards and self._cards[reader][0] == atr and (reader, atr) not in removed:
                        continue  # already known from the start-up scan
                    self._seq += 1
                    self._cards[reader] = (atr, self._seq)
                    self._readers.add(reader)
            self._cond.notify_all()

    # -- CardReader -----------------------------------------------------------------------------
    @property
    def state(self) -> DeviceState:
        if self._busy:
            return DeviceState.BUSY
        return DeviceState.READY if self._readers else DeviceState.DISCONNECTED

    def readers(self) -> list[str]:
        with self._cond:
            return sorted(self._readers)

    def _waiting_card(self) -> tuple[str, bytes, int] | None:
        for reader, (atr, seq) in sorted(self._cards.items()):
            if seq not in self._done:
                return reader, atr, seq
        return None

    def read(self, timeout: float) -> Identity:
        deadline = time.monotonic() + max(0.0, timeout)
        with self._cond:
            while True:
                found = self._waiting_card()
                if found is not None:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    if not self._readers:
                        raise DeviceUnavailable(f"no PC/SC reader {self.reader!r}")
                    raise NoCard("no card on the PC/SC reader")
                self._cond.wait(left)
            reader, atr, seq = found
            self._busy = True
        try:
            identity = self._read_card(reader, atr)
            with self._cond:
                self._done.add(seq)
            return identity
        except UnsupportedCard:
            with self._cond:
                self._done.add(seq)
            raise
        finally:
            self._busy = False

    def _read_card(self, reader_name: str, atr: bytes) -> Identity:
        reader = next((r for r in _reader_objects() if str(r) == reader_name), None)
        if reader is None:
            raise CardRemoved(f"reader {reader_name} went away")
        conn = reader.createConnection()
        # pcscd announces a card before it has powered it; give it a moment while the card is still there
        deadline = time.monotonic() + 1.5
        while True:
            try:
                conn.connect()
                break
            except (NoCardException, CardConnectionException) as exc:
                with self._cond:
                    still_there = reader_name in self._cards
                if not still_there or time.monotonic() > deadline:
                    raise CardRemoved(f"card left {reader_name}: {exc}") from exc
                time.sleep(0.05)

        def transmit(apdu: bytes) -> tuple[bytes, int, int]:
            try:
                data, sw1, sw2 = conn.transmit(list(apdu))
            except (CardConnectionException, SmartcardException) as exc:
                raise CardRemoved(f"card left {reader_name} during the read: {exc}") from exc
            return bytes(data), sw1, sw2

        try:
            self.last_atr = atr.hex().upper()
            uid, sw1, sw2 = transmit(ss.GET_DATA_UID)
            self.last_uid = uid.hex().upper() if ss.ok(sw1, sw2) else ""
            if ss.select_application(transmit):
                identity = ss.read_identity(transmit)
                from dataclasses import replace

                return replace(identity, card_uid=self.last_uid)
            serial, sw1, sw2 = transmit(ss.ID_CARD_UID)
            if ss.ok(sw1, sw2) and len(serial) == 8:
                self.last_uid = serial.hex().upper()
                exc = IdCardNeedsSam("resident ID card on a PC/SC reader: no SAM to read its data")
            else:
                exc = UnsupportedCard(f"card with ATR {self.last_atr} is not a social security card")
            exc.atr, exc.card_uid = self.last_atr, self.last_uid  # type: ignore[attr-defined]
            raise exc
        finally:
            _release(conn)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            _HUB.unregister(self)


_HUB = _Hub()
