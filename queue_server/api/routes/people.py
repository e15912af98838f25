"""Appointment check-in, case lookup (办件进度) and device status reports."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from queue_server.api.auth import require
from queue_server.api.routes.tickets import issued_json
from queue_server.api.schemas import CheckInRequest, DeviceStatusRequest
from queue_server.service import CommandError, IdentityIn
from queue_server.tokens import Principal

router = APIRouter()


@router.post("/appointments/check-in", status_code=201)
def check_in(body: CheckInRequest, request: Request, _p: Principal = Depends(require("kiosk"))) -> JSONResponse:
    ticket, ahead, wait_s, created = request.app.state.service.check_in(IdentityIn(**body.identity.model_dump()), body.idempotency_key)
    return JSONResponse(issued_json(request, ticket, ahead, wait_s), status_code=201 if created else 200)


@router.get("/cases")
def cases(
    request: Request,
    id_hash: str | None = Query(None, pattern=r"^[0-9a-f]{64}$"),
    case_number: str | None = Query(None, max_length=40),
    _p: Principal = Depends(require("kiosk", "admin", "clerk")),
) -> list[dict]:
    svc = request.app.state.service
    cfg = svc.cfg
    out = []
    for c in svc.cases_for(id_hash=id_hash, case_number=case_number):
        try:
            name = cfg.service(c.service).name
        except StopIteration:
            name = c.service
        out.append({
            "case_number": c.case_number, "service": c.service, "service_name": name, "masked_name": c.masked_name,
            "accepted_at": c.accepted_at.isoformat(), "deadline": c.deadline.isoformat(), "status": c.status,
            "finished_at": c.finished_at.isoformat() if c.finished_at else None,
        })
    return out


@router.post("/devices/{device}/status")
def device_status(device: str, body: DeviceStatusRequest, request: Request, p: Principal = Depends(require("kiosk", "device", "display", "admin"))) -> dict:
    if p.role != "admin" and p.device and p.device != device:
        raise CommandError(403, "forbidden")
    request.app.state.service.device_status(device, body.kind, body.state, body.parts)
    return {"device": device, "state": body.state}
