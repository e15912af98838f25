"""Real headless Chromium (Debian's) for the browser tests, one launch recipe for every suite, and
where screenshots go: docs/screens/ with YIZHAN_SCREENS=1, else the test's temp dir (ordinary
runs leave the tree clean)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
DOC_SCREENS = Path(__file__).resolve().parent.parent / "docs" / "screens"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture
def browser():
    # Per test: Playwright's sync API keeps an event loop running in the main thread while it is
    # open, and tests/conftest.py rightly fails a test that leaves one running.
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make test installs it)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def screens(tmp_path: Path) -> Path:
    return DOC_SCREENS if os.environ.get("YIZHAN_SCREENS") else tmp_path
