"""Jobs the server runs once a day (and at start): purging what must not be kept.

A job runs at start, then shortly after each local midnight; it is also tried every
`RETRY_EVERY_S` so a job that failed (a busy database) runs again the same day. Jobs are
idempotent: several server processes on one database may each run them.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, time, timedelta
from typing import Callable

from queue_server.service import HallService

logger = logging.getLogger(__name__)

RETRY_EVERY_S = 600


async def daily(service: HallService, job: Callable[[], object], what: str) -> None:
    """Runs `job` (blocking, in a thread) once per local day; never returns until cancelled."""
    done: date | None = None
    while True:
        today = service.today()
        if done != today:
            try:
                await asyncio.to_thread(job)
                done = today
            except Exception:
                logger.exception("%s failed; will try again", what)
        now = service.now()
        midnight = datetime.combine(now.date() + timedelta(days=1), time(0, 0, 5), tzinfo=now.tzinfo)
        await asyncio.sleep(max(1.0, min(RETRY_EVERY_S, (midnight - now).total_seconds())))


def run_daily(app, job: Callable[[], object], what: str) -> None:  # type: ignore[no-untyped-def]
    """Starts `daily(job)` with the app and cancels it when the app stops."""
    tasks: list[asyncio.Task] = []

    async def start() -> None:
        tasks.append(asyncio.create_task(daily(app.state.service, job, what), name=f"yizhan-daily-{what}"))

    async def stop() -> None:
        for task in tasks:
            task.cancel()

    app.router.on_startup.append(start)
    app.router.on_shutdown.append(stop)
