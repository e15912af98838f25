"""`yizhan demo`: a whole simulated hall on one machine.

Starts the queue server (with its embedded MQTT broker and SQLite), the display board, the
kiosk and the keypad bus with simulated devices, then simulated citizens who take numbers and
simulated clerks who call, serve and finish them — so a newcomer sees the hall move within a
minute. Without a screen, Kivy windows run offscreen and the web pages are still served.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, time as dtime, timedelta
from pathlib import Path

import httpx

from yizhan.cli import setup_logging
from yizhan.config import ConfigError, HallConfig, load_config
from yizhan.i18n import t
from yizhan.settings import PROJECT_ROOT, load_settings
from yizhan.signals import StopSignals
from yizhan.privacy import id_hash, mask_id

logger = logging.getLogger("yizhan.demo")

CHILDREN = [
    # (command, arguments, what it is)
    ("display", ["--simulate", "--windowed"], "叫号屏、LED、语音 / display board"),
    ("kiosk", ["--simulate", "--windowed"], "自助取号机 / kiosk"),
    # --clerks: simulated caller presses and citizens answering the lit evaluation keypads
    ("keypads", ["--simulate", "--clerks", "4"], "评价器与叫号器总线 / keypad bus"),
]


@dataclass
class Child:
    name: str
    proc: subprocess.Popen
    log: Path


def demo_start_time(cfg: HallConfig, now: datetime) -> datetime | None:
    """A moment inside opening hours: now if the hall is open, else the next working day 09:00."""
    from queue_server.domain.hours import is_open_day, issuing_open

    if any(issuing_open(q.hours, now, cfg.calendar).open for q in cfg.queues):
        return None
    day = now.date() + (timedelta(days=0) if now.time() < dtime(9, 0) else timedelta(days=1))
    while not any(is_open_day(q.hours, day, cfg.calendar) for q in cfg.queues):
        day += timedelta(days=1)
    return datetime.combine(day, dtime(9, 0), now.tzinfo)


def spawn(name: str, args: list[str], env: dict[str, str], state_dir: Path) -> Child:
    log = state_dir / "logs" / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    fh = open(log, "ab")
    proc = subprocess.Popen([sys.executable, "-m", "yizhan.cli", name, *args], env=env, cwd=PROJECT_ROOT, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    return Child(name, proc, log)


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(url + "/api/v1/health", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


class Tokens:
    """Creates bearer tokens straight in the hall's database (no subprocess per token)."""

    def __init__(self, env: dict[str, str], cfg: HallConfig) -> None:
        from queue_server.db.engine import Database
        from yizhan.clock import clock_from_env

        self.db = Database(load_settings(env).db_url)  # the server has already migrated it
        self.clock = clock_from_env(cfg.hall.timezone, env)

    def __call__(self, role: str, window: str | None = None, device: str | None = None, name: str = "") -> str:
        from queue_server.tokens import create_token

        return create_token(self.db, self.clock.now(), role, window, device, name)


def synthetic_id_number(rng: random.Random, birth_years: list[int], serial: int | None = None) -> str:
    """A valid ID number of nobody (region 620102): it exists only in the demo's process and
    leaves it as a keyed hash and a masked form."""
    from kiosk.devices.idcard.idnumber import check_digit

    birth = f"{rng.choice(birth_years)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    first17 = f"620102{birth}{rng.randint(100, 999) if serial is None else serial:03d}"
    return first17 + check_digit(first17)


