"""Tickets: issue (kiosk), look up, rate, record a failed print, cancel, rejoin after a skip."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from queue_server.api.auth import require
from queue_server.api.schemas import PrintStatusRequest, RatingRequest, TicketRequest, ticket_json
from queue_server.api.urls import phone_url
from queue_server.service import Actor, IdentityIn
from queue_server.tokens import Principal

router = APIRouter()


def actor_of(p: Principal) -> Actor:
    return Actor(role=p.role, name=p.name, window=p.window)


def issued_json(request: Request, ticket, ahead: int, wait_s: int) -> dict:  # type: ignore[no-untyped-def]
    cfg = request.app.state.service.cfg
    body = ticket_json(cfg, ticket)
    body |= {
        "ahead": ahead,
        "estimated_wait_s": wait_s,
        "windows": [w.id for w in cfg.windows_for_queue(ticket.queue)],
        "window_names": [w.display_name for w in cfg.windows_for_queue(ticket.queue)],
        "queue_name": cfg.queue(ticket.queue).name,
        "follow_url": phone_url(request, ticket.token),
    }
    return body


@router.post("/tickets", status_code=201)
def issue(body: TicketRequest, request: Request, p: Principal = Depends(require("kiosk", "admin"))) -> JSONResponse:
    identity = IdentityIn(**body.identity.model_dump()) if body.identity else None
    ticket, ahead, wait_s, created = request.app.state.service.issue_ticket(body.service, body.idempotency_key, identity, body.source)
    return JSONResponse(issued_json(request, ticket, ahead, wait_s), status_code=201 if created else 200)


@router.get("/tickets/{ticket_id}")
def get_ticket(ticket_id: int, request: Request, _p: Principal = Depends(require("kiosk", "clerk", "admin"))) -> dict:
    svc = request.app.state.service
    ticket, ahead, wait_s = svc.ticket_position(ticket_id)
    return ticket_json(svc.cfg, ticket, svc.ticket_history(ticket_id)) | {"ahead": ahead, "estimated_wait_s": wait_s}


@router.post("/tickets/{ticket_id}/rating", status_code=201)
def rate(ticket_id: int, body: RatingRequest, request: Request, p: Principal = Depends(require("device", "kiosk", "admin"))) -> dict:
    rating, followup = request.app.state.service.rate(ticket_id, body.score, "keypad" if p.role == "device" else p.role)
    return {
        "ticket_id": ticket_id,
        "score": rating.score,
        "window": rating.window,
        "clerk": rating.clerk,
        "followup": {"id": followup.id, "deadline": followup.deadline.isoformat()} if followup else None,
    }


@router.post("/tickets/{ticket_id}/print-status")
def print_status(ticket_id: int, body: PrintStatusRequest, request: Request, p: Principal = Depends(require("kiosk"))) -> dict:
    ticket = request.app.state.service.record_print(ticket_id, body.printed, body.error, actor_of(p))
    return {"id": ticket.id, "print_failed": ticket.print_failed}


@router.post("/tickets/{ticket_id}/cancel")
def cancel(ticket_id: int, request: Request, p: Principal = Depends(require("kiosk", "admin"))) -> dict:
    svc = request.app.state.service
    return ticket_json(svc.cfg, svc.cancel(ticket_id, actor_of(p)))


@router.post("/tickets/{ticket_id}/rejoin")
def rejoin(ticket_id: int, request: Request, p: Principal = Depends(require("clerk", "admin", "kiosk"))) -> dict:
    svc = request.app.state.service
    return ticket_json(svc.cfg, svc.rejoin(ticket_id, actor_of(p)))
