"""One Screen class per kv file: each only copies the core's view state into its widgets."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from kivy.animation import Animation
from kivy.app import App
from kivy.clock import Clock
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kiosk.core.qr import qr_png
from kiosk.core.views import Purpose
from kiosk.ui.theme import COLORS, TILE_COLORS
from kiosk.ui.widgets import KButton, KLabel

logger = logging.getLogger(__name__)

KV_DIR = Path(__file__).parent / "kv"


def _app():
    return App.get_running_app()


def tr(key: str, **kw: object) -> str:
    return _app().core.tr(key, **kw)


def fault_text(key: str) -> str:
    """Citizen-facing text of a device fault: kiosk.fault.<device error key>."""
    return tr("kiosk.fault." + key) if key else ""


def minutes(seconds: int) -> int:
    return max(1, round(seconds / 60))


class CardPicture(Widget):
    lift = NumericProperty(0)
    glow = BooleanProperty(False)
    _anim = None

    def start(self) -> None:
        self.stop()
        self._anim = Animation(lift=40, d=0.9, t="in_out_sine") + Animation(lift=0, d=0.9, t="in_out_sine")
        self._anim.repeat = True
        self._anim.start(self)

    def stop(self) -> None:
        if self._anim is not None:
            self._anim.cancel(self)
            self._anim = None
        self.lift = 0


class Spinner3(Widget):
    step = NumericProperty(0)
    _ev = None

    def start(self) -> None:
        if self._ev is None:
            self._ev = Clock.schedule_interval(self._next, 0.4)

    def stop(self) -> None:
        if self._ev is not None:
            self._ev.cancel()
            self._ev = None

    def _next(self, _dt: float) -> None:
        self.step = (self.step + 1) % 3


class KioskScreen(Screen):
    def refresh(self) -> None:
        """Copies the core's state for this screen into the widgets."""

    def on_leave(self, *args) -> None:  # animations stop when the screen is not shown
        for w in self.walk():
            if hasattr(w, "stop") and isinstance(w, (CardPicture, Spinner3)):
                w.stop()


class HomeScreen(KioskScreen):
    _built_for: tuple = ()

    def refresh(self) -> None:
        # Built again only when language, elder mode or orientation change: new labels mean new
        # GL textures, which a software renderer does not give back (measured), so widgets are reused.
        app = _app()
        key = (app.core.lang, app.core.elder, app.portrait, app.scale)
        if key == self._built_for:
            return
        self._built_for = key
        self._build()

    def _build(self) -> None:
        core = _app().core
        fn = self.ids.functions
        fn.clear_widgets()
        buttons = [
            ("take", "kiosk.home.take", "kiosk.home.take_sub", COLORS["accent"], lambda: core.open_services(Purpose.TAKE)),
            ("checkin", "kiosk.home.checkin", "kiosk.home.checkin_sub", COLORS["primary"], core.start_checkin),
            ("guide", "kiosk.home.guide", "kiosk.home.guide_sub", COLORS["tile2"], lambda: core.open_services(Purpose.GUIDE)),
            ("progress", "kiosk.home.progress", "kiosk.home.progress_sub", (0.45, 0.33, 0.70, 1), core.start_progress),
            ("scan", "kiosk.home.scan", "kiosk.home.scan_sub", (0.30, 0.40, 0.52, 1), core.start_scan),
        ]
        portrait = _app().portrait
        scale = _app().scale
        from kivy.uix.gridlayout import GridLayout

        grid = GridLayout(cols=2 if portrait else 5, spacing=20 * scale)
        for i, (action, key, sub, color, cb) in enumerate(buttons):
            big = i == 0
            b = KButton(
                text=f"[b]{tr(key)}[/b]\n[size={int(scale * (34 if big else 28))}]{tr(sub)}[/size]",
                bg=color,
                base_size=60 if big and portrait else 44,
                action=action,
            )
            b.bind(on_release=lambda _b, cb=cb: cb())
            if big and portrait:
                b.size_hint_y = None
                b.height = 220 * scale
                fn.add_widget(b)  # 取号 gets the whole first row: most citizens come for it
            else:
                grid.add_widget(b)
        fn.add_widget(grid)
        tiles = self.ids.tiles
        tiles.clear_widgets()
        for i, tile in enumerate(core.catalogue.tiles):
            b = KButton(text=f"[b]{tile.name}[/b]", bg=TILE_COLORS[i % len(TILE_COLORS)], base_size=42, action="tile:" + tile.key)
            b.bind(on_release=lambda _b, k=tile.key: core.open_services(Purpose.TAKE, tile=k))
            tiles.add_widget(b)
        # Fill the last row so tiles keep one size.
        cols = tiles.cols or 1
        while len(tiles.children) % cols:
            tiles.add_widget(Widget())


