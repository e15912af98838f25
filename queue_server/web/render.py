"""Jinja2 pages: every string through the console catalogue, autoescaped."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from yizhan.i18n import t

from queue_server import stats
from queue_server.web.sessions import ConsoleSession

HERE = Path(__file__).parent
env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
env.globals["t"] = t
env.filters["minutes"] = stats.minutes
env.filters["percent"] = stats.percent
env.filters["tzinfo"] = ZoneInfo
env.filters["jsonish"] = lambda v: json.dumps(v, ensure_ascii=False)


def page(request: Request, template: str, session: ConsoleSession | None = None, status: int = 200, **context: object) -> HTMLResponse:
    svc = request.app.state.service
    html = env.get_template(template).render(
        request=request, session=session, hall=svc.cfg.hall, csrf=session.csrf if session else "", **context
    )
    resp = HTMLResponse(html, status_code=status)
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Content-Security-Policy"] = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"
    return resp
