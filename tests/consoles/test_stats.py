"""Statistics for a simulated day, opened in the manager's console and compared with figures
the test computes itself from its own log of the day; exports carry the same figures."""

from __future__ import annotations

import io
from datetime import datetime
from statistics import mean

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from queue_server.db.engine import Database
from queue_server.db.migrate import upgrade
from queue_server.service import HallService
from tests.consoles.conftest import ADMIN_PASSWORD, Hall, login
from tests.consoles.simulate import p90, simulate_day
from tests.fixtures_hall import small_hall
from yizhan.clock import ManualClock
from yizhan.config.model import HallConfig

pytestmark = pytest.mark.browser
FRIDAY = datetime.fromisoformat("2026-11-20T08:30:00+08:00")
CLERKS = {"01": "王芳", "02": "李娜", "03": "张伟"}


@pytest.fixture
def simulated(tmp_path):
    cfg_dict = small_hall(windows=4)
    hall = Hall(tmp_path, cfg_dict)
    hall.state_dir.mkdir(parents=True)
    db = Database(f"sqlite:///{hall.state_dir / 'yizhan.db'}")
    upgrade(db.engine)
    clock = ManualClock(FRIDAY)
    svc = HallService(HallConfig.model_validate(cfg_dict), db, clock)
    svc.ensure_windows()
    log = simulate_day(svc, clock, FRIDAY, FRIDAY.replace(hour=11, minute=30), CLERKS, [("RS01", False), ("GA01", True)])
    db.dispose()
    hall.start()
    yield hall, log
    hall.close()


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f}"


def test_statistics_page_matches_the_day(simulated, browser):
    hall, log = simulated
    tickets = list(log.tickets.values())
    waits = [(x.first_call - x.issued).total_seconds() for x in tickets if x.first_call]
    services = [(x.finished - x.last_call).total_seconds() for x in tickets if x.finished]
    served = [x for x in tickets if x.finished]
    no_shows = [x for x in tickets if x.skipped and not x.finished]
    gave_up = [x for x in tickets if x.gave_up]
    good = sum(1 for s in log.scores if s >= 3)
    assert len(tickets) > 100 and no_shows and gave_up and any(s <= 2 for s in log.scores)  # the day exercises every figure

    page = login(browser, hall.url, "admin", ADMIN_PASSWORD, path="/admin/stats?period=day&date=2026-11-20")
    expect(page.locator("#period-label")).to_have_text("2026年11月20日")
    expect(page.locator("#s-issued")).to_have_text(str(len(tickets)))
    expect(page.locator("#s-served")).to_have_text(str(len(served)))
    expect(page.locator("#s-no-shows")).to_have_text(str(len(no_shows)))
    expect(page.locator("#s-gave-up")).to_have_text(str(len(gave_up)))
    expect(page.locator("#s-avg-wait")).to_have_text(minutes(mean(waits)))
    expect(page.locator("#s-p90-wait")).to_have_text(minutes(p90(waits)))
    expect(page.locator("#s-avg-service")).to_have_text(minutes(mean(services)))
    expect(page.locator("#s-p90-service")).to_have_text(minutes(p90(services)))
    expect(page.locator("#s-good-rate")).to_have_text(f"{good * 100 / len(log.scores):.1f}%")
    for w, name in CLERKS.items():
        mine = [x for x in served if x.window == w]
        row = page.locator(f"#t-window tr[data-key='{w}']")
        expect(row.locator("td[data-f=served]")).to_have_text(str(len(mine)))
        expect(page.locator(f"#t-clerk tr[data-key='{name}'] td[data-f=served]")).to_have_text(str(len(mine)))
        scores = [x.score for x in mine if x.score is not None]
        expect(row.locator("td[data-f=good_rate]")).to_have_text(f"{sum(1 for s in scores if s >= 3) * 100 / len(scores):.1f}%")
    for score in range(1, 6):
        expect(page.locator(f"#t-sat tr[data-score='{score}'] td.n")).to_have_text(str(log.scores.count(score)))
    by_hour: dict[int, int] = {}
    for x in tickets:
        by_hour[x.issued.hour] = by_hour.get(x.issued.hour, 0) + 1
    busiest = max(by_hour, key=lambda h: (by_hour[h], -h))
    expect(page.locator("#s-busiest")).to_contain_text(f"{busiest}:00–{busiest + 1}:00")
    expect(page.locator("#chart-wait svg rect")).not_to_have_count(0)

    # 差评整改: one per bad rating, with a deadline; the manager closes one with a note.
    followups = page.locator("#t-followups tr[data-followup]")
    expect(followups).to_have_count(sum(1 for s in log.scores if s <= 2))
    first = followups.first
    expect(first).to_contain_text("2026-11-25")  # rated on Friday 20 November: 3 working days later
    first.locator("input[name=note]").fill("已电话回访，窗口人员已整改")
    first.locator("button[type=submit]").click()
    expect(page.locator("#notice")).to_contain_text("已办结")
    expect(page.locator("#t-followups tr[data-followup]").first).to_contain_text("已整改")

    # Exports carry the same figures.
    with page.expect_download() as dl:
        page.click("#export-xlsx")
    wb = load_workbook(io.BytesIO(open(dl.value.path(), "rb").read()))
    overview = {row[0]: row[1] for row in wb["概览"].iter_rows(values_only=True)}
    assert overview["取号数"] == len(tickets) and overview["办结数"] == len(served) and overview["过号/未到"] == len(no_shows)
    assert overview["放弃排队"] == len(gave_up)
    assert overview["平均等候(分钟)"] == round(mean(waits) / 60, 1)
    assert set(wb.sheetnames) >= {"按队列", "按窗口", "按工作人员", "按小时", "满意度", "差评整改", "流动红旗"}
    with page.expect_download() as dl:
        page.click("#export-csv")
    csv_text = open(dl.value.path(), encoding="utf-8-sig").read()
    assert f"取号数,{len(tickets)}" in csv_text and "【流动红旗】" in csv_text
    assert page.js_errors == []
    page.context.close()