class ServicesScreen(KioskScreen):
    _buttons: list = []

    def _pool(self, grid, n: int) -> list:
        """Service buttons are reused page after page (see HomeScreen.refresh on textures)."""
        core = _app().core
        if len(self._buttons) < n:
            for _ in range(n - len(self._buttons)):
                b = KButton()
                b.bind(on_release=lambda b: core.choose_service(b.action.split(":", 1)[1]) if b.action else None)
                self._buttons = self._buttons + [b]
        if list(reversed(grid.children)) != self._buttons[:n]:
            grid.clear_widgets()
            for b in self._buttons[:n]:
                grid.add_widget(b)
        return self._buttons[:n]

    def refresh(self) -> None:
        app = _app()
        core = app.core
        v = core.services_view
        if v is None:
            return
        if v.tile:
            self.ids.title.text = core.catalogue.tile(v.tile).name
        elif v.purpose is Purpose.GUIDE:
            self.ids.title.text = tr("kiosk.services.guide_title")
        else:
            self.ids.title.text = tr("kiosk.services.all_title" if v.all else "kiosk.services.title")
        self.ids.hint.text = tr("kiosk.services.hint_guide" if v.purpose is Purpose.GUIDE else "kiosk.services.hint_take")
        codes, page, pages = core.service_page()
        items = self.ids.svc_list
        per = core.services_per_page()
        pool = self._pool(items, per)
        small = int(app.scale * 28)
        for b, code in zip(pool, codes + [None] * (per - len(codes))):
            if code is None:
                b.text, b.action, b.opacity, b.disabled = "", "", 0, True
                continue
            s = core.catalogue.service(code)
            live = core.live.get(s.queue)
            line = core.catalogue.queue_name(s.queue)
            if v.purpose is Purpose.TAKE and live is not None:
                if live.open is False:
                    line += " · " + tr("kiosk.services.closed")
                elif live.waiting is not None:
                    line += " · " + tr("kiosk.services.waiting", n=live.waiting)
            if v.purpose is Purpose.TAKE and s.real_name.value == "required":
                line += " · " + tr("kiosk.services.needs_card")
            b.text = f"[b]{core.catalogue.service_name(code, core.lang)}[/b]\n[size={small}]{line}[/size]"
            b.bg = COLORS["primary"] if v.purpose is Purpose.TAKE else COLORS["tile2"]
            b.base_size = 40 if app.elder or not app.portrait else 36
            b.action, b.opacity, b.disabled = "service:" + code, 1, False
        self.ids.pageno.text = tr("kiosk.services.page", page=page + 1, pages=pages)
        self.ids.prev.disabled = page == 0
        self.ids.next.disabled = page >= pages - 1
        show_all = v.purpose is Purpose.TAKE and v.tile is None and not v.all
        self.ids.all.disabled = not show_all
        self.ids.all.opacity = 1 if show_all else 0


