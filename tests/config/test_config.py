"""The hall's configuration: the shipped hall, and what `yizhan check-config` tells a hall
manager about a broken file (FILE:LINE: key.path: message, the right line, exit 1, never a
traceback)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from yizhan.config import ConfigError, load_config, parse_config
from yizhan.config.model import RealName, ServiceClass, WindowKind

from yizhan.settings import PROJECT_ROOT

SHIPPED_DIR = PROJECT_ROOT / "config"

PROBLEM_RE = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<key>\S+): (?P<message>.+)$")


# --- the shipped hall --------------------------------------------------------------------


@pytest.fixture(scope="module")
def hall():
    return load_config(SHIPPED_DIR)


def test_shipped_hall_validates_with_check_config(check_config):
    run = check_config(str(SHIPPED_DIR))
    assert run.returncode == 0, run.output
    assert "配置正确" in run.stdout
    assert run.stderr == ""


def test_check_config_without_dir_reads_yizhan_config(check_config, shipped_text, write_config):
    broken = write_config(shipped_text.replace("  area_m2: 2100\n", "  area_m2: 2100\n  floor_count: 2\n"))
    run = check_config(env={"YIZHAN_CONFIG": str(broken)})
    assert run.returncode == 1
    assert f"{broken / 'hall.yaml'}:" in run.stderr


def test_shipped_hall_is_a_full_county_hall(hall):
    assert hall.hall.area_m2 == 2100
    assert len(hall.departments) >= 12
    assert len(hall.services) >= 60
    assert len(hall.queues) >= 8
    ordinary = [w.id for w in hall.windows if w.kind is WindowKind.ORDINARY]
    parallel = [w.id for w in hall.windows if w.kind is WindowKind.PARALLEL]
    assert ordinary == [f"{n:02d}" for n in range(1, 35)]
    assert parallel == ["P1", "P2", "P3"]
    names = " ".join(d.name for d in hall.departments)
    for body in ("公安", "人力资源和社会保障", "医疗保障", "不动产", "市场监督", "税务", "公积金", "民政", "交通", "住房和城乡建设", "自然资源", "综合受理"):
        assert body in names, body


def test_every_service_class_is_used_and_days_fit_the_class(hall):
    assert {s.service_class for s in hall.services} == set(ServiceClass)
    for s in hall.services:
        if s.service_class is ServiceClass.IMMEDIATE:
            assert s.promised_days == 0, s.code
        if s.service_class is ServiceClass.TIME_LIMITED:
            assert s.promised_days >= 1, s.code
        assert s.materials, s.code
        if s.statutory_days is not None:
            assert s.statutory_days >= s.promised_days, s.code


def test_about_a_dozen_common_services_for_the_kiosk_home_page(hall):
    common = [s for s in hall.services if s.common]
    assert 10 <= len(common) <= 14
    # the most common matters of a county hall are among them
    names = " ".join(s.name for s in common)
    for matter in ("居民身份证", "社会保障卡", "医疗保险参保", "不动产转移登记", "企业设立", "发票", "公积金提取"):
        assert matter in names, matter


def test_police_real_estate_and_provident_fund_need_an_id_card(hall):
    for s in hall.services:
        if s.department in ("gongan", "budongchan", "gongjijin"):
            assert s.real_name is RealName.REQUIRED, s.code


def test_queues_hours_and_lunch_time_service(hall):
    letters = [q.id for q in hall.queues]
    assert "I" not in letters and "O" not in letters  # they read as 1 and 0 on an LED board
    lunch = [q.id for q in hall.queues if q.hours.lunch is not None]
    assert 1 <= len(lunch) <= 2
    for q in hall.queues:
        assert q.hours.morning is not None and q.hours.afternoon is not None, q.id
        assert hall.windows_for_queue(q.id), q.id
        assert any(s.queue == q.id for s in hall.services), q.id


def test_windows_weigh_their_own_queue_above_helper_queues(hall):
    for w in hall.windows:
        assert max(w.queues.values()) == 3, w.id
    general = [w for w in hall.windows if w.department == "zonghe"]
    assert general and all(len(w.queues) >= 3 for w in general)


def test_every_window_has_a_strip_a_keypad_and_a_caller(hall):
    ids = {w.id for w in hall.windows}
    assert len(hall.kiosks) == 1
    (display,) = hall.displays
    assert set(display.window_strips.windows) == ids
    assert display.led_board and display.tv and display.voice
    assert len(set(display.window_strips.windows.values())) == len(ids)
    (bus,) = hall.keypad_buses
    assert bus.port == "simulator"
    assert set(bus.windows) == ids
    addresses = [a for k in bus.windows.values() for a in (k.keypad, k.caller)]
    assert None not in addresses and len(set(addresses)) == len(addresses)


# --- broken copies of the shipped hall ------------------------------------------------------


def _mutate(text: str, old: str, new: str, marker: str | None = None) -> tuple[str, int]:
    """Replaces the only occurrence of `old`; returns the text and the 1-based line of `marker`
    (default: the first line of `new`) in the result."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    out = text.replace(old, new)
    needle = marker if marker is not None else new.splitlines()[0]
    # a marker that occurs once anywhere (e.g. the mapping that lost a key), else the one at the change
    at = out.index(needle) if out.count(needle) == 1 else out.index(needle, text.index(old))
    return out, out.count("\n", 0, at) + 1