class Citizens(threading.Thread):
    """Simulated citizens take numbers at a steady pace, some with an ID card (some of them elderly);
    now and then one facing a long queue gives the number up on the phone page after a while."""

    GIVE_UP_SHARE = 0.15  # of those with 3 or more ahead

    def __init__(self, url: str, kiosk_token: str, cfg: HallConfig, id_key: bytes, stop: threading.Event, pace_s: float) -> None:
        super().__init__(daemon=True, name="citizens")
        self.url, self.cfg, self.key, self.stop_event, self.pace = url, cfg, id_key, stop, pace_s
        self.client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {kiosk_token}"}, timeout=10)
        self.rng = random.Random(7)
        self.leaving = random.Random(11)  # its own draws: the citizens and ID numbers stay as before
        self.issued = 0
        self.impatient: list[tuple[float, dict]] = []  # (when, ticket)

    def identity(self) -> dict:
        number = synthetic_id_number(self.rng, [1942, 1950, 1958, 1966, 1975, 1983, 1991, 2000])
        birth_year = int(number[6:10])
        surname = self.rng.choice("王李张刘陈杨赵黄")
        return {"id_hash": id_hash(number, self.key), "masked_id": mask_id(number), "masked_name": surname + "*", "age": 2026 - birth_year}

    def run(self) -> None:
        services = [s for s in self.cfg.services if s.common] or self.cfg.services
        while not self.stop_event.wait(self.rng.uniform(0.5, 1.5) * self.pace):
            self.give_up_due()
            service = self.rng.choice(services)
            body: dict = {"service": service.code, "idempotency_key": uuid.uuid4().hex, "source": "kiosk"}
            if service.real_name.value == "required" or self.rng.random() < 0.5:
                body["identity"] = self.identity()
            try:
                r = self.client.post("/api/v1/tickets", json=body)
            except httpx.HTTPError as exc:
                logger.warning("simulated citizen: server unreachable (%s)", exc)
                continue
            if r.status_code in (200, 201):
                self.issued += 1
                ticket = r.json()
                logger.info("市民取号 %s（%s，前面 %s 人）", ticket["number"], service.name, ticket["ahead"])
                if ticket["ahead"] >= 3 and self.leaving.random() < self.GIVE_UP_SHARE:
                    self.impatient.append((time.monotonic() + self.leaving.uniform(4, 10) * self.pace, ticket))
            else:
                logger.info("市民取号被拒：%s", r.json().get("message"))

    def give_up_due(self) -> None:
        now = time.monotonic()
        due = [x for x in self.impatient if x[0] <= now]
        self.impatient = [x for x in self.impatient if x[0] > now]
        for _, ticket in due:
            try:
                httpx.post(f"{self.url}/t/{ticket['token']}/cancel", timeout=10)  # what the phone page's button sends
                state = self.client.get(f"/api/v1/tickets/{ticket['id']}").json().get("state")
            except (httpx.HTTPError, ValueError):
                continue
            if state == "cancelled":  # not when the clerks were quicker
                logger.info("市民在手机上放弃了 %s（等不及了）", ticket["number"])