class CardScreen(KioskScreen):
    def refresh(self) -> None:
        core = _app().core
        cv = core.card_view
        if cv is None:
            return
        titles = {
            Purpose.TAKE: "kiosk.card.title",
            Purpose.CHECKIN: "kiosk.card.title_checkin",
            Purpose.PROGRESS: "kiosk.card.title_progress",
        }
        self.ids.title.text = tr(titles.get(cv.purpose, "kiosk.card.title"))
        self.ids.service.text = core.catalogue.service_name(cv.service, core.lang) if cv.service else ""
        if cv.reader_down:
            self.ids.hint.text = ""
            after = "kiosk.card.reader_down_skip" if cv.can_skip else "kiosk.card.reader_down_desk"
            self.ids.problem.text = tr("kiosk.card.reader_down") + "\n" + tr(after)
            self.ids.picture.stop()
        else:
            self.ids.hint.text = tr("kiosk.card.hint_optional" if cv.can_skip else "kiosk.card.hint")
            self.ids.problem.text = fault_text(cv.problem_key)
            self.ids.picture.start()
        self.ids.skip.disabled = not cv.can_skip
        self.ids.skip.opacity = 1 if cv.can_skip else 0


class IssuingScreen(KioskScreen):
    def refresh(self) -> None:
        core = _app().core
        iv = core.issuing_view
        if iv is None:
            return
        self.ids.spinner.start()
        name = core.catalogue.service_name(iv.service, core.lang) if iv.service else ""
        if iv.phase == "retrying":
            self.ids.title.text = tr("kiosk.issuing.retrying")
            self.ids.detail.text = tr("kiosk.issuing.retrying_detail", n=iv.attempts)
            self.ids.reassure.text = tr("kiosk.issuing.same_number")
        elif iv.phase == "printing":
            self.ids.title.text = tr("kiosk.issuing.printing")
            self.ids.detail.text = name
            self.ids.reassure.text = ""
        else:
            self.ids.title.text = tr("kiosk.issuing.checkin" if iv.purpose is Purpose.CHECKIN else "kiosk.issuing.title")
            self.ids.detail.text = name
            self.ids.reassure.text = ""
        self.ids.cancel.disabled = iv.phase != "retrying"
        self.ids.cancel.opacity = 1 if iv.phase == "retrying" else 0


class TicketScreen(KioskScreen):
    _shown_qr = ""

    def refresh(self) -> None:
        core = _app().core
        tv = core.ticket_view
        if tv is None:
            return
        cam = core.devices.camera is not None and tv.ticket_id is not None
        self.ids.scan.opacity, self.ids.scan.disabled = (1, False) if cam else (0, True)
        self.ids.title.text = tr("kiosk.ticket.checked_in" if tv.checked_in else "kiosk.ticket.title")
        self.ids.number.text = tv.number
        self.ids.service.text = core.catalogue.service_name(tv.service, core.lang) if tv.service else tv.service_name
        sep = "、" if core.lang == "zh_CN" else ", "
        self.ids.windows.text = tr("kiosk.ticket.windows", windows=sep.join(tv.windows)) if tv.windows else ""
        if tv.ahead == 0:
            self.ids.wait.text = tr("kiosk.ticket.next")
        else:
            self.ids.wait.text = tr("kiosk.ticket.ahead", n=tv.ahead, m=minutes(tv.estimated_wait_s))
        self.ids.masked.text = tr("kiosk.ticket.masked_name", name=tv.masked_name) if tv.masked_name else ""
        if tv.printed:
            self.ids.printfail.text = ""
            self.ids.qrhint.text = tr("kiosk.ticket.qr")
        else:
            self.ids.printfail.text = fault_text(tv.print_error_key) + "\n" + tr("kiosk.ticket.not_printed")
            self.ids.qrhint.text = tr("kiosk.ticket.qr_unprinted")
        if tv.qr_url != self._shown_qr:
            self._show_qr(tv.qr_url)
            self._shown_qr = tv.qr_url
        self.tick()

    def _show_qr(self, url: str) -> None:
        """New pixels into the same texture when the size matches (see HomeScreen.refresh)."""
        from kivy.graphics.texture import Texture
        from PIL import Image as PilImage

        img = PilImage.open(io.BytesIO(qr_png(url))).convert("RGBA").transpose(PilImage.Transpose.FLIP_TOP_BOTTOM)
        tex = self.ids.qr.texture
        if tex is None or tuple(tex.size) != img.size:
            tex = Texture.create(size=img.size, colorfmt="rgba")
            tex.mag_filter = "nearest"
        tex.blit_buffer(img.tobytes(), colorfmt="rgba", bufferfmt="ubyte")
        self.ids.qr.texture = None
        self.ids.qr.texture = tex

    def tick(self) -> None:
        core = _app().core
        self.ids.countdown.text = tr("kiosk.ticket.countdown", s=core.seconds_to_home())