CASES = [
    pytest.param(
        "  area_m2: 2100\n", "  area_m2: 2100\n  area_m3: 2100\n", "  area_m3", "hall.area_m3", ("未知的键", "area_m2"),
        id="unknown-key",
    ),
    pytest.param(
        "    name: 社保就业\n    name_en: Social Security & Employment\n",
        "    name_en: Social Security & Employment\n",
        "  - id: B\n", "queues[1].name", ("缺少必填项", "queues[1]"),
        id="missing-required-key",
    ),
    pytest.param(
        '  - id: "02"\n', '  - id: "01"\n', None, "windows[1].id", ("窗口号 '01' 重复", "windows[0]"),
        id="duplicate-window-id",
    ),
    pytest.param(
        "  - id: C\n    name: 医疗保障\n", "  - id: B\n    name: 医疗保障\n", "  - id: B\n    name: 医疗", "queues[2].id", ("队列前缀", "重复"),
        id="duplicate-queue-prefix",
    ),
    pytest.param(
        "  - code: GA01\n    name: 居民身份证换领（有效期满）\n    name_en: Renew resident ID card (expired)\n    department: gongan\n    queue: A\n",
        "  - code: GA01\n    name: 居民身份证换领（有效期满）\n    name_en: Renew resident ID card (expired)\n    department: gongan\n    queue: Z\n",
        "    queue: Z", "services[0].queue", ("队列 'Z' 未定义", "A, B"),
        id="service-unknown-queue",
    ),
    pytest.param(
        "    name_en: Renew resident ID card (expired)\n    department: gongan\n",
        "    name_en: Renew resident ID card (expired)\n    department: police\n",
        "    department: police", "services[0].department", ("部门 'police' 未定义", "gongan"),
        id="service-unknown-department",
    ),
    pytest.param(
        "      lunch: 12:00-14:00           # 午休延时服务: ID cards",
        "      lunch: 11:30-14:00           # 午休延时服务: ID cards",
        "      lunch: 11:30", "queues[0].hours.lunch", ("时段重叠", "12:00"),
        id="overlapping-hours",
    ),
    pytest.param(
        "    name_en: Social Security & Employment\n    hours:\n      morning: 08:30-12:00\n",
        "    name_en: Social Security & Employment\n    hours:\n      morning: 8.30-12:00\n",
        "      morning: 8.30", "queues[1].hours.morning", ("HH:MM-HH:MM", "08:30-12:00"),
        id="bad-time-format",
    ),
    pytest.param(
        "  name_en: Qinglan County", " name_en: Qinglan County", " name_en: Qinglan", "(top)", ("YAML 语法错误", "缩进"),
        id="yaml-syntax-error-indentation",
    ),
    pytest.param(
        "  area_m2: 2100\n", "\tarea_m2: 2100\n", "\tarea_m2", "(top)", ("YAML 语法错误", "Tab"),
        id="yaml-tab",
    ),
    pytest.param(
        "  area_m2: 2100\n", "  area_m2: 2100\n  area_m2: 2300\n", "  area_m2: 2300", "hall.area_m2", ("重复", "覆盖"),
        id="duplicate-yaml-key",
    ),
    pytest.param(
        '  - id: "02"\n', "  - id: 02\n", "  - id: 02", "windows[1].id", ("应为文字", '"02"'),
        id="window-id-without-quotes",
    ),
    pytest.param(
        "  - code: GA05\n    name: 出生登记（新生儿落户）\n    name_en: Birth registration\n    department: gongan\n    queue: A\n    class: 即收即办\n    promised_days: 0\n",
        "  - code: GA05\n    name: 出生登记（新生儿落户）\n    name_en: Birth registration\n    department: gongan\n    queue: A\n    class: 即收即办\n    promised_days: 5\n",
        "    promised_days: 5", "services[4].promised_days", ("即收即办", "限时办结"),
        id="class-and-days-disagree",
    ),
    pytest.param(
        "    printer:\n      address: simulator\n", "    printer:\n      adress: simulator\n", "      adress", "kiosks[0].printer.adress",
        ("未知的键", "address"),
        id="device-typo",
    ),
    pytest.param(
        "      - type: simulator\n", "      - type: camera\n", "      - type: camera", "kiosks[0].card_readers[0].type",
        ("serial_sam", "pcsc", "simulator"),
        id="unknown-reader-type",
    ),
    pytest.param(
        "        P3: 37\n    tv:", "        P9: 37\n    tv:", "        P9", "displays[0].window_strips.windows.P9", ("窗口 'P9' 未定义",),
        id="strip-for-unknown-window",
    ),
    pytest.param(
        '      "05": {keypad: 5, caller: 105}\n', '      "05": {keypad: 5, caller: 104}\n', '      "05": {keypad: 5, caller: 104}',
        "keypad_buses[0].windows.05.caller", ("总线地址 104", "窗口 04 的叫号器"),
        id="two-devices-on-one-bus-address",
    ),
]


