"""The kiosk's behaviour without any Kivy: navigation, the take-a-number flow, the guide,
appointment check-in, case look-up, idle timeout, offline retries and device faults.

Everything here runs on one thread (the UI thread in the app); blocking work goes through
`Worker`, and results that arrive after the citizen has left (idle reset, cancel) are
dropped by comparing a generation number.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable

from kiosk.core.api import ApiClient, NotAuthorised, Refused, ServerUnreachable
from kiosk.core.catalogue import Catalogue, LiveQueues
from kiosk.core.health import HealthBook, Part, printer_part, reader_part
from kiosk.core.runtime import Post, Timers, Worker
from kiosk.core.scan import CameraFeed, make_page
from kiosk.core.views import (
    CardView,
    CaseRow,
    GuideView,
    IssuingView,
    MessageView,
    ProgressView,
    Purpose,
    RefusalView,
    ScanView,
    Screen,
    ServicesView,
    TicketView,
)
from kiosk.core.voice import Voice
from kiosk.devices.base import (
    CardError,
    CardReader,
    DeviceError,
    DeviceTimeout,
    GuidePrint,
    Identity,
    NoCard,
    PrinterError,
    TicketPrint,
    TicketPrinter,
)
from kiosk.devices.camera.document import Document
from kiosk.devices.camera.upload import UploadError
from yizhan.clock import Clock
from yizhan.config.model import RealName
from yizhan.i18n import t

logger = logging.getLogger(__name__)

CARD_POLL_S = 1.0  # one reader.read() call; the loop goes on while the card screen is up
READER_RETRY_S = 3.0  # after the reader failed, try it again this often
RETRY_BACKOFF_S = (1.0, 2.0, 3.0, 5.0)  # then every 5 s until the server answers
HEALTH_EVERY_S = 15.0
QUEUES_EVERY_S = 15.0
MESSAGE_RETURN_S = 8.0


@dataclass
class Timing:
    idle_s: float = 60.0
    elder_idle_s: float = 120.0
    confirm_s: float = 20.0  # confirmation screen returns home by itself
    elder_confirm_s: float = 40.0


@dataclass
class Devices:
    reader: CardReader | None = None
    printer: TicketPrinter | None = None
    camera: Any = None  # document camera: a kiosk.devices.camera.FrameSource


@dataclass
class _Attempt:
    """One citizen's request in flight: the idempotency key is made once and reused by every retry."""

    purpose: Purpose
    service: str | None
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    identity: dict | None = None  # the masked identity object sent to the server, never the card data
    masked_name: str = ""
    attempts: int = 0


