"""The kiosk's scan screen, without the window: preview rate of the camera thread, capture time,
PDF size and the upload to a real `yizhan server` (SQLite, started here).

    .venv/bin/python bench/kiosk_scan.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from pathlib import Path

from kiosk.core.api import ApiClient
from kiosk.core.localserver import LocalServer
from kiosk.core.scan import CameraFeed, make_page
from kiosk.devices.camera.document import Document
from kiosk.devices.camera.sources import SimulatedCamera

HALL = Path(__file__).resolve().parent.parent / "tests" / "kiosk" / "hall"
NOW = "2026-11-23T09:30:00+08:00"


def preview_rate(width: int, height: int, seconds: float = 8.0) -> tuple[float, int]:
    autos = []
    feed = CameraFeed(SimulatedCamera(width, height), on_auto=lambda: None, post=autos.append).start()
    time.sleep(1.0)  # warm-up
    s0 = feed.snapshot().seq
    t0 = time.monotonic()
    time.sleep(seconds)
    rate = (feed.snapshot().seq - s0) / (time.monotonic() - t0)
    feed.stop()
    return rate, len(autos)


def capture_ms(width: int, height: int, n: int = 10) -> tuple[float, list]:
    cam = SimulatedCamera(width, height)
    pages, times = [], []
    from kiosk.devices.camera import detect

    while len(times) < n:
        frame = cam.read()
        corners = detect(frame)
        if corners is None:
            continue
        t0 = time.perf_counter()
        pages.append(make_page(frame, corners))
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), pages


def main() -> None:
    for w, h in ((1280, 720), (1920, 1080)):
        rate, autos = preview_rate(w, h)
        med, pages = capture_ms(w, h)
        print(f"{w}x{h}: camera thread {rate:.1f} frames/s (paced at 15), {autos} auto-captures in 8 s; "
              f"capture (flatten + clean) median {med:.0f} ms")
    doc = Document(pages[:3])
    t0 = time.perf_counter()
    pdf = doc.pdf()
    pdf_ms = (time.perf_counter() - t0) * 1000
    print(f"3-page PDF (1920x1080 frames): {len(pdf) / 1024:.0f} KiB, built in {pdf_ms:.0f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        srv = LocalServer(HALL, NOW, state_dir=Path(tmp) / "server")
        srv.start()
        try:
            api = ApiClient(srv.url, srv.token("kiosk", "kiosk-1"))
            times = []
            for _ in range(5):
                ticket = api.take_ticket("SB002", uuid.uuid4().hex)
                t0 = time.perf_counter()
                api.upload_document(ticket["id"], doc)
                times.append((time.perf_counter() - t0) * 1000)
            print(f"提交 (PDF + POST to the local server), 5 uploads: median {statistics.median(times):.0f} ms, "
                  f"max {max(times):.0f} ms")
            api.close()
        finally:
            srv.stop()


if __name__ == "__main__":
    main()