class RefusalScreen(KioskScreen):
    def refresh(self) -> None:
        core = _app().core
        rv = core.refusal_view
        if rv is None:
            return
        known = ("queue_closed", "hall_closed_day", "daily_cap_reached", "per_person_limit", "open_ticket_exists", "unknown_service", "real_name_required")
        code = rv.code if rv.code in known else "other"
        self.ids.title.text = tr(f"kiosk.refusal.{code}.title")
        self.ids.message.text = rv.message or tr("kiosk.refusal.other.message")
        self.ids.advice.text = tr(f"kiosk.refusal.{code}.advice")
        self.ids.guide.disabled = rv.service is None
        self.ids.guide.opacity = 0 if rv.service is None else 1

    def open_guide(self) -> None:
        core = _app().core
        if core.refusal_view and core.refusal_view.service:
            core.open_guide(core.refusal_view.service)


class GuideScreen(KioskScreen):
    def refresh(self) -> None:
        core = _app().core
        gv = core.guide_view
        if gv is None:
            return
        s = core.catalogue.service(gv.service)
        self.ids.title.text = core.catalogue.service_name(s.code, core.lang)
        facts = self.ids.facts
        facts.clear_widgets()
        days = tr("kiosk.guide.on_the_spot") if s.promised_days == 0 else tr("kiosk.guide.days", n=s.promised_days)
        for title, value in (
            (tr("kiosk.guide.class"), tr("kiosk.class." + s.service_class.name.lower())),
            (tr("kiosk.guide.promised"), days),
            (tr("kiosk.guide.fees"), s.fees if core.lang == "zh_CN" or s.fees != "不收费" else tr("kiosk.guide.free")),
            (tr("kiosk.guide.online"), tr("kiosk.guide.online_yes" if s.online else "kiosk.guide.online_no")),
        ):
            fact = Factory.Fact()  # kv dynamic classes take their own properties only after creation
            fact.title, fact.value = title, value
            facts.add_widget(fact)
        box = self.ids.materials
        box.clear_widgets()
        for i, m in enumerate(s.materials, 1):
            box.add_widget(KLabel(text=f"{i}. {m}", base_size=36))
        box.add_widget(KLabel(text=tr("kiosk.guide.window", windows="、".join(core.catalogue.windows_for_service(s.code))), base_size=30, color=COLORS["muted"]))
        state = gv.print_state
        self.ids.printed.color = COLORS["error"] if state == "failed" else COLORS["ok"]
        self.ids.printed.text = {
            "printing": tr("kiosk.guide.printing"),
            "printed": tr("kiosk.guide.printed"),
            "failed": fault_text(gv.print_error_key) + " " + tr("kiosk.guide.print_failed"),
        }.get(state, "")
        self.ids.print.disabled = state == "printing"


