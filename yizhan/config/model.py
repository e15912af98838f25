"""The hall's configuration: one typed model, validated at start (pydantic v2, unknown keys forbidden).

Device sections (kiosks, displays, keypad buses) live in their own modules so each
part of the system owns its model; they are assembled here into `HallConfig`.
"""

from __future__ import annotations

import re
from datetime import date, time
from enum import Enum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from yizhan.config.appointments import AppointmentsConfig
from yizhan.config.devices import KioskConfig
from yizhan.config.displays import DisplayConfig
from yizhan.config.keypads import KeypadBusConfig
from yizhan.config.wechat import WechatConfig

ID_RE = r"^[A-Za-z0-9_-]+$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ServiceClass(str, Enum):
    """四办 classes."""

    IMMEDIATE = "即收即办"
    SAME_DAY = "当日办结"
    TIME_LIMITED = "限时办结"
    AGENCY = "代办服务"


class RealName(str, Enum):
    REQUIRED = "required"  # an ID card must be read at the kiosk
    OPTIONAL = "optional"  # asked for, with a skip path
    NONE = "none"


def _parse_span(value: str) -> tuple[time, time]:
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", value)
    if not m:
        raise ValueError(f"{value!r}: 时段格式应为 HH:MM-HH:MM，例如 08:30-12:00")
    h1, m1, h2, m2 = (int(x) for x in m.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"{value!r}: 时间不存在")
    start, end = time(h1, m1), time(h2, m2)
    if start >= end:
        raise ValueError(f"{value!r}: 开始时间必须早于结束时间")
    return start, end


class Span(Strict):
    start: time
    end: time

    def contains(self, t: time) -> bool:
        return self.start <= t < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def _span(value: object) -> object:
    if isinstance(value, str):
        start, end = _parse_span(value)
        return {"start": start, "end": end}
    if isinstance(value, (int, float, list)):
        # YAML reads a bare 08:30 as the number 510 (base 60): say what to write instead.
        raise ValueError("时段应写成 HH:MM-HH:MM，例如 08:30-12:00（单个时间不够，要写开始和结束）")
    return value


SpanField = Annotated[Span, Field(description="HH:MM-HH:MM")]


class Hours(Strict):
    """Opening hours of a queue. `lunch` is the optional lunch-time extended service (午休延时服务)."""

    morning: SpanField | None = None
    lunch: SpanField | None = None
    afternoon: SpanField | None = None
    days: Literal["workdays", "every_day"] | list[Annotated[int, Field(ge=1, le=7)]] = Field(
        "workdays",
        description="workdays = the hall's working days (official calendar, adjusted by calendar:); or ISO weekday numbers 1–7",
    )
    stop_issuing_before_close_min: int = Field(0, ge=0, le=120, description="停止取号 minutes before closing")

    _coerce = field_validator("morning", "lunch", "afternoon", mode="before")(lambda v: _span(v))

    @model_validator(mode="after")
    def _order(self) -> "Hours":
        named = [(n, s) for n, s in (("morning", self.morning), ("lunch", self.lunch), ("afternoon", self.afternoon)) if s is not None]
        if not named:
            raise ValueError("至少需要一个时段；请写 morning: 08:30-12:00 和/或 afternoon: 14:00-17:30")
        # Reported at the later span (the one that starts too early), so the line points at it.
        problems = [
            ((name_b, ), f"时段重叠或顺序颠倒：{name_a} {a} 与 {name_b} {b}；{name_b} 应在 {a.end:%H:%M} 或之后开始（顺序：上午 → 午休延时 → 下午）")
            for (name_a, a), (name_b, b) in zip(named, named[1:])
            if a.end > b.start
        ]
        if problems:
            raise CrossCheckError(problems)
        return self

    def spans(self) -> list[Span]:
        return [s for s in (self.morning, self.lunch, self.afternoon) if s is not None]


