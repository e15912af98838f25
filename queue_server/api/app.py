"""The FastAPI application factory: everything the app needs is passed in."""

from __future__ import annotations

import importlib
import logging
import pkgutil

from fastapi import FastAPI

from yizhan.clock import Clock
from yizhan.config.model import HallConfig
from yizhan.settings import Settings

from queue_server.api import routes
from queue_server.api.errors import install_error_handlers
from queue_server.api.limits import BodyLimit
from queue_server.db.engine import Database
from queue_server.service import HallService

logger = logging.getLogger(__name__)

API = "/api/v1"
UPLOAD_LIMIT = 25 * 1024 * 1024


def create_app(cfg: HallConfig, db: Database, clock: Clock, settings: Settings | None = None) -> FastAPI:
    app = FastAPI(
        title="yizhan 一站 queue server",
        version="1",
        openapi_url=f"{API}/openapi.json",
        docs_url=f"{API}/docs",
        redoc_url=None,
    )
    service = HallService(cfg, db, clock)
    service.ensure_windows()
    app.state.service = service
    app.state.db = db
    app.state.clock = clock
    app.state.settings = settings
    install_error_handlers(app)
    # Every module in queue_server/api/routes with a `router` joins the API; modules that serve
    # pages (consoles, phone page, WeChat callback) set `prefix = ""` to sit outside /api/v1.
    for info in sorted(pkgutil.iter_modules(routes.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{routes.__name__}.{info.name}")
        router = getattr(module, "router", None)
        if router is not None:
            app.include_router(router, prefix=getattr(module, "prefix", API))
        setup = getattr(module, "setup", None)
        if setup is not None:
            setup(app)
    app.add_middleware(BodyLimit, large={"/documents": UPLOAD_LIMIT})
    return app
