"""What each screen shows, as plain data. The UI draws these; the core changes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Screen(str, Enum):
    HOME = "home"
    SERVICES = "services"
    CARD = "card"
    ISSUING = "issuing"
    TICKET = "ticket"
    REFUSAL = "refusal"
    GUIDE = "guide"
    PROGRESS = "progress"
    SCAN = "scan"
    MESSAGE = "message"


class Purpose(str, Enum):
    TAKE = "take"  # take a number
    GUIDE = "guide"  # read the one-time notice
    CHECKIN = "checkin"  # appointment check-in
    PROGRESS = "progress"  # case look-up


@dataclass
class ServicesView:
    purpose: Purpose
    tile: str | None = None  # None = the common services (or all of them)
    all: bool = False
    page: int = 0


@dataclass
class CardView:
    purpose: Purpose
    service: str | None = None
    can_skip: bool = False
    problem_key: str = ""  # a card problem to show ("请重新放置")
    reader_down: bool = False  # reader unplugged / absent


@dataclass
class IssuingView:
    purpose: Purpose
    service: str | None
    phase: str = "issuing"  # issuing | retrying | printing
    attempts: int = 0


@dataclass
class TicketView:
    number: str
    service: str
    service_name: str
    queue_name: str
    windows: list[str]
    ahead: int
    estimated_wait_s: int
    qr_url: str
    printed: bool
    print_error_key: str = ""
    masked_name: str = ""
    checked_in: bool = False
    ticket_id: int | None = None


@dataclass
class RefusalView:
    code: str
    message: str  # the server's own Chinese message
    service: str | None = None


@dataclass
class GuideView:
    service: str
    print_state: str = ""  # "" | printing | printed | failed
    print_error_key: str = ""


@dataclass
class CaseRow:
    case_number: str
    service_name: str
    status: str
    accepted_at: str = ""
    deadline: str = ""
    masked_name: str = ""
    overdue: bool = False


@dataclass
class ProgressView:
    phase: str = "choose"  # choose | keypad | searching | results
    digits: str = ""
    rows: list[CaseRow] = field(default_factory=list)
    searched_by: str = ""  # card | number
    problem_key: str = ""


@dataclass
class ScanView:
    camera_ok: bool
    phase: str = "live"  # live | capturing | sending | sent
    pages: int = 0
    version: int = 0  # bumped whenever the pages change (the UI rebuilds thumbnails)
    retake: int | None = None  # the page the next capture replaces
    ticket_id: int | None = None  # the ticket the pages go to (None: take a number first)
    ticket_number: str = ""
    problem_key: str = ""
    keep_days: int = 30  # the server deletes the scans this many days after upload (told to the citizen)


@dataclass
class MessageView:
    title_key: str
    body_key: str
    params: dict = field(default_factory=dict)
    action: str = ""  # an extra button: "take" offers to take a number instead