@pytest.mark.parametrize(("old", "new", "marker", "key", "words"), CASES)
def test_check_config_names_file_line_key_and_fix(check_config, shipped_text, write_config, old, new, marker, key, words):
    text, line = _mutate(shipped_text, old, new, marker)
    d = write_config(text)
    run = check_config(str(d))
    assert run.returncode == 1, run.output
    assert "Traceback" not in run.output
    assert run.stdout == ""
    problems = [PROBLEM_RE.match(x) for x in run.stderr.splitlines() if x.strip() and not x.startswith("配置有")]
    assert problems and all(problems), run.stderr
    first = next(p for p in problems if p["key"] == key)
    assert first["file"] == str(d / "hall.yaml")
    assert int(first["line"]) == line, run.stderr
    for w in words:
        assert w in first["message"], (w, first["message"])
    assert re.search(r"[\u4e00-\u9fff]", first["message"])
    assert f"配置有 {len(problems)} 处错误" in run.stderr


def test_empty_file(check_config, write_config):
    d = write_config("")
    run = check_config(str(d))
    assert run.returncode == 1
    assert "Traceback" not in run.output
    assert run.stderr.splitlines()[0] == f"{d / 'hall.yaml'}:1: (top): 配置文件是空的；请从仓库里的 config/hall.yaml 复制一份再修改"


def test_file_with_only_comments(check_config, write_config):
    d = write_config("# 青岚县\n# 待填写\n")
    run = check_config(str(d))
    assert run.returncode == 1 and "Traceback" not in run.output
    assert run.stderr.startswith(f"{d / 'hall.yaml'}:1: (top): 配置文件里只有注释")


def test_missing_file_and_directory(check_config, tmp_path):
    run = check_config(str(tmp_path / "nowhere"))
    assert run.returncode == 1 and "Traceback" not in run.output
    assert "找不到配置文件" in run.stderr and "YIZHAN_CONFIG" in run.stderr


def test_not_utf8(check_config, tmp_path, shipped_text):
    (tmp_path / "hall.yaml").write_bytes(shipped_text.encode("gb18030"))
    run = check_config(str(tmp_path))
    assert run.returncode == 1 and "Traceback" not in run.output
    assert "UTF-8" in run.stderr