class Clerk(threading.Thread):
    """A simulated window clerk: opens the window, calls the next number, serves it, finishes;
    now and then steps away for a while, saying why (暂停原因)."""

    def __init__(self, url: str, clerk_token: str, window: str, stop: threading.Event, service_s: float, seed: int) -> None:
        super().__init__(daemon=True, name=f"clerk-{window}")
        self.window, self.stop_event, self.service_s = window, stop, service_s
        self.client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {clerk_token}"}, timeout=10)
        self.rng = random.Random(seed)
        self.pauses = random.Random(seed + 100)  # its own draws: calls and services stay as before

    def post(self, action: str, body: dict | None = None) -> httpx.Response | None:
        try:
            return self.client.post(f"/api/v1/windows/{self.window}/{action}", json=body)
        except httpx.HTTPError:
            return None

    def maybe_pause(self) -> None:
        if self.pauses.random() >= 0.04:
            return
        reason = self.pauses.choice(["away", "backoffice", "meeting"])
        if self.post("pause", {"reason": reason}) is not None:
            logger.info("%s号窗口暂停服务（%s）", self.window.lstrip("0"), t(f"pause.{reason}"))
            self.stop_event.wait(self.pauses.uniform(2, 5) * self.service_s)
            self.post("open")

    def run(self) -> None:
        self.post("open")
        while not self.stop_event.is_set():
            r = self.post("call-next")
            if r is None or r.status_code == 204:
                self.stop_event.wait(2)
                continue
            if r.status_code != 200:
                body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
                if body.get("code") == "window_busy":
                    self.post("finish")
                self.stop_event.wait(2)
                continue
            call = r.json()
            logger.info("%s号窗口叫号 %s — %s", self.window.lstrip("0"), call["ticket"]["number"], call["reason"])
            if self.rng.random() < 0.08:  # sometimes nobody comes: recall once, then skip
                self.stop_event.wait(4)
                self.post("recall")
                self.stop_event.wait(4)
                self.post("skip")
                continue
            self.stop_event.wait(self.rng.uniform(2, 4))
            self.post("start")
            self.stop_event.wait(self.rng.uniform(0.5, 1.5) * self.service_s)
            self.post("finish")
            self.cases(call["ticket"])
            self.maybe_pause()

    def cases(self, ticket: dict) -> None:
        """办件: most real-name applications are registered as cases once served, and the
        window moves one of its open cases on (办理中 → 办结, now and then 退回)."""
        try:
            if ticket.get("masked_name") and self.rng.random() < 0.7:
                r = self.client.post(f"/api/v1/windows/{self.window}/cases", json={"ticket_id": ticket["id"]})
                if r.status_code == 201:
                    logger.info("%s号窗口受理办件 %s（%s，承诺 %s 前办结）", self.window.lstrip("0"), r.json()["case_number"],
                                r.json()["service_name"], r.json()["deadline"])
            open_cases = [c for c in self.client.get(f"/api/v1/windows/{self.window}/cases").json() if c["next"]]
            if open_cases and self.rng.random() < 0.5:
                case = self.rng.choice(open_cases)
                if case["status"] == "accepted":
                    body = {"status": "processing"}
                elif self.rng.random() < 0.15:
                    body = {"status": "returned", "reason": "材料不齐：缺少一次性告知所列的证明，请补正后重新提交"}
                else:
                    body = {"status": "done"}
                self.client.post(f"/api/v1/cases/{case['case_number']}/status", json=body)
        except (httpx.HTTPError, ValueError, KeyError):
            if not self.stop_event.is_set():  # at the demo's end the server stops first
                logger.info("%s号窗口办件登记未完成（服务器无应答）", self.window.lstrip("0"))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="yizhan demo", description="模拟整个大厅 / a whole simulated hall on one machine")
    parser.add_argument("--windows", type=int, default=8, help="由模拟窗口人员开启的窗口数（默认 8）")
    parser.add_argument("--pace", type=float, default=3.0, help="平均几秒来一位市民（默认 3）")
    parser.add_argument("--service-s", type=float, default=20.0, help="平均办理时长（秒，默认 20）")
    parser.add_argument("--duration", type=float, default=0, help="运行几秒后退出（默认一直运行，Ctrl-C 退出）")
    parser.add_argument("--no-devices", action="store_true", help="只运行服务器和模拟人员 / server and simulated people only")
    args = parser.parse_args(argv)
    setup_logging()
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    settings = load_settings()
    try:
        cfg = load_config(settings.config_dir)
    except ConfigError as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        return 1
    state_dir = settings.state_dir if os.environ.get("YIZHAN_STATE_DIR") else PROJECT_ROOT / "var" / "demo"
    state_dir.mkdir(parents=True, exist_ok=True)

    env = dict(os.environ)
    env["YIZHAN_STATE_DIR"] = str(state_dir)
    env["YIZHAN_CONFIG"] = str(settings.config_dir)
    env.setdefault("YIZHAN_MQTT_PORT", "0")  # a free port, written to <state dir>/mqtt.port for the others
    env.setdefault("YIZHAN_PORT", str(settings.port))
    if not os.environ.get("YIZHAN_NOW"):
        from yizhan.clock import SystemClock

        start = demo_start_time(cfg, SystemClock(cfg.hall.timezone).now())
        if start is not None:
            env["YIZHAN_NOW"] = start.isoformat()
            logger.info("大厅现在不在办理时间，模拟时钟从 %s 开始 / hall closed now; simulated clock starts at %s", start, start)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        env.setdefault("SDL_VIDEODRIVER", "offscreen")  # no screen: Kivy windows render offscreen
    env.setdefault("KIVY_NO_ARGS", "1")

    url = f"http://127.0.0.1:{env['YIZHAN_PORT']}"
    children: list[Child] = []
    stop = threading.Event()

    signalled = StopSignals()  # Ctrl-C / SIGTERM: the main loop below stops the hall

    server = spawn("server", [], env, state_dir)
    children.append(server)
    if not wait_ready(url, server.proc):
        print(f"服务器未能启动，见 {server.log} / the server did not start, see {server.log}", file=sys.stderr)
        print(server.log.read_text(errors="replace")[-3000:], file=sys.stderr)
        server.proc.terminate()
        return 1

    from yizhan.settings import read_secret

    id_key = read_secret("id_hash_key", state_dir, env)
    kiosk_id = cfg.kiosks[0].id if cfg.kiosks else "kiosk-1"
    token = Tokens(env, cfg)
    env_child = env | {"YIZHAN_SERVER_URL": url}
    if not args.no_devices:
        tokens = {
            "display": token("display", device=cfg.displays[0].id if cfg.displays else "display-1"),
            "kiosk": token("kiosk", device=kiosk_id),
            "keypads": token("device", device=cfg.keypad_buses[0].id if cfg.keypad_buses else "bus-1"),
        }
        for name, extra, what in CHILDREN:
            child = spawn(name, extra, env_child | {"YIZHAN_TOKEN": tokens[name]}, state_dir)
            children.append(child)
            logger.info("已启动 %s（日志 %s）", what, child.log)

    windows = [w.id for w in cfg.windows][: max(1, args.windows)]
    clerks = [Clerk(url, token("clerk", window=w, name=f"模拟窗口人员{w}"), w, stop, args.service_s, i) for i, w in enumerate(windows)]
    citizens = Citizens(url, token("kiosk", device="demo-citizens"), cfg, id_key, stop, args.pace)
    from yizhan.demo_appointments import AppointmentCitizens

    # 预约: some citizens book today's first slots on the phone page's API and check in at the kiosk
    booking = AppointmentCitizens(url, token("kiosk", device="demo-appointments"), cfg, id_key, token.clock, windows, stop)
    for c in clerks:
        c.start()
    citizens.start()
    booking.start()

    public = cfg.hall.public_url or url
    print(
        f"\n{cfg.hall.name} — 模拟大厅已运行 / the simulated hall is running\n"
        f"  API            {url}/api/v1/   (OpenAPI: {url}/api/v1/docs)\n"
        f"  窗口叫号控制台  {url}/console\n"
        f"  大厅管理控制台  {url}/admin      (管理员密码见 {state_dir}/secrets/admin_password)\n"
        f"  手机查号页面    {public}/t/<号票令牌>（取号后打印在号票二维码中）\n"
        f"  手机预约页面    {public}/book（预约后带身份证到自助机「预约签到」）\n"
        f"  播报记录        {state_dir}/announcements.jsonl\n"
        f"  日志            {state_dir}/logs/\n"
        f"  {len(windows)} 个窗口由模拟窗口人员叫号，约每 {args.pace:g} 秒来一位模拟市民。Ctrl-C 退出。\n",
        flush=True,
    )

    started = time.monotonic()
    reported: set[str] = set()
    while not stop.wait(1.0):
        if signalled:
            stop.set()
            break
        for child in children:
            if child.proc.poll() is not None and child.name not in reported:
                reported.add(child.name)
                tail = child.log.read_text(errors="replace").strip().splitlines()[-3:]
                logger.warning("%s 已退出（代码 %s）：%s", child.name, child.proc.returncode, " | ".join(tail))
                if child.name == "server":
                    stop.set()
        if args.duration and time.monotonic() - started > args.duration:
            stop.set()

    logger.info("正在停止模拟大厅 / stopping the simulated hall (%s tickets issued)", citizens.issued)
    for child in reversed(children):
        if child.proc.poll() is None:
            child.proc.terminate()
    for child in reversed(children):
        try:
            child.proc.wait(10)
        except subprocess.TimeoutExpired:
            child.proc.kill()
    return 0
