"""Screenshots of both consoles for docs/screens, on the shipped hall (config/hall.yaml) with a
simulated week and a simulated morning:

    .venv/bin/python -m tests.consoles.screens [DIR]      (default docs/screens)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from playwright.sync_api import expect, sync_playwright

from queue_server.db.engine import Database
from queue_server.db.migrate import upgrade
from queue_server.service import HallService
from queue_server.web import users
from tests.consoles.conftest import ADMIN_PASSWORD, CHROMIUM_ARGS, CLERK_PASSWORD
from tests.consoles.simulate import simulate_day
from tests.fixtures_hall import ROOT, start_server, yizhan, yizhan_env
from yizhan.clock import ManualClock
from yizhan.config import load_config

NOW = "2026-11-23T10:30:00+08:00"
NAMES = ["王芳", "李娜", "张伟", "刘洋", "陈静", "杨帆", "赵敏", "黄磊", "周婷", "吴昊", "徐丽", "孙强", "马超"]


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "docs" / "screens"
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="yizhan-screens-"))
    try:
        shutil.copytree(ROOT / "config", tmp / "config")
        state = tmp / "state"
        state.mkdir()
        cfg = load_config(tmp / "config")
        db = Database(f"sqlite:///{state / 'yizhan.db'}")
        upgrade(db.engine)
        now = datetime.fromisoformat(NOW)
        clock = ManualClock(now)
        svc = HallService(cfg, db, clock)
        svc.ensure_windows()
        windows = [w.id for w in cfg.windows][:13]
        clerks = dict(zip(windows, NAMES))
        services = [("GA01", True), ("GA02", True), ("RS01", True), ("ZH01", True), ("ZH02", False), ("YB01", True)]
        for back in range(7, 2, -1):  # Monday–Friday of last week
            day = (now - timedelta(days=back)).replace(hour=8, minute=30)
            simulate_day(svc, clock, day, day.replace(hour=12, minute=0), clerks, services, seed=back, arrivals_per_min=1.6)
            for w in windows:
                clock.advance(600)
                try:
                    svc.finish(w, _actor(clerks[w], w))
                except Exception:
                    pass
        morning = now.replace(hour=8, minute=30)
        simulate_day(svc, clock, morning, now - timedelta(minutes=2), clerks, services + [("BDC01", True)], seed=23, arrivals_per_min=2.2)
        users.create_user(db, now, "wangfang", CLERK_PASSWORD, "clerk", display_name="王芳", window="05")
        db.dispose()
        env = yizhan_env(tmp / "config", state, YIZHAN_ADMIN_PASSWORD=ADMIN_PASSWORD, YIZHAN_NOW=NOW)
        server = start_server(env)
        try:
            kiosk = yizhan("token", "--role", "kiosk", "--device", "kiosk-1", env=env)
            h = {"Authorization": f"Bearer {kiosk}"}
            httpx.post(server.url + "/api/v1/devices/kiosk-1/status", headers=h,
                       json={"kind": "kiosk", "state": "online", "parts": {"printer": {"ok": False, "detail": "缺纸"}, "id_reader": {"ok": True}}})
            shoot(server.url, out)
        finally:
            server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _actor(name: str, window: str):  # type: ignore[no-untyped-def]
    from queue_server.service import Actor

    return Actor("clerk", name, window)


def shoot(url: str, out: Path) -> None:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        ctx = b.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        page = ctx.new_page()
        page.goto(url + "/console")
        page.fill("input[name=username]", "wangfang")
        page.fill("input[name=password]", CLERK_PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("#conn")).to_have_attribute("data-state", "live")
        expect(page.locator("#ticket-number")).not_to_have_text("—")
        page.screenshot(path=str(out / "console.png"))
        page.keyboard.press("4")
        expect(page.locator("#transfer-dialog")).to_be_visible()
        page.keyboard.press("l")
        page.screenshot(path=str(out / "console-transfer.png"))
        page.keyboard.press("Escape")
        expect(page.locator("#transfer-dialog")).to_be_hidden()
        page.keyboard.press("5")  # 办结: the window is free, 叫号 is the thing to press
        expect(page.locator("#ticket-number")).to_have_text("—")
        expect(page.locator("#btn-call")).to_be_enabled()
        page.locator("#toast").evaluate("el => el.hidden = true")
        page.screenshot(path=str(out / "console-ready.png"))
        page.keyboard.press("6")  # 暂停: the clerk says why
        expect(page.locator("#pause-dialog")).to_be_visible()
        page.screenshot(path=str(out / "console-pause.png"))
        page.keyboard.press("2")
        expect(page.locator("#window-state")).to_contain_text("开会")
        ctx.close()

        ctx = b.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        page = ctx.new_page()
        page.goto(url + "/admin")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", ADMIN_PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("#conn")).to_have_attribute("data-state", "live")
        expect(page.locator("#windows tbody tr").first).to_be_visible()
        page.screenshot(path=str(out / "admin.png"), full_page=True)
        page.goto(url + "/admin/stats?period=week&date=2026-11-16")
        page.set_viewport_size({"width": 1366, "height": 1700})
        page.screenshot(path=str(out / "admin-stats.png"))
        page.set_viewport_size({"width": 1366, "height": 900})
        page.goto(url + "/admin/config")
        page.screenshot(path=str(out / "admin-config.png"))
        ctx.close()
        b.close()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