# --- a small hall with literal line numbers --------------------------------------------------

SMALL = """\
version: 1
hall:
  id: test-hall
  name: 测试县政务服务中心
departments:
  - id: gongan
    name: 县公安局
queues:
  - id: A
    name: 户政
    hours:
      morning: 08:30-12:00
      afternoon: 14:00-17:30
    daily_cap: 100
services:
  - code: GA01
    name: 居民身份证换领
    department: gongan
    queue: A
    class: 限时办结
    promised_days: 20
    materials: [居民户口簿]
windows:
  - id: "01"
    queues: {A: 3}
"""


def test_small_hall_is_valid():
    cfg = parse_config(SMALL)
    assert cfg.window("01").display_name == "1号窗口"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("    daily_cap: 100\n", "    daily_cap: 100\n    colour: red\n", "hall.yaml:15: queues[0].colour: 未知的键 'colour'"),
        ("    daily_cap: 100\n", "", "hall.yaml:9: queues[0].daily_cap: 缺少必填项 daily_cap"),
        ("    daily_cap: 100\n", "    daily_cap: 0\n", "hall.yaml:14: queues[0].daily_cap: 数值 0 太小；应不小于 1"),
        ("      afternoon: 14:00-17:30\n", "      afternoon: 11:00-17:30\n", "hall.yaml:13: queues[0].hours.afternoon: 时段重叠"),
        ("      morning: 08:30-12:00\n", "      morning: 8:30\n", "hall.yaml:12: queues[0].hours.morning: 时段应写成 HH:MM-HH:MM"),
        ("      morning: 08:30-12:00\n", "      morning: 12:30-08:00\n", "hall.yaml:12: queues[0].hours.morning: '12:30-08:00': 开始时间必须早于结束时间"),
        ("      morning: 08:30-12:00\n", "      morning: 08:30-25:00\n", "hall.yaml:12: queues[0].hours.morning: '08:30-25:00': 时间不存在"),
        ("    queue: A\n", "    queue: B\n", "hall.yaml:19: services[0].queue: 队列 'B' 未定义；可选：A"),
        ("  - id: A\n", "  - id: a\n", "hall.yaml:9: queues[0].id: 'a' 不是队列前缀"),
        ("    queues: {A: 3}\n", "    queues: {A: 3, B: 1}\n", "hall.yaml:25: windows[0].queues.B: 队列 'B' 未定义"),
        ("    materials: [居民户口簿]\n", "    materials: []\n", "hall.yaml:22: services[0].materials: 至少需要 1 项"),
        ("  name: 测试县政务服务中心\n", "  name: 测试县政务服务中心\n  timezone: Asia/Beijing\n", "hall.yaml:5: hall.timezone: 未知时区 'Asia/Beijing'"),
        ("    class: 限时办结\n", "    class: 马上办\n", "hall.yaml:20: services[0].class: 取值 '马上办' 不在允许范围内；可选：即收即办, 当日办结, 限时办结, 代办服务"),
        # the hall's calendar: a date that does not exist, a day both closed and worked
        ("departments:\n", "calendar:\n  holidays: [2026-12-31, 2026-13-01]\ndepartments:\n",
         "hall.yaml:6: calendar.holidays[1]: 日期 '2026-13-01' 不对；请写成 年-月-日，例如 2026-12-31"),
        ("departments:\n", "calendar:\n  holidays: [2026-12-31]\n  workdays:\n    - 2026-12-31\ndepartments:\n",
         "hall.yaml:5: calendar: 2026-12-31 既写在 holidays 又写在 workdays"),
    ],
)
def test_small_hall_errors_have_exact_lines(old, new, expected):
    assert SMALL.count(old) == 1
    with pytest.raises(ConfigError) as info:
        parse_config(SMALL.replace(old, new), "hall.yaml")
    lines = [str(p) for p in info.value.problems]
    assert any(x.startswith(expected) for x in lines), lines