class HallInfo(Strict):
    id: str = Field(pattern=ID_RE, description="one MQTT topic level, no '/'")
    name: str
    name_en: str = ""
    timezone: str = "Asia/Shanghai"
    area_m2: int | None = None
    address: str = ""
    notice: str = Field("", description="scrolling notice on the TV and ticket")
    public_url: str = Field("", description="base URL of the phone page in ticket QR codes; empty = the server URL")
    call_by_name: bool = Field(False, description="show masked names (张*) on displays")
    print_masked_name: bool = False

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"未知时区 {v!r}，例如 Asia/Shanghai") from None
        return v


class WorkCalendar(Strict):
    """The hall's own exceptions to China's official working days (chinese-calendar). They apply
    wherever working days count: queues open on `workdays`, bookable days, case deadlines and
    statistics. Use them for a closure (闭厅) and for next year's official holidays before the
    pinned chinese-calendar knows them."""

    holidays: list[date] = Field(default_factory=list, description="days the hall does not work though the official calendar says it does (闭厅、新年度放假)")
    workdays: list[date] = Field(default_factory=list, description="days the hall works though the official calendar says rest (调休上班)")

    @model_validator(mode="after")
    def _disjoint(self) -> "WorkCalendar":
        both = sorted(set(self.holidays) & set(self.workdays))
        if both:
            raise ValueError(f"{'、'.join(d.isoformat() for d in both)} 既写在 holidays 又写在 workdays；一天只能是其中之一")
        return self


class GreenChannel(Strict):
    min_age: int = Field(70, ge=50, le=100, description="age from the ID card that gets green-channel priority")
    categories: list[Literal["elderly", "disability", "military", "pregnancy"]] = Field(
        default_factory=lambda: ["elderly", "disability", "military", "pregnancy"]
    )


class SkipRule(Strict):
    """What happens to a skipped (过号) ticket whose holder comes back."""

    rejoin: Literal["never", "after_n", "back"] = Field(
        "after_n", description="never = must take a new number; after_n = behind the next N waiting; back = end of line"
    )
    after_n: int = Field(3, ge=0, le=50)
    within_min: int = Field(30, ge=0, le=480, description="rejoining allowed this many minutes after the skip")


class Policy(Strict):
    green_channel: GreenChannel = GreenChannel()
    priority_ratio: int = Field(
        0, ge=0, le=20, description="N normal : 1 priority; 0 = priority tickets always first"
    )
    max_wait_min: int = Field(60, ge=5, le=480, description="a ticket waiting longer is called first (no one waits forever)")
    appointment_early_min: int = Field(30, ge=0, le=240)
    appointment_late_min: int = Field(15, ge=0, le=240)
    recall_limit: int = Field(3, ge=0, le=10, description="recalls before the ticket becomes a no-show")
    skip: SkipRule = SkipRule()
    per_person_daily_limit: int = Field(5, ge=1, le=50, description="tickets per ID number per day (实名取号)")
    ahead_notify_places: int = Field(5, ge=0, le=50, description="'N ahead' updates only for the first N places")
    followup_working_days: int = Field(3, ge=1, le=30, description="deadline of a 差评整改 record, in working days")
    service_time_default_s: int = Field(300, ge=30, le=7200, description="service time assumed before any history")
    document_retention_days: int = Field(
        30, ge=1, le=3650, description="scanned materials (材料扫描) are deleted this many days after upload (PIPL: kept no longer than needed)"
    )


class Department(Strict):
    id: str = Field(pattern=ID_RE)
    name: str
    name_en: str = ""
    tile: str = Field("", description="kiosk home tile (life event) this department belongs to")


