"""Fixed example prints: the golden-byte tests, the previews in docs/tickets and the benchmark use them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from kiosk.devices.base import GuidePrint, TicketPrint

_AT = datetime(2026, 11, 23, 9, 5, 12, tzinfo=ZoneInfo("Asia/Shanghai"))

TICKET = TicketPrint(
    hall_name="兰州市政务服务中心",
    number="A012",
    service_name="社会保障卡申领（补换）",
    queue_name="社保综合（A）",
    windows=["05号窗口", "06号窗口", "12号窗口"],
    ahead=5,
    estimated_wait_s=900,
    issued_at=_AT,
    qr_url="https://zwfw.example.gov.cn/t/7f3a9c2e41d0",
    notice="请留意叫号屏幕和语音提示；过号请到咨询台重新排队。",
    masked_name="张*",
)

GUIDE = GuidePrint(
    hall_name="兰州市政务服务中心",
    service_name="城乡居民基本养老保险参保登记",
    service_code="620100-SB-0031",
    service_class="即收即办",
    promised_days=1,
    materials=["居民身份证原件", "户口簿原件及复印件（首页和本人页）", "近期一寸免冠彩色照片 1 张"],
    fees="",
    online=True,
    printed_at=_AT,
)


def main(argv: list[str] | None = None) -> int:
    """Writes the preview PNGs: python -m kiosk.devices.printer.samples docs/tickets"""
    import sys
    from pathlib import Path

    from kiosk.devices.printer.layout import guide_bytes, ticket_bytes
    from kiosk.devices.printer.preview import save_preview

    out = Path((argv if argv is not None else sys.argv[1:] or ["docs/tickets"])[0])
    for mm in (80, 58):
        print(save_preview(ticket_bytes(TICKET, paper_mm=mm), out / f"ticket-{mm}mm.png", mm))
    print(save_preview(guide_bytes(GUIDE, paper_mm=80), out / "guide-80mm.png", 80))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
