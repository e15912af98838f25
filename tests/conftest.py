"""Checks shared by the whole suite."""

from __future__ import annotations

import asyncio

import pytest
from playwright.sync_api import expect

# Browser assertions wait for the page; on a shared, loaded CI machine 5 s (Playwright's default) is short.
expect.set_options(timeout=30_000)


@pytest.fixture(autouse=True)
def _no_event_loop_left_running(request):
    """A test must not leave an asyncio loop running in the main thread: the next test's
    synchronous clients (Playwright's sync API among them) would refuse to start."""
    yield
    loop = asyncio._get_running_loop()
    if loop is not None:
        asyncio._set_running_loop(None)
        pytest.fail(f"{request.node.nodeid} left an asyncio event loop running in the main thread")
