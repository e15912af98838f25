"""Window actions: open, pause, close, call next, call a number, recall, start, skip, finish, transfer."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from queue_server.api.auth import may_act_on_window, require
from queue_server.api.routes.tickets import actor_of
from queue_server.api.schemas import CallRequest, PauseRequest, TransferRequest, ticket_json, window_json
from queue_server.domain.model import WindowState
from queue_server.tokens import Principal

router = APIRouter()
ACTORS = ("clerk", "admin", "device")


def _guard(request: Request, p: Principal, window: str):  # type: ignore[no-untyped-def]
    may_act_on_window(request, p, window)
    return request.app.state.service


def _window_state(request: Request, window: str, p: Principal, state: WindowState, reason: str | None = None) -> dict:
    svc = _guard(request, p, window)
    svc.set_window_state(window, state, actor_of(p), reason)
    row, cur = next((r, c) for r, c in svc.windows_live() if r.id == window)
    return window_json(svc.cfg, row, cur)


@router.post("/windows/{window}/open")
def open_window(window: str, request: Request, p: Principal = Depends(require(*ACTORS))) -> dict:
    return _window_state(request, window, p, WindowState.OPEN)


@router.post("/windows/{window}/pause")
def pause_window(window: str, request: Request, body: PauseRequest | None = None, p: Principal = Depends(require(*ACTORS))) -> dict:
    return _window_state(request, window, p, WindowState.PAUSED, body.reason if body else None)


@router.post("/windows/{window}/close")
def close_window(window: str, request: Request, p: Principal = Depends(require(*ACTORS))) -> dict:
    return _window_state(request, window, p, WindowState.CLOSED)


@router.post("/windows/{window}/call-next", responses={204: {"description": "nobody waits"}})
def call_next(window: str, request: Request, p: Principal = Depends(require(*ACTORS))):  # type: ignore[no-untyped-def]
    svc = _guard(request, p, window)
    result = svc.call_next(window, actor_of(p))
    if result is None:
        return Response(status_code=204)
    ticket, choice = result
    return {"ticket": ticket_json(svc.cfg, ticket), "reason": choice.reason(), "rule": choice.rule}


@router.post("/windows/{window}/call")
def call_number(window: str, body: CallRequest, request: Request, p: Principal = Depends(require(*ACTORS))) -> dict:
    svc = _guard(request, p, window)
    ticket = svc.call_specific(window, actor_of(p), number=body.number, ticket_id=body.ticket_id)
    return {"ticket": ticket_json(svc.cfg, ticket), "reason": svc.ticket_history(ticket.id)[-1].detail.get("reason", ""), "rule": "specific"}


@router.post("/windows/{window}/recall")
def recall(window: str, request: Request, p: Principal = Depends(require(*ACTORS))) -> dict:
    svc = _guard(request, p, window)
    return ticket_json(svc.cfg, svc.recall(window, actor_of(p)))


@router.post("/windows/{window}/start")
def start(window: str, request: Request, p: Principal = Depends(require(*ACTORS))) -> dict:
    svc = _guard(request, p, window)
    return ticket_json(svc.cfg, svc.start_serving(window, actor_of(p)))


@router.post("/windows/{window}/skip")
def skip(window: str, request: Request, p: Principal = Depends(require(*ACTORS))) -> dict:
    svc = _guard(request, p, window)
    return ticket_json(svc.cfg, svc.skip(window, actor_of(p)))


@router.post("/windows/{window}/finish")
def finish(window: str, request: Request, p: Principal = Depends(require(*ACTORS))) -> dict:
    svc = _guard(request, p, window)
    return ticket_json(svc.cfg, svc.finish(window, actor_of(p)))


@router.post("/windows/{window}/transfer")
def transfer(window: str, body: TransferRequest, request: Request, p: Principal = Depends(require(*ACTORS))) -> dict:
    svc = _guard(request, p, window)
    return ticket_json(svc.cfg, svc.transfer(window, actor_of(p), body.queue.upper(), body.position))