class ProgressScreen(KioskScreen):
    def refresh(self) -> None:
        core = _app().core
        pv = core.progress_view
        if pv is None:
            return
        body = self.ids.body
        self.ids.problem.text = tr(pv.problem_key) if pv.problem_key else ""
        if pv.phase == "choose":
            self.ids.hint.text = tr("kiosk.progress.choose")
            self._show(body, self._choose_widgets())
        elif pv.phase == "keypad":
            self.ids.hint.text = tr("kiosk.progress.keypad")
            widgets = self._keypad_widgets()
            shown = widgets[0]
            shown.text = pv.digits or tr("kiosk.progress.empty")
            shown.bold = bool(pv.digits)
            shown.color = COLORS["text"] if pv.digits else COLORS["muted"]
            self._show(body, widgets if _app().portrait else widgets[1:])
        elif pv.phase == "searching":
            self.ids.hint.text = tr("kiosk.progress.searching")
            self._show(body, [Widget()])
        else:
            body.clear_widgets()
            self._results(body, pv)

    @staticmethod
    def _show(body, widgets: list) -> None:
        if list(reversed(body.children)) != widgets:
            body.clear_widgets()
            for w in widgets:
                body.add_widget(w)

    _cache: dict = {}

    def _cached(self, name: str, build) -> list:
        # Built once per language and size; see HomeScreen.refresh on why widgets are reused.
        app = _app()
        key = (name, app.core.lang, app.scale, app.portrait)
        if key not in self._cache:
            self._cache = {k: v for k, v in self._cache.items() if k[0] != name}
            self._cache[key] = build()
        return self._cache[key]

    def _choose_widgets(self) -> list:
        def build() -> list:
            core = _app().core
            out = []
            for action, key, color, cb in (
                ("by_card", "kiosk.progress.by_card", COLORS["primary"], core.progress_by_card),
                ("by_number", "kiosk.progress.by_number", COLORS["tile2"], core.progress_by_number),
            ):
                b = KButton(text=f"[b]{tr(key)}[/b]", bg=color, base_size=46, action=action, size_hint_y=None, height=220 * _app().scale)
                b.bind(on_release=lambda _b, cb=cb: cb())
                out.append(b)
            return out + [Widget()]

        return self._cached("choose", build)

    def _keypad_widgets(self) -> list:
        def build() -> list:
            from kivy.uix.gridlayout import GridLayout
            from kivy.uix.label import Label

            app = _app()
            core = app.core
            shown = Label(font_size=app.scale * 64, size_hint_y=None, height=130 * app.scale)
            grid = GridLayout(cols=3, spacing=16 * app.scale)
            for key in ("1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "del"):
                label = {"clear": tr("kiosk.progress.clear"), "del": tr("kiosk.progress.delete")}.get(key, key)
                b = KButton(text=label, base_size=56 if key.isdigit() else 36, bg=COLORS["primary"] if key.isdigit() else COLORS["muted"], action="key:" + key)
                b.bind(on_release=lambda _b, k=key: core.key_press(k))
                grid.add_widget(b)
            go = KButton(text=tr("kiosk.progress.search"), base_size=44, bg=COLORS["ok"], action="search", size_hint_y=None, height=140 * app.scale)
            go.bind(on_release=lambda _b: core.search_number())
            if app.portrait:
                return [shown, grid, go]
            # Landscape: the number and 查询 on the left, keys of a usable height on the right.
            from kivy.uix.boxlayout import BoxLayout

            row = BoxLayout(orientation="horizontal", spacing=30 * app.scale)
            left = BoxLayout(orientation="vertical", spacing=20 * app.scale, size_hint_x=0.8)
            for w in (shown, Widget(), go):
                left.add_widget(w)
            row.add_widget(left)
            row.add_widget(grid)
            return [shown, row]

        return self._cached("keypad", build)

    def _results(self, body, pv) -> None:
        from kivy.uix.boxlayout import BoxLayout
        from kivy.uix.scrollview import ScrollView

        app = _app()
        if pv.problem_key:
            self.ids.hint.text = ""
            body.add_widget(Widget())
            return
        if not pv.rows:
            self.ids.hint.text = ""
            self.ids.problem.text = ""
            body.add_widget(KLabel(text=tr("kiosk.progress.none_" + (pv.searched_by or "number")), base_size=40, halign="center"))
            body.add_widget(KLabel(text=tr("kiosk.progress.none_advice"), base_size=34, halign="center", color=COLORS["muted"]))
            body.add_widget(Widget())
            return
        self.ids.hint.text = tr("kiosk.progress.found", n=len(pv.rows))
        scroll = ScrollView(do_scroll_x=False)
        box = BoxLayout(orientation="vertical", size_hint_y=None, spacing=16 * app.scale)
        box.bind(minimum_height=box.setter("height"))
        for row in pv.rows:
            lines = [tr("kiosk.progress.case_number", n=row.case_number)]
            if row.accepted_at:
                lines.append(tr("kiosk.progress.accepted", d=row.accepted_at))
            if row.deadline:
                lines.append(tr("kiosk.progress.deadline", d=row.deadline))
            if row.masked_name:
                lines.append(row.masked_name)
            status = tr("kiosk.case." + row.status) if row.status and _has_key("kiosk.case." + row.status) else row.status
            card = Factory.CaseCard()
            card.title, card.status, card.lines, card.bad = row.service_name, status, "\n".join(lines), row.overdue
            box.add_widget(card)
        scroll.add_widget(box)
        body.add_widget(scroll)


def _has_key(key: str) -> bool:
    from yizhan.i18n import catalogue

    return key in catalogue("zh_CN")


class ScanScreen(KioskScreen):
    """Thin: the core owns the pages and the camera thread; this copies its snapshot to the GPU."""

    has_pages = BooleanProperty(False)
    _ev = None
    _seq = -1
    _version = -1
    _outline = None

    def on_enter(self, *args) -> None:
        if self._ev is None:
            self._ev = Clock.schedule_interval(self._frame, 1 / 15)

    def on_leave(self, *args) -> None:
        super().on_leave(*args)
        if self._ev is not None:
            self._ev.cancel()
            self._ev = None
        self._clear_preview()

    def _clear_preview(self) -> None:
        self.ids.preview.texture = None
        self._seq = -1
        if self._outline is not None:
            self._outline.clear()

    def refresh(self) -> None:
        core = _app().core
        sv = core.scan_view
        if sv is None:
            return
        self.on_enter()
        down = not sv.camera_ok or core.camera_failed()
        ids = self.ids
        if sv.phase == "sent":
            ids.hint.text = tr("kiosk.scan.sent", number=sv.ticket_number)
        elif down:
            ids.hint.text = ""
        elif sv.ticket_id is None:
            ids.hint.text = tr("kiosk.scan.hint") + "\n" + tr("kiosk.scan.need_ticket")
        else:
            ids.hint.text = tr("kiosk.scan.hint") + "\n" + tr("kiosk.scan.for_ticket", number=sv.ticket_number, days=sv.keep_days)
        if sv.phase == "live" and sv.retake is not None:
            ids.hint.text = tr("kiosk.scan.retaking", n=sv.retake + 1)
        ids.problem.text = tr(sv.problem_key) if sv.problem_key else ""
        ids.nocam.text = tr("kiosk.scan.no_camera") if down and sv.phase != "sent" else (
            tr("kiosk.scan.sent_body") if sv.phase == "sent" else "")
        if down or sv.phase == "sent":
            self._clear_preview()
        live = sv.phase == "live" and not down
        ids.capture.text = tr("kiosk.scan.capturing") if sv.phase == "capturing" else (
            tr("kiosk.scan.retake_now", n=sv.retake + 1) if sv.retake is not None else tr("kiosk.scan.capture"))
        ids.capture.disabled = not live
        ids.capture.opacity = 0 if down or sv.phase == "sent" else 1
        if sv.ticket_id is None:
            ids.send.action = "take_first"
            ids.send.text = tr("kiosk.scan.take_first")
            ids.send.disabled = sv.phase != "live"
            ids.send.bg = COLORS["primary"]
        else:
            ids.send.action = "send"
            ids.send.text = tr("kiosk.scan.sending") if sv.phase == "sending" else tr("kiosk.scan.send", n=sv.pages)
            ids.send.disabled = sv.phase != "live" or sv.pages == 0
            ids.send.bg = COLORS["ok"]
        if down or sv.phase == "sent":  # nothing to send from here: the desk scans instead
            ids.send.opacity, ids.send.disabled = 0, True
        else:
            ids.send.opacity = 1
        self.has_pages = sv.pages > 0
        self._pages(sv)

    def send_pressed(self) -> None:
        core = _app().core
        if core.scan_view is not None and core.scan_view.ticket_id is None:
            core.scan_take_number()
        else:
            core.send_scan()

    def _pages(self, sv) -> None:
        core = _app().core
        box = self.ids.pages
        if sv.version != self._version:
            self._version = sv.version
            box.clear_widgets()
            for i, thumb in enumerate(core.scan_doc.thumbnails(360)):
                w = Factory.ScanPage()
                w.index = i
                w.ids.thumb.texture = _texture(thumb)
                w.ids.retake.action = f"retake:{i}"
                w.ids.delete.action = f"delete:{i}"
                w.ids.retake.bind(on_release=lambda _b, i=i: core.retake_page(i))
                w.ids.delete.bind(on_release=lambda _b, i=i: core.delete_page(i))
                box.add_widget(w)
        for w in box.children:
            w.chosen = sv.retake == w.index
            w.ids.label.text = tr("kiosk.scan.page", n=w.index + 1)
            w.ids.retake.text = tr("kiosk.scan.retake")
            w.ids.delete.text = tr("kiosk.scan.delete")
            w.ids.delete.disabled = sv.phase != "live"

    def _frame(self, _dt: float) -> None:
        core = _app().core
        feed, sv = core.scan_feed, core.scan_view
        if feed is None or sv is None:
            return
        if feed.failed != getattr(self, "_failed", False):
            self._failed = feed.failed
            self.refresh()
        snap = feed.snapshot()
        if snap is None or snap.seq == self._seq or feed.failed:
            return
        self._seq = snap.seq
        img = self.ids.preview
        img.texture = _texture(snap.frame, img.texture)
        img.canvas.ask_update()
        self._draw_outline(snap)

    def _draw_outline(self, snap) -> None:
        from kivy.graphics import Color, InstructionGroup, Line

        img = self.ids.preview
        if self._outline is None:
            # Its own group on the image: the RelativeLayout's canvas.after holds its PopMatrix.
            self._outline = InstructionGroup()
            img.canvas.after.add(self._outline)
        self._outline.clear()
        if snap.corners is None:
            return
        h, w = snap.frame.shape[:2]
        nw, nh = img.norm_image_size
        ox, oy = img.x + (img.width - nw) / 2, img.y + (img.height - nh) / 2
        pts = []
        for x, y in snap.corners:
            pts += [ox + float(x) * nw / w, oy + (h - float(y)) * nh / h]
        # Amber while the page moves, green once it rests (auto-capture fires then).
        self._outline.add(Color(*(COLORS["ok"][:3] if snap.progress >= 1 else (1.0, 0.75, 0.1)), 1))
        self._outline.add(Line(points=pts, close=True, width=max(2.0, 5 * _app().scale)))


def _texture(bgr, texture=None):
    """A BGR frame as a Kivy texture (reused when the size is the same: no new GL texture a frame)."""
    from kivy.graphics.texture import Texture

    h, w = bgr.shape[:2]
    if texture is None or texture.size != (w, h):
        texture = Texture.create(size=(w, h), colorfmt="rgb")
        texture.flip_vertical()
    texture.blit_buffer(bgr.tobytes(), colorfmt="bgr", bufferfmt="ubyte")
    return texture


class MessageScreen(KioskScreen):
    def refresh(self) -> None:
        core = _app().core
        mv = core.message_view
        if mv is None:
            return
        self.ids.title.text = tr(mv.title_key, **mv.params)
        self.ids.body.text = tr(mv.body_key, **mv.params)
        self.ids.action.disabled = not mv.action
        self.ids.action.opacity = 1 if mv.action else 0
        self.tick()

    def tick(self) -> None:
        core = _app().core
        s = core.seconds_to_home()
        self.ids.countdown.text = tr("kiosk.message.countdown", s=s) if s else ""


SCREENS = {
    "home": HomeScreen,
    "services": ServicesScreen,
    "card": CardScreen,
    "issuing": IssuingScreen,
    "ticket": TicketScreen,
    "refusal": RefusalScreen,
    "guide": GuideScreen,
    "progress": ProgressScreen,
    "scan": ScanScreen,
    "message": MessageScreen,
}

_loaded = False


def load_kv() -> None:
    global _loaded
    if _loaded:
        return
    Factory.register("CardPicture", cls=CardPicture)
    Factory.register("Spinner3", cls=Spinner3)
    Factory.register("KLabel", cls=KLabel)
    Factory.register("KButton", cls=KButton)
    from kiosk.ui.widgets import Banner, Card

    Factory.register("Card", cls=Card)
    Factory.register("Banner", cls=Banner)
    for name in ["widgets", *SCREENS]:
        Builder.load_file(str(KV_DIR / f"{name}.kv"))
    _loaded = True