class Service(Strict):
    code: str = Field(pattern=ID_RE)
    name: str
    name_en: str = ""
    department: str
    queue: str
    service_class: ServiceClass = Field(alias="class")
    promised_days: int = Field(ge=0, le=365, description="promised time limit in working days (0 = on the spot)")
    statutory_days: int | None = Field(None, ge=0, le=365)
    materials: list[str] = Field(min_length=1, description="一次性告知: the materials a citizen must bring")
    fees: str = "不收费"
    online: bool = Field(False, description="can be done online (全程网办)")
    real_name: RealName = RealName.OPTIONAL
    common: bool = Field(False, description="shown on the kiosk's first page")

    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)

    @model_validator(mode="after")
    def _days_fit_class(self) -> "Service":
        # The 四办 class is a promise to the citizen; the number of days must not contradict it.
        d, c = self.promised_days, self.service_class
        problems: list[tuple[tuple[str | int, ...], str]] = []
        if c is ServiceClass.IMMEDIATE and d != 0:
            problems.append((("promised_days",), f"即收即办 的承诺时限应为 0（当场办结），现在是 {d}；或把 class 改为 限时办结"))
        elif c is ServiceClass.SAME_DAY and d > 1:
            problems.append((("promised_days",), f"当日办结 的承诺时限应为 0 或 1 个工作日，现在是 {d}；或把 class 改为 限时办结"))
        elif c is ServiceClass.TIME_LIMITED and d < 1:
            problems.append((("promised_days",), "限时办结 的承诺时限至少 1 个工作日；当场能办完的请把 class 改为 即收即办"))
        if self.statutory_days is not None and self.statutory_days < d:
            problems.append((("statutory_days",), f"法定时限 {self.statutory_days} 天短于承诺时限 {d} 天；承诺时限不能超过法定时限"))
        if problems:
            raise CrossCheckError(problems)
        return self


class Queue(Strict):
    id: str = Field(pattern=r"^[A-Z]$", description="the prefix letter")
    name: str
    name_en: str = ""
    hours: Hours
    daily_cap: int = Field(ge=1, le=9999)
    digits: int = Field(3, ge=3, le=4, description="A001 (3) or A0001 (4)")


class WindowKind(str, Enum):
    ORDINARY = "ordinary"
    PARALLEL = "parallel"  # 并联审批


class Window(Strict):
    id: str = Field(pattern=ID_RE, max_length=8)
    name: str = ""
    department: str | None = None
    kind: WindowKind = WindowKind.ORDINARY
    queues: dict[str, Annotated[int, Field(ge=1, le=100)]] = Field(
        min_length=1, description="queue id → weight (higher = preferred)"
    )
    spoken_name: str = Field("", description="how the voice says it; default '<id>号窗口'")

    @property
    def display_name(self) -> str:
        return self.name or f"{self.id.lstrip('0') or '0'}号窗口"