class KioskCore:
    def __init__(
        self,
        *,
        catalogue: Catalogue,
        api: ApiClient,
        devices: Devices,
        clock: Clock,
        post: Post,
        kiosk_id: str,
        id_hash_key: bytes,
        timing: Timing | None = None,
        voice: Voice | None = None,
        state_dir: Path | None = None,
        worker: Worker | None = None,
        background: bool = True,
    ) -> None:
        self.catalogue = catalogue
        self.api = api
        self.devices = devices
        self.clock = clock
        self.kiosk_id = kiosk_id
        self._id_key = id_hash_key
        self.timing = timing or Timing()
        self.voice = voice or Voice("off")
        self.state_dir = state_dir
        self.worker = worker or Worker(post)
        self._post = post
        self.timers = Timers(clock)
        self.live = LiveQueues()
        self.health = HealthBook()
        self.background = background

        self.lang = "zh_CN"
        self.elder = False
        self.screen = Screen.HOME
        self.services_view: ServicesView | None = None
        self.card_view: CardView | None = None
        self.issuing_view: IssuingView | None = None
        self.ticket_view: TicketView | None = None
        self.refusal_view: RefusalView | None = None
        self.guide_view: GuideView | None = None
        self.progress_view: ProgressView | None = None
        self.scan_view: ScanView | None = None
        self.message_view: MessageView | None = None
        # Material scan: pages live only in memory until sent; the ticket taken in this visit.
        self.scan_doc = Document()
        self.scan_feed: CameraFeed | None = None
        self.session_ticket: tuple[int, str] | None = None

        self._gen = 0
        self._attempt: _Attempt | None = None
        self._last_activity = clock.now()
        self._return_timer = None
        self._retry_timer = None
        self._reports: list[Callable[[], None]] = []  # print-status reports waiting for the server
        self._listeners: list[Callable[[], None]] = []
        self._health_busy = False
        self.tickets_issued = 0

    # ---- plumbing -------------------------------------------------------------------------
    def subscribe(self, fn: Callable[[], None]) -> None:
        self._listeners.append(fn)

    def _changed(self) -> None:
        for fn in list(self._listeners):
            fn()

    def tr(self, key: str, **params: object) -> str:
        return t(key, self.lang, **params)

    def start(self) -> None:
        """First health check and queue figures; then every few seconds (when `background`)."""
        self.check_health()
        self.refresh_queues()

    def tick(self) -> None:
        """Called a few times a second on the UI thread: timers, idle timeout."""
        self.timers.fire_due()
        if self.screen is not Screen.HOME and self._busy_phase() is None:
            idle = (self.clock.now() - self._last_activity).total_seconds()
            if idle >= self.idle_timeout_s:
                logger.info("idle for %.0f s on %s: back to home, screen cleared", idle, self.screen.value)
                self.go_home()

    def _busy_phase(self) -> str | None:
        # A request and its print in flight finish first; a citizen idle during a retry is timed out.
        if self.screen is Screen.ISSUING and self.issuing_view and self.issuing_view.phase == "issuing":
            return "issuing"  # a request (and its print) in flight: wait for its answer
        if self.screen is Screen.SCAN and self.scan_view and self.scan_view.phase == "sending":
            return "sending"
        return None

    @property
    def idle_timeout_s(self) -> float:
        return self.timing.elder_idle_s if self.elder else self.timing.idle_s

    @property
    def confirm_timeout_s(self) -> float:
        return self.timing.elder_confirm_s if self.elder else self.timing.confirm_s

    def activity(self) -> None:
        """Any touch: the citizen is still there."""
        self._last_activity = self.clock.now()

    def seconds_to_home(self) -> int:
        if self.screen is Screen.TICKET or self.screen is Screen.MESSAGE:
            return int(round(self.timers.remaining(self._return_timer)))
        return 0

    def fail(self, exc: BaseException) -> None:
        """Any unexpected error: log it, clear the screen, apologise, go home by itself."""
        logger.error("unexpected error, back to home: %s", exc, exc_info=exc)
        try:
            self._reset()
            self._show_message(MessageView("kiosk.sorry.title", "kiosk.sorry.body"))
        except Exception:  # the apology itself failed: home is always safe
            logger.exception("could not show the apology")
            self.screen = Screen.HOME
            self._changed()

    def _guard(self, fn: Callable[..., None]) -> Callable[..., None]:
        def run(*a: Any) -> None:
            try:
                fn(*a)
            except Exception as exc:
                self.fail(exc)

        return run

    def _submit(self, work: Callable[[], Any], done: Callable[[Any, BaseException | None], None]) -> None:
        gen = self._gen

        def fresh(result: Any, error: BaseException | None) -> None:
            if gen == self._gen:
                done(result, error)

        self.worker.submit(work, self._guard(fresh))

    def _go(self, screen: Screen) -> None:
        self.screen = screen
        self.activity()
        self._changed()
        self._speak_for(screen)

    def _reset(self) -> None:
        self._gen += 1
        self._attempt = None
        Timers.cancel(self._return_timer)
        Timers.cancel(self._retry_timer)
        self._return_timer = self._retry_timer = None
        self.services_view = self.card_view = self.issuing_view = None
        self.ticket_view = self.refusal_view = self.guide_view = None
        self.progress_view = self.scan_view = self.message_view = None
        if self.scan_feed is not None:
            self.scan_feed.stop()
            self.scan_feed = None

    # ---- navigation --------------------------------------------------------------------------
    def go_home(self) -> None:
        """Clears every bit of the last citizen's data; language back to Chinese."""
        self._reset()
        self.scan_doc = Document()  # unsent pages of the last citizen are dropped, never kept
        self.session_ticket = None
        self.lang = "zh_CN"
        self._go(Screen.HOME)

    def set_elder(self, on: bool) -> None:
        self.elder = on
        self.activity()
        self._changed()
        if on:
            self.voice.say(self.tr("kiosk.voice.elder_on"))

    def set_lang(self, lang: str) -> None:
        self.lang = lang if lang in ("zh_CN", "en") else "zh_CN"
        self.activity()
        self._changed()

    def open_services(self, purpose: Purpose, tile: str | None = None) -> None:
        self._reset()
        self.services_view = ServicesView(purpose=purpose, tile=tile)
        self._go(Screen.SERVICES)

    def services_per_page(self) -> int:
        # 12 fit the first page of a real hall's common services (two touches from home);
        # elder mode shows fewer, larger buttons.
        return 4 if self.elder else 12

    def service_list(self) -> list[str]:
        v = self.services_view
        if v is None:
            return []
        if v.tile:
            items = self.catalogue.tile_services(v.tile)
        elif v.all or v.purpose is Purpose.GUIDE:
            items = self.catalogue.services()
        else:
            items = self.catalogue.common_services()
        return [s.code for s in items]

    def service_page(self) -> tuple[list[str], int, int]:
        """(codes on this page, page index, page count)."""
        codes = self.service_list()
        per = self.services_per_page()
        pages = max(1, -(-len(codes) // per))
        page = min(self.services_view.page if self.services_view else 0, pages - 1)
        return codes[page * per : (page + 1) * per], page, pages

    def turn_page(self, delta: int) -> None:
        if self.services_view is None:
            return
        _, page, pages = self.service_page()
        self.services_view.page = max(0, min(pages - 1, page + delta))
        self.activity()
        self._changed()

    def show_all_services(self) -> None:
        """From the common services of 取号 to every service of the hall."""
        if self.services_view is not None:
            self.services_view = ServicesView(purpose=self.services_view.purpose, tile=None, all=True)
            self.activity()
            self._changed()

    def choose_service(self, code: str) -> None:
        v = self.services_view
        if v is None or not self.catalogue.has_service(code):
            return
        if v.purpose is Purpose.GUIDE:
            self.open_guide(code)
        else:
            self.take_number(code)

    # ---- take a number -----------------------------------------------------------------------
    def take_number(self, code: str) -> None:
        self._gen += 1
        self._attempt = _Attempt(Purpose.TAKE, code)
        rule = self.catalogue.real_name(code)
        if rule is RealName.NONE:
            self._issue()
            return
        self._ask_card(Purpose.TAKE, code, can_skip=rule is RealName.OPTIONAL)

    def skip_card(self) -> None:
        if self.screen is not Screen.CARD or self.card_view is None or not self.card_view.can_skip:
            return
        self._gen += 1  # drops the read in progress
        self._issue()

    def _ask_card(self, purpose: Purpose, code: str | None, can_skip: bool) -> None:
        self.card_view = CardView(purpose=purpose, service=code, can_skip=can_skip)
        if self.devices.reader is None:
            self.card_view.reader_down = True
        self._go(Screen.CARD)
        if self.devices.reader is not None:
            self._read_card()

    def _read_card(self) -> None:
        reader = self.devices.reader
        if reader is None:
            return
        self._submit(lambda: reader.read(CARD_POLL_S), self._card_result)

    def _card_result(self, identity: Identity | None, error: BaseException | None) -> None:
        if self.screen is not Screen.CARD or self.card_view is None:
            return
        cv = self.card_view
        if error is None and identity is not None:
            self._card_read(identity)
            return
        if isinstance(error, (NoCard, DeviceTimeout)):
            self._read_card()  # nobody has put a card yet: keep waiting
            return
        if isinstance(error, CardError):
            cv.problem_key = error.message_key
            self._changed()
            if self.elder:
                self.voice.say(self.tr(error.message_key))
            self.timers.after(1.0, self._guard(self._reread))
            return
        if isinstance(error, DeviceError):
            if not cv.reader_down:
                logger.warning("card reader failed: %s", type(error).__name__)
            cv.reader_down = True
            self.health.set("card_reader", Part(False, error.message_key))
            self._report_health()
            self._changed()
            self.timers.after(READER_RETRY_S, self._guard(self._reread))
            return
        raise error  # a bug: fail() apologises and logs it

    def _reread(self) -> None:
        if self.screen is Screen.CARD and self.card_view is not None:
            self._read_card()

    def _card_read(self, identity: Identity) -> None:
        cv = self.card_view
        if cv is None:
            return
        if cv.reader_down:
            cv.reader_down = False
            self.health.set("card_reader", Part(True, "ok"))
            self._report_health()
        payload = self.identity_payload(identity)
        if cv.purpose is Purpose.PROGRESS:
            self._search_cases(by_card=payload["id_hash"])
            return
        if self._attempt is None:
            self._attempt = _Attempt(cv.purpose, cv.service)
        self._attempt.identity = payload
        self._attempt.masked_name = identity.masked_name
        self._issue()

    def identity_payload(self, identity: Identity) -> dict:
        """The identity object of the contracts: keyed hash and masked forms only."""
        body: dict[str, Any] = {
            "id_hash": identity.hashed_id(self._id_key),
            "masked_id": identity.masked_id,
            "masked_name": identity.masked_name,
            "card_type": identity.card_type.value,
        }
        age = identity.age_on(self.clock.now().date())
        if age is not None:
            body["age"] = age
        return body

    def _issue(self) -> None:
        a = self._attempt
        if a is None:
            return
        a.attempts += 1
        self.card_view = None
        self.issuing_view = IssuingView(purpose=a.purpose, service=a.service, phase="issuing" if a.attempts == 1 else "retrying", attempts=a.attempts - 1)
        if self.screen is not Screen.ISSUING:
            self._go(Screen.ISSUING)
        else:
            self._changed()
        printer = self.devices.printer

        def work() -> tuple[TicketView, BaseException | None]:
            if a.purpose is Purpose.CHECKIN:
                ticket = self.api.check_in(a.identity or {}, a.key)
            else:
                ticket = self.api.take_ticket(a.service or "", a.key, a.identity)
            # Printed on this worker thread straight away: the paper does not wait for a UI frame.
            view = self._ticket_view(a, ticket or {})
            if printer is None:
                return view, PrinterError("no printer")
            try:
                printer.print_ticket(self._ticket_print(view))
            except Exception as exc:  # judged on the UI thread with the rest
                return view, exc
            return view, None

        self._submit(work, self._issued)

    def _issued(self, result: tuple[TicketView, BaseException | None] | None, error: BaseException | None) -> None:
        a = self._attempt
        if a is None:
            return
        if isinstance(error, ServerUnreachable):
            self._server_state(False)
            delay = RETRY_BACKOFF_S[min(a.attempts - 1, len(RETRY_BACKOFF_S) - 1)]
            logger.info("ticket request not answered (attempt %d), retrying in %.0f s with the same key", a.attempts, delay)
            self.issuing_view = IssuingView(a.purpose, a.service, phase="retrying", attempts=a.attempts)
            self._changed()
            self._retry_timer = self.timers.after(delay, self._guard(self._retry))
            return
        if isinstance(error, NotAuthorised):
            logger.error("the server refused this kiosk's token (%s): set YIZHAN_TOKEN", error.code)
            self._show_message(MessageView("kiosk.unauthorised.title", "kiosk.unauthorised.body"))
            return
        if isinstance(error, Refused):
            self._server_state(True)
            if a.purpose is Purpose.CHECKIN and error.code == "no_appointment":
                self._show_message(MessageView("kiosk.checkin.none.title", "kiosk.checkin.none.body", action="take"))
                return
            self.refusal_view = RefusalView(code=error.code, message=error.message, service=a.service)
            self._attempt = None
            self._go(Screen.REFUSAL)
            return
        if error is not None:
            raise error
        self._server_state(True)
        view, print_error = result
        self.ticket_view = view
        self.tickets_issued += 1
        self._attempt = None  # issued: a new touch is a new request
        self._printed(view, print_error)

    def _retry(self) -> None:
        if self.screen is Screen.ISSUING and self._attempt is not None:
            self._issue()

    def cancel(self) -> None:
        """The citizen's 返回/取消 button anywhere: home, nothing kept."""
        self.go_home()

    def _ticket_view(self, a: _Attempt, ticket: dict) -> TicketView:
        """What the confirmation screen shows (and the ticket prints); safe on a worker thread."""
        code = str(ticket.get("service") or a.service or "")
        token = str(ticket.get("token", ""))
        windows = self.catalogue.windows_for_service(code) if self.catalogue.has_service(code) else []
        if isinstance(ticket.get("window_names"), list) and ticket["window_names"]:
            windows = [str(w) for w in ticket["window_names"]]
        qr_url = str(ticket.get("follow_url") or f"{self.catalogue.public_base(self.api.base_url)}/t/{token}")
        return TicketView(
            number=str(ticket.get("number", "")),
            service=code,
            service_name=self.catalogue.service_name(code, "zh_CN"),
            queue_name=self.catalogue.queue_name(str(ticket.get("queue", ""))),
            windows=windows,
            ahead=int(ticket.get("ahead") or 0),
            estimated_wait_s=int(ticket.get("estimated_wait_s") or 0),
            qr_url=qr_url,
            printed=False,
            masked_name=a.masked_name if self.catalogue.config.hall.print_masked_name else "",
            checked_in=a.purpose is Purpose.CHECKIN,
            ticket_id=ticket.get("id") if isinstance(ticket.get("id"), int) else None,
        )

    def _ticket_print(self, view: TicketView) -> TicketPrint:
        return TicketPrint(
            hall_name=self.catalogue.hall_name,
            number=view.number,
            service_name=view.service_name,
            queue_name=view.queue_name,
            windows=view.windows,
            ahead=view.ahead,
            estimated_wait_s=view.estimated_wait_s,
            issued_at=self.clock.now(),
            qr_url=view.qr_url,
            notice=self.catalogue.config.hall.notice,
            masked_name=view.masked_name,
        )

    def _printed(self, view: TicketView, error: BaseException | None) -> None:
        if error is not None and not isinstance(error, DeviceError):
            logger.error("printing raised %r; treating it as a failed print", error)
        if error is None:
            view.printed = True
            if not self.health.ok("printer"):
                self.health.set("printer", Part(True, "ok"))
                self._report_health()
        else:
            key = getattr(error, "message_key", "printer.error")
            if self.devices.printer is None:
                key = "printer.absent"
            view.print_error_key = key
            logger.warning("ticket %s shown on screen only: %s", view.number, key)
            self.health.set("printer", Part(False, key))
            self._report_health()
            if view.ticket_id is not None:
                self._report_print_failure(view.ticket_id, key)
        self._show_ticket(view)

    def _show_ticket(self, view: TicketView) -> None:
        self.issuing_view = None
        self.ticket_view = view
        if view.ticket_id is not None:
            self.session_ticket = (view.ticket_id, view.number)
        self._go(Screen.TICKET)
        self._return_timer = self.timers.after(self.confirm_timeout_s, self._guard(self.go_home))

    def _report_print_failure(self, ticket_id: int, key: str) -> None:
        text = t(key, "zh_CN")

        def send() -> None:
            self._submit(lambda: self.api.print_status(ticket_id, False, text), lambda _r, e: self._report_sent(send, e))

        send()

    def _report_sent(self, send: Callable[[], None], error: BaseException | None) -> None:
        if isinstance(error, ServerUnreachable):
            self._reports.append(send)  # sent again when the server is back
        elif error is not None:
            logger.warning("print-status report refused: %s", error)

    # ---- appointment check-in ----------------------------------------------------------------
    def start_checkin(self) -> None:
        self._reset()
        self._attempt = _Attempt(Purpose.CHECKIN, None)
        self._ask_card(Purpose.CHECKIN, None, can_skip=False)

    # ---- the guide (一次性告知) ----------------------------------------------------------------
    def open_guide(self, code: str) -> None:
        self._gen += 1
        self.guide_view = GuideView(service=code)
        self._go(Screen.GUIDE)

    def print_guide(self) -> None:
        gv = self.guide_view
        if gv is None or gv.print_state == "printing":
            return
        s = self.catalogue.service(gv.service)
        printer = self.devices.printer
        gv.print_state, gv.print_error_key = "printing", ""
        self.activity()
        self._changed()
        if printer is None:
            self._guide_printed(gv, PrinterError("no printer"))
            return
        job = GuidePrint(
            hall_name=self.catalogue.hall_name,
            service_name=s.name,
            service_code=s.code,
            service_class=s.service_class.value,
            promised_days=s.promised_days,
            materials=list(s.materials),
            fees=s.fees,
            online=s.online,
            printed_at=self.clock.now(),
        )
        self._submit(lambda: printer.print_guide(job), lambda _r, err: self._guide_printed(gv, err))

    def _guide_printed(self, gv: GuideView, error: BaseException | None) -> None:
        if error is None:
            gv.print_state = "printed"
        else:
            gv.print_state = "failed"
            gv.print_error_key = "printer.absent" if self.devices.printer is None else getattr(error, "message_key", "printer.error")
            self.health.set("printer", Part(False, gv.print_error_key))
            self._report_health()
        self._changed()

    def take_from_guide(self) -> None:
        if self.guide_view is not None:
            self.take_number(self.guide_view.service)

    def back_from_guide(self) -> None:
        tile = self.services_view.tile if self.services_view else None
        purpose = self.services_view.purpose if self.services_view else Purpose.GUIDE
        self.guide_view = None
        if self.services_view is None:
            self.services_view = ServicesView(purpose=purpose, tile=tile)
        self._go(Screen.SERVICES)

    # ---- progress look-up (进度查询) -----------------------------------------------------------
    def start_progress(self) -> None:
        self._reset()
        self.progress_view = ProgressView()
        self._go(Screen.PROGRESS)

    def progress_by_card(self) -> None:
        self._gen += 1
        self._ask_card(Purpose.PROGRESS, None, can_skip=False)

    def progress_by_number(self) -> None:
        self.progress_view = ProgressView(phase="keypad")
        self._go(Screen.PROGRESS)

    def key_press(self, key: str) -> None:
        pv = self.progress_view
        if pv is None or pv.phase != "keypad":
            return
        if key == "del":
            pv.digits = pv.digits[:-1]
        elif key == "clear":
            pv.digits = ""
        elif len(pv.digits) < 24 and (key.isdigit() or key in "-ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
            pv.digits += key
        pv.problem_key = ""
        self.activity()
        self._changed()

    def search_number(self) -> None:
        pv = self.progress_view
        if pv is None or pv.phase != "keypad":
            return
        if len(pv.digits) < 4:
            pv.problem_key = "kiosk.progress.too_short"
            self._changed()
            return
        self._search_cases(by_number=pv.digits)

    def _search_cases(self, by_card: str | None = None, by_number: str | None = None) -> None:
        self.card_view = None
        self.progress_view = ProgressView(phase="searching", digits=by_number or "", searched_by="card" if by_card else "number")
        self._go(Screen.PROGRESS)
        if by_card:
            work = lambda: self.api.cases(id_hash=by_card)  # noqa: E731
        else:
            work = lambda: self.api.cases(case_number=by_number)  # noqa: E731
        self._submit(work, self._cases_found)

    def _cases_found(self, rows: list[dict] | None, error: BaseException | None) -> None:
        pv = self.progress_view
        if pv is None:
            return
        if isinstance(error, ServerUnreachable):
            self._server_state(False)
            pv.phase, pv.problem_key = "results", "kiosk.progress.offline"
        elif isinstance(error, Refused):
            pv.phase, pv.problem_key = "results", "kiosk.progress.refused"
            logger.warning("case look-up refused: %s", error.code)
        elif error is not None:
            raise error
        else:
            self._server_state(True)
            pv.phase = "results"
            pv.rows = [self._case_row(r) for r in (rows or []) if isinstance(r, dict)]
        self._changed()

    def _case_row(self, r: dict) -> CaseRow:
        code = str(r.get("service") or "")
        name = str(r.get("service_name") or (self.catalogue.service_name(code) if code else ""))
        status = str(r.get("status") or "")
        deadline = str(r.get("deadline") or "")[:10]
        overdue = False
        if deadline and status not in ("done", "returned"):
            try:
                overdue = date.fromisoformat(deadline) < self.clock.now().date()
            except ValueError:
                pass
        return CaseRow(
            case_number=str(r.get("case_number") or ""),
            service_name=name,
            status="overdue" if overdue else status,
            accepted_at=str(r.get("accepted_at") or "")[:10],
            deadline=deadline,
            masked_name=str(r.get("masked_name") or ""),
            overdue=overdue,
        )

    # ---- material scan -------------------------------------------------------------------------
    def start_scan(self) -> None:
        self._reset()
        cam = self.devices.camera
        sv = ScanView(camera_ok=cam is not None, pages=len(self.scan_doc),
                      keep_days=self.catalogue.config.policy.document_retention_days)
        if self.session_ticket is not None:
            sv.ticket_id, sv.ticket_number = self.session_ticket
        self.scan_view = sv
        if cam is not None:
            self.scan_feed = CameraFeed(cam, on_auto=self._guard(self._auto_capture), post=self._post).start()
        self._go(Screen.SCAN)

    def camera_failed(self) -> bool:
        return self.scan_feed is not None and self.scan_feed.failed

    def _auto_capture(self) -> None:
        sv, feed = self.scan_view, self.scan_feed
        # A page that came to rest just before the camera stopped is posted late: not a capture.
        if feed is None or feed.stopped:
            return
        if self.screen is Screen.SCAN and sv is not None and sv.phase == "live":
            self.capture()

    def capture(self) -> None:
        """拍照: flattens the page now under the camera (a retake replaces the chosen page)."""
        sv, feed = self.scan_view, self.scan_feed
        if sv is None or feed is None or sv.phase not in ("live",):
            return
        self.activity()
        got = feed.latest_full()
        if got is None or got[1] is None:
            sv.problem_key = "kiosk.scan.no_page"
            self._changed()
            return
        frame, corners = got
        sv.phase, sv.problem_key = "capturing", ""
        self._changed()
        self._submit(lambda: make_page(frame, corners), self._captured)

    def _captured(self, page: Any, error: BaseException | None) -> None:
        sv = self.scan_view
        if sv is None:
            return
        sv.phase = "live"
        if error is not None:
            logger.warning("page could not be flattened: %s", error)
            sv.problem_key = "kiosk.scan.no_page"
        elif sv.retake is not None and sv.retake < len(self.scan_doc):
            self.scan_doc.retake(sv.retake, page)
            sv.retake = None
        else:
            self.scan_doc.add(page)
        sv.pages, sv.version = len(self.scan_doc), sv.version + 1
        self._changed()

    def retake_page(self, index: int) -> None:
        sv = self.scan_view
        if sv is None or not 0 <= index < len(self.scan_doc):
            return
        sv.retake = None if sv.retake == index else index
        self.activity()
        self._changed()

    def delete_page(self, index: int) -> None:
        sv = self.scan_view
        if sv is None or sv.phase != "live" or not 0 <= index < len(self.scan_doc):
            return
        self.scan_doc.delete(index)
        sv.retake = None
        sv.pages, sv.version = len(self.scan_doc), sv.version + 1
        self.activity()
        self._changed()

    def send_scan(self) -> None:
        """提交: one PDF to the citizen's ticket; the pages leave the kiosk once the server has them."""
        sv = self.scan_view
        if sv is None or sv.phase != "live" or not len(self.scan_doc) or sv.ticket_id is None:
            return
        sv.phase, sv.problem_key = "sending", ""
        self.activity()
        self._changed()
        doc, ticket_id, api = self.scan_doc, sv.ticket_id, self.api
        self._submit(lambda: api.upload_document(ticket_id, doc), self._scan_sent)

    def _scan_sent(self, _record: Any, error: BaseException | None) -> None:
        sv = self.scan_view
        if sv is None:
            return
        if error is not None:
            if not isinstance(error, (UploadError, ServerUnreachable, Refused, ValueError)):
                raise error
            logger.warning("document upload failed: %s", error)
            sv.phase, sv.problem_key = "live", "camera.upload_failed"
            self._changed()
            return
        self.scan_doc = Document()  # sent: nothing of it stays on the kiosk
        sv.phase, sv.pages, sv.version, sv.retake = "sent", 0, sv.version + 1, None
        if self.scan_feed is not None:
            self.scan_feed.stop()
            self.scan_feed = None
        self._changed()
        self._return_timer = self.timers.after(self.confirm_timeout_s, self._guard(self.go_home))

    def scan_take_number(self) -> None:
        """No ticket yet: take one; the pages wait in memory and are sent from the ticket screen."""
        self.open_services(Purpose.TAKE)

    # ---- messages, server and devices -----------------------------------------------------------
    def _show_message(self, view: MessageView) -> None:
        self._attempt = None
        self.issuing_view = self.card_view = None
        self.message_view = view
        self._go(Screen.MESSAGE)
        self._return_timer = self.timers.after(MESSAGE_RETURN_S * (2 if self.elder else 1), self._guard(self.go_home))

    def message_action(self) -> None:
        mv = self.message_view
        if mv is not None and mv.action == "take":
            self.open_services(Purpose.TAKE)

    def _server_state(self, ok: bool) -> None:
        if self.health.set_server(ok):
            self._changed()
        if ok and self._reports:
            pending, self._reports = self._reports, []
            for send in pending:
                send()

    def banner(self) -> tuple[str, str] | None:
        """(level, message key) for the strip on top of every screen, or None."""
        if self.health.server_ok is False:
            return "error", "kiosk.banner.offline"
        if not self.health.ok("printer"):
            return "warn", "kiosk.banner.printer"
        p = self.health.parts.get("printer")
        if p is not None and p.warn:
            return "info", "kiosk.banner.paper_low"
        if not self.health.ok("card_reader"):
            return "warn", "kiosk.banner.reader"
        return None

    def check_health(self) -> None:
        """Asks the server and the devices (on a worker), then reports changes to the server."""
        if self._health_busy:
            return
        self._health_busy = True
        printer, reader = self.devices.printer, self.devices.reader

        def work() -> tuple[bool, Part, Part | None]:
            try:
                server_ok = self.api.health()
            except (ServerUnreachable, Refused):
                server_ok = False
            return server_ok, printer_part(printer)[0], reader_part(reader)

        def done(result: tuple[bool, Part, Part | None] | None, error: BaseException | None) -> None:
            self._health_busy = False
            if error is not None or result is None:
                logger.warning("health check failed: %s", error)
            else:
                server_ok, pp, rp = result
                self.health.set("printer", pp)
                if rp is not None:
                    self.health.set("card_reader", rp)
                elif "card_reader" not in self.health.parts:
                    self.health.set("card_reader", Part(True, "ok"))
                if self.devices.camera is not None or "camera" in self.health.parts:
                    self.health.set("camera", Part(self.devices.camera is not None, "ok" if self.devices.camera else "camera.absent"))
                self._server_state(server_ok)
                self._report_health()
                self._changed()
            if self.background:
                self.timers.after(HEALTH_EVERY_S, self._guard(self.check_health))

        # Not tied to a citizen's generation: always delivered.
        self.worker.submit(work, self._guard(done))

    def _report_health(self) -> None:
        if not self.health.needs_report() or self.health.server_ok is False:
            return
        parts = dict(self.health.parts)
        body = self.health.report_body()

        def work() -> None:
            state = "online" if all(p.ok for p in parts.values()) else "degraded"
            self.api.device_status(self.kiosk_id, "kiosk", state, body)

        def done(_r: Any, error: BaseException | None) -> None:
            if error is None:
                self.health.mark_reported(parts)
            else:
                logger.info("device status not reported yet: %s", type(error).__name__)

        self.worker.submit(work, self._guard(done))

    def refresh_queues(self) -> None:
        def done(rows: list[dict] | None, error: BaseException | None) -> None:
            if error is None and rows is not None:
                self.live.update(rows)
                self._changed()
            if self.background:
                self.timers.after(QUEUES_EVERY_S, self._guard(self.refresh_queues))

        self.worker.submit(self.api.queues, self._guard(done))

    # ---- voice (elder mode) -------------------------------------------------------------------
    def _speak_for(self, screen: Screen) -> None:
        if not self.elder:
            return
        key = {
            Screen.HOME: "kiosk.voice.home",
            Screen.SERVICES: "kiosk.voice.services",
            Screen.CARD: "kiosk.voice.card",
            Screen.REFUSAL: "kiosk.voice.refusal",
            Screen.GUIDE: "kiosk.voice.guide",
        }.get(screen)
        if screen is Screen.TICKET and self.ticket_view is not None:
            tv = self.ticket_view
            self.voice.say(self.tr("kiosk.voice.ticket", number=" ".join(tv.number), ahead=tv.ahead))
        elif key:
            self.voice.say(self.tr(key))

    def close(self) -> None:
        if self.scan_feed is not None:
            self.scan_feed.stop()
        self.worker.shutdown()
        self.voice.close()
        self.api.close()
