"""What the kiosk asks of its devices: one interface per device kind, one error hierarchy.

Backends (real and simulated) live in sibling packages and are chosen by their
configured `type` or address. Device threads never touch the UI.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum

from yizhan.privacy import id_hash, mask_id, mask_name


# ---- errors -------------------------------------------------------------------------------
class DeviceError(Exception):
    """Base of every device failure. `message_key` names the citizen-facing text in the catalogue."""

    message_key = "device.error"
    retryable = True  # False: needs an operator (paper out, cover open)


class DeviceUnavailable(DeviceError):
    message_key = "device.unavailable"


class DeviceTimeout(DeviceError):
    message_key = "device.timeout"


class ProtocolError(DeviceError):
    message_key = "device.protocol"


class CardError(DeviceError):
    message_key = "card.error"


class NoCard(CardError):
    message_key = "card.none"


class CardRemoved(CardError):
    message_key = "card.removed"


class UnsupportedCard(CardError):
    message_key = "card.unsupported"
    retryable = False


class InvalidIdNumber(CardError):
    message_key = "card.invalid_id"
    retryable = False


class CardAuthFailed(CardError):
    """The SAM and the card did not authenticate each other (SW3 31/32/33): worn or counterfeit card."""

    message_key = "card.auth_failed"


class SamFault(DeviceUnavailable):
    """The ID-card security module failed its self-test or is not authorised: needs an operator."""

    message_key = "card.sam_fault"
    retryable = False


class PrinterError(DeviceError):
    message_key = "printer.error"


class PaperOut(PrinterError):
    message_key = "printer.paper_out"
    retryable = False


class CoverOpen(PrinterError):
    message_key = "printer.cover_open"
    retryable = False


class PrinterOffline(PrinterError):
    message_key = "printer.offline"


class PrinterNoAnswer(PrinterOffline):
    """The printer took the bytes but never answered a status query: the ticket may not have come out."""

    message_key = "printer.no_answer"


# ---- state --------------------------------------------------------------------------------
class DeviceState(str, Enum):
    DISCONNECTED = "disconnected"
    READY = "ready"
    BUSY = "busy"
    ERROR = "error"


# ---- identity ------------------------------------------------------------------------------
class CardType(str, Enum):
    RESIDENT = "resident"  # 居民身份证
    HK_MACAU_TAIWAN = "hk_macau_taiwan"  # 港澳台居民居住证
    FOREIGN_PERMANENT = "foreign_permanent"  # 外国人永久居留身份证
    SOCIAL_SECURITY = "social_security"  # 社保卡


@dataclass(frozen=True)
class Identity:
    """A person read from a card. Its printable forms are masked; the full values never leave the kiosk."""

    card_type: CardType
    name: str = field(repr=False)
    id_number: str = field(repr=False)
    sex: str = ""  # 男 / 女
    birth_date: date | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    card_number: str = field(default="", repr=False)  # social security card number
    nationality: str = ""  # ISO 3166 alpha-3, foreign permanent residence cards only
    card_uid: str = ""  # opaque chip serial (hex) when the reader gives one; not personal data

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    @property
    def masked_id(self) -> str:
        return mask_id(self.id_number)

    def age_on(self, day: date) -> int | None:
        if self.birth_date is None:
            return None
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))

    def hashed_id(self, key: bytes) -> str:
        return id_hash(self.id_number, key)

    def __str__(self) -> str:
        return f"{self.card_type.value} {self.masked_name} {self.masked_id}"


# ---- interfaces ----------------------------------------------------------------------------
class CardReader(ABC):
    @abstractmethod
    def read(self, timeout: float) -> Identity:
        """Waits up to `timeout` seconds for a card and reads it; raises a CardError."""

    @property
    @abstractmethod
    def state(self) -> DeviceState: ...

    def close(self) -> None:
        """Releases the port or context."""


class PaperLevel(str, Enum):
    OK = "ok"
    LOW = "low"
    OUT = "out"


@dataclass(frozen=True)
class PrinterStatus:
    online: bool
    paper: PaperLevel = PaperLevel.OK
    cover_open: bool = False
    error: str = ""

    @property
    def can_print(self) -> bool:
        return self.online and self.paper is not PaperLevel.OUT and not self.cover_open


@dataclass(frozen=True)
class TicketPrint:
    """Everything printed on a ticket; no full name or ID number ever."""

    hall_name: str
    number: str
    service_name: str
    queue_name: str
    windows: list[str]
    ahead: int
    estimated_wait_s: int
    issued_at: datetime
    qr_url: str
    notice: str = ""
    masked_name: str = ""


@dataclass(frozen=True)
class GuidePrint:
    """一次性告知 sheet for one service."""

    hall_name: str
    service_name: str
    service_code: str
    service_class: str
    promised_days: int
    materials: list[str]
    fees: str
    online: bool
    printed_at: datetime


class TicketPrinter(ABC):
    @abstractmethod
    def status(self) -> PrinterStatus:
        """Asks the printer (DLE EOT) with a timeout; no answer is offline, never "paper OK"."""

    @abstractmethod
    def print_ticket(self, ticket: TicketPrint) -> None:
        """Prints and cuts; raises a PrinterError when the ticket did not come out."""

    @abstractmethod
    def print_guide(self, guide: GuidePrint) -> None: ...

    @abstractmethod
    def reprint_last(self) -> None: ...

    def close(self) -> None:
        """Releases the port."""
