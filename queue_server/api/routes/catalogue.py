"""The catalogue (services, queues, windows) with live state."""

from fastapi import APIRouter, Depends, Request

from queue_server.api.auth import require
from queue_server.api.schemas import window_json
from queue_server.domain.hours import hours_text

router = APIRouter()
READERS = ("kiosk", "clerk", "admin", "display", "device", "wechat")


@router.get("/services")
def services(request: Request, _p=Depends(require(*READERS))) -> list[dict]:
    cfg = request.app.state.service.cfg
    deps = {d.id: d for d in cfg.departments}
    return [
        {
            "code": s.code,
            "name": s.name,
            "name_en": s.name_en,
            "department": s.department,
            "department_name": deps[s.department].name,
            "tile": deps[s.department].tile,
            "queue": s.queue,
            "class": s.service_class.value,
            "promised_days": s.promised_days,
            "materials": s.materials,
            "fees": s.fees,
            "online": s.online,
            "real_name": s.real_name.value,
            "common": s.common,
            "windows": [w.id for w in cfg.windows_for_queue(s.queue)],
        }
        for s in cfg.services
    ]


@router.get("/queues")
def queues(request: Request, _p=Depends(require(*READERS))) -> list[dict]:
    svc = request.app.state.service
    cfg = svc.cfg
    live = {q["queue"]: q for q in svc.queues_live()}
    return [
        {
            "id": q.id,
            "name": q.name,
            "name_en": q.name_en,
            "hours": hours_text(q.hours),
            "daily_cap": q.daily_cap,
            "waiting": live[q.id]["waiting"],
            "issued": live[q.id]["issued"],
            "estimated_wait_s": live[q.id]["estimated_wait_s"],
            "open": live[q.id]["open"],
            "windows": [w.id for w in cfg.windows_for_queue(q.id)],
        }
        for q in cfg.queues
    ]


@router.get("/windows")
def windows(request: Request, _p=Depends(require(*READERS))) -> list[dict]:
    svc = request.app.state.service
    return [window_json(svc.cfg, row, cur) for row, cur in svc.windows_live()]