def test_unclosed_flow_mapping_points_at_the_line_yaml_stops():
    text = SMALL.replace("    queues: {A: 3}\n", "    queues: {A: 3\n")
    with pytest.raises(ConfigError) as info:
        parse_config(text, "hall.yaml")
    (problem,) = info.value.problems
    # PyYAML notices the missing '}' at the end of the document (line 26, after the last line)
    assert problem.line == 26 and problem.key == ""
    assert problem.message.startswith("YAML 语法错误")


def test_every_error_is_listed_in_line_order(check_config, write_config):
    text = (
        SMALL.replace("  name: 测试县政务服务中心\n", "  name: 测试县政务服务中心\n  nmae: x\n")
        .replace("    queue: A\n", "    queue: Q\n")
        .replace('  - id: "01"\n', '  - id: "01"\n    kind: express\n')
    )
    d = write_config(text)
    run = check_config(str(d))
    assert run.returncode == 1 and "Traceback" not in run.output
    lines = run.stderr.strip().splitlines()
    assert lines[-1] == "配置有 3 处错误 / 3 error(s)"
    got = [(m["line"], m["key"]) for m in map(PROBLEM_RE.match, lines[:-2])]
    assert got == [("5", "hall.nmae"), ("20", "services[0].queue"), ("26", "windows[0].kind")]


def test_config_error_is_an_exception_with_all_problems():
    with pytest.raises(ConfigError) as info:
        parse_config("hall: [\n", "x.yaml")
    assert str(info.value).startswith("x.yaml:")


def test_loader_reads_from_a_path(tmp_path: Path):
    (tmp_path / "hall.yaml").write_text(SMALL, encoding="utf-8")
    assert load_config(tmp_path).hall.id == "test-hall"


def test_a_broken_queue_still_resolves_references_to_it():
    # Queue A has a field error; the service on queue A must not be reported as pointing
    # at an unknown queue, and the listed choices still name A.
    text = SMALL.replace("    daily_cap: 100\n", "    daily_cap: lots\n").replace(
        "windows:\n", "  - code: GA02\n    name: 补领\n    department: gongan\n    queue: X\n    class: 即收即办\n"
        "    promised_days: 0\n    materials: [户口簿]\nwindows:\n"
    )
    with pytest.raises(ConfigError) as info:
        parse_config(text, "hall.yaml")
    lines = [str(p) for p in info.value.problems]
    assert lines == [
        "hall.yaml:14: queues[0].daily_cap: 应为整数，现在是 'lots'；例如 3",
        "hall.yaml:26: services[1].queue: 队列 'X' 未定义；可选：A",
    ]


def test_no_edit_of_the_shipped_file_ends_in_a_traceback(shipped_text):
    # Random slips a person makes in an editor (deleted, doubled, mis-indented lines, stray
    # brackets): every outcome is either a valid hall or a list of located Chinese messages.
    import random

    base = shipped_text.splitlines(keepends=True)
    rng = random.Random(20260302)
    junk = [" ]", " {", " &a", " *b", " !!python/object:os.system x", ": :", " '", "\t"]
    outcomes = {"valid": 0, "errors": 0}
    for _ in range(150):
        lines = list(base)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(lines))
            op = rng.choice(["del", "dup", "indent", "dedent", "colon", "swap", "junk"])
            if op == "del":
                del lines[i]
            elif op == "dup":
                lines.insert(i, lines[i])
            elif op == "indent":
                lines[i] = "  " + lines[i]
            elif op == "dedent":
                lines[i] = lines[i][2:]
            elif op == "colon":
                lines[i] = lines[i].replace(":", "", 1)
            elif op == "swap":
                j = rng.randrange(len(lines))
                lines[i], lines[j] = lines[j], lines[i]
            else:
                lines[i] = lines[i].rstrip("\n") + rng.choice(junk) + "\n"
        text = "".join(lines)
        try:
            parse_config(text, "hall.yaml")
            outcomes["valid"] += 1
        except ConfigError as exc:
            outcomes["errors"] += 1
            assert exc.problems
            for p in exc.problems:
                assert 1 <= p.line <= len(lines) + 1, str(p)
                assert re.search(r"[\u4e00-\u9fff]", p.message), str(p)
    assert outcomes["errors"] > 100