class HallConfig(Strict):
    version: Literal[1] = 1
    hall: HallInfo
    calendar: WorkCalendar = Field(default_factory=WorkCalendar, description="the hall's closures and make-up working days")
    policy: Policy = Policy()
    departments: list[Department] = Field(min_length=1)
    queues: list[Queue] = Field(min_length=1)
    services: list[Service] = Field(min_length=1)
    windows: list[Window] = Field(min_length=1)
    kiosks: list[KioskConfig] = Field(default_factory=list)
    displays: list[DisplayConfig] = Field(default_factory=list)
    keypad_buses: list[KeypadBusConfig] = Field(default_factory=list)
    wechat: WechatConfig | None = Field(None, description="WeChat service account (微信叫号); absent = phone page only")
    appointments: AppointmentsConfig = Field(default_factory=AppointmentsConfig, description="appointment booking (预约); no services = none")

    @model_validator(mode="after")
    def _cross_checks(self) -> "HallConfig":
        # Errors are raised as a batch via CrossCheckError so check-config can list all of them.
        problems: list[tuple[tuple[str | int, ...], str]] = []

        def unique(items: list, attr: str, section: str, what: str) -> set[str]:
            seen: dict[str, int] = {}
            for i, item in enumerate(items):
                key = getattr(item, attr)
                if key in seen:
                    problems.append(
                        ((section, i, attr), f"{what} {key!r} 重复（{section}[{seen[key]}] 已经用了它）；每个{what}必须唯一，请改成没用过的")
                    )
                else:
                    seen[key] = i
            return set(seen)

        deps = unique(self.departments, "id", "departments", "部门")
        queues = unique(self.queues, "id", "queues", "队列前缀")
        unique(self.services, "code", "services", "事项编码")
        unique(self.windows, "id", "windows", "窗口号")
        unique(self.kiosks, "id", "kiosks", "自助机")
        unique(self.displays, "id", "displays", "显示屏")
        unique(self.keypad_buses, "id", "keypad_buses", "总线")
        for i, s in enumerate(self.services):
            if s.department not in deps:
                problems.append((("services", i, "department"), f"部门 {s.department!r} 未定义；可选：{', '.join(sorted(deps))}"))
            if s.queue not in queues:
                problems.append((("services", i, "queue"), f"队列 {s.queue!r} 未定义；可选：{', '.join(sorted(queues))}"))
        served: set[str] = set()
        for i, w in enumerate(self.windows):
            if w.department is not None and w.department not in deps:
                problems.append((("windows", i, "department"), f"部门 {w.department!r} 未定义；可选：{', '.join(sorted(deps))}"))
            for q in w.queues:
                if q not in queues:
                    problems.append((("windows", i, "queues", q), f"队列 {q!r} 未定义；可选：{', '.join(sorted(queues))}"))
                served.add(q)
        for i, q in enumerate(self.queues):
            if q.id not in served:
                problems.append((("queues", i, "id"), f"队列 {q.id} 没有任何窗口办理；请在某个窗口的 queues 中加入 {q.id}"))
        windows = {w.id for w in self.windows}
        device_names = {"keypad": "评价器", "caller": "叫号器"}
        for b, bus in enumerate(self.keypad_buses):
            # Two devices answering to one RS-485 address garble each other's frames.
            used: dict[int, str] = {}
            for w, pads in bus.windows.items():
                for kind, label in device_names.items():
                    addr = getattr(pads, kind)
                    if addr is None:
                        continue
                    if addr in used:
                        problems.append(
                            (("keypad_buses", b, "windows", w, kind), f"总线地址 {addr} 已被{used[addr]}使用；同一总线上每台设备的地址必须不同")
                        )
                    else:
                        used[addr] = f"窗口 {w} 的{label}"
        for d, disp in enumerate(self.displays):
            if disp.window_strips:
                strip_used: dict[int, str] = {}
                for w, addr in disp.window_strips.windows.items():
                    if addr in strip_used:
                        problems.append(
                            (("displays", d, "window_strips", "windows", w), f"条屏地址 {addr} 已被窗口 {strip_used[addr]} 使用；每块窗口条屏的地址必须不同")
                        )
                    else:
                        strip_used[addr] = w
        for b, bus in enumerate(self.keypad_buses):
            for w in bus.windows:
                if w not in windows:
                    problems.append((("keypad_buses", b, "windows", w), f"窗口 {w!r} 未定义；请改成 windows: 里已有的窗口号，或删去这一行"))
        for d, disp in enumerate(self.displays):
            strips = disp.window_strips.windows if disp.window_strips else {}
            for w in disp.referenced_windows():
                if w not in windows:
                    where = ("displays", d, "window_strips", "windows", w) if w in strips else ("displays", d)
                    problems.append((where, f"窗口 {w!r} 未定义；请改成 windows: 里已有的窗口号，或删去这一行"))
        codes = {sv.code for sv in self.services}
        for code in self.appointments.services:
            if code not in codes:
                problems.append((("appointments", "services", code), f"事项编码 {code!r} 未定义；请改成 services: 里已有的事项编码，或删去这一行"))
        if problems:
            raise CrossCheckError(problems)
        return self

    # Look-ups used everywhere.
    def queue(self, queue_id: str) -> Queue:
        return next(q for q in self.queues if q.id == queue_id)

    def service(self, code: str) -> Service:
        return next(s for s in self.services if s.code == code)

    def window(self, window_id: str) -> Window:
        return next(w for w in self.windows if w.id == window_id)

    def windows_for_queue(self, queue_id: str) -> list[Window]:
        return [w for w in self.windows if queue_id in w.queues]


class CrossCheckError(ValueError):
    """Several cross-reference problems at once, each with its key path."""

    def __init__(self, problems: list[tuple[tuple[str | int, ...], str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(msg for _, msg in problems))
