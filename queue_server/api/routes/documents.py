"""Scanned materials attached to a ticket (document camera at the kiosk, docs/camera.md).

POST (kiosk) stores a JPEG, PNG or PDF after checking its magic bytes and size; the clerk of the
ticket's window and the hall manager list and open them. They are deleted after
`policy.document_retention_days` (queue_server/documents.py).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.responses import FileResponse
from sqlalchemy import select

from queue_server.api.auth import require
from queue_server.db.tables import Document
from queue_server.documents import purge_documents
from queue_server.housekeeping import run_daily
from queue_server.service import CommandError
from queue_server.tokens import Principal
from yizhan.i18n import t

router = APIRouter()

MAX_BYTES = 20 * 1024 * 1024  # a 20-page colour PDF from the kiosk stays well below
KINDS = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)


def _sniff(head: bytes) -> tuple[str, str] | None:
    for magic, ctype, ext in KINDS:
        if head.startswith(magic):
            return ctype, ext
    return None


def _folder(request: Request, ticket_id: int) -> Path:
    return Path(request.app.state.settings.state_dir) / "documents" / str(ticket_id)


def _doc_json(d: Document) -> dict:
    return {"id": d.id, "ticket_id": d.ticket_id, "filename": d.filename, "content_type": d.content_type,
            "size": d.size, "pages": d.pages, "sha256": d.sha256, "uploaded_at": d.uploaded_at.isoformat(),
            "url": f"/api/v1/tickets/{d.ticket_id}/documents/{d.id}"}


def _may_read(request: Request, p: Principal, ticket_id: int) -> None:
    ticket = request.app.state.service.get_ticket(ticket_id)  # 404 for an unknown ticket
    if p.role == "clerk" and p.window != getattr(ticket, "window", None):
        raise CommandError(403, "document_forbidden", t("camera.server.forbidden"))


@router.post("/tickets/{ticket_id}/documents", status_code=201)
async def upload(ticket_id: int, request: Request, file: UploadFile = File(...), pages: int = Form(1),
                 p: Principal = Depends(require("kiosk", "admin"))) -> dict:
    svc = request.app.state.service
    svc.get_ticket(ticket_id)
    data = await file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise CommandError(413, "document_too_large", t("camera.server.too_large", mb=MAX_BYTES // (1024 * 1024)))
    kind = _sniff(data[:16])
    if kind is None or not data:
        raise CommandError(415, "document_type", t("camera.server.bad_type"))
    ctype, ext = kind
    digest = hashlib.sha256(data).hexdigest()
    folder = _folder(request, ticket_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest[:32]}{ext}"
    path.write_bytes(data)
    name = re.sub(r"[^\w.\-\u4e00-\u9fff]", "_", Path(file.filename or "材料").stem)[:80] + ext
    with svc.db.write() as s:
        doc = Document(ticket_id=ticket_id, filename=name, content_type=ctype, size=len(data), sha256=digest,
                       path=str(path), pages=max(1, min(pages, 999)), uploaded_at=svc.clock.now(),
                       device=p.device or p.name or p.role)
        s.add(doc)
        s.flush()
        out = _doc_json(doc)
    return out


@router.get("/tickets/{ticket_id}/documents")
def list_documents(ticket_id: int, request: Request, p: Principal = Depends(require("clerk", "admin"))) -> list[dict]:
    _may_read(request, p, ticket_id)
    with request.app.state.service.db.read() as s:
        rows = s.scalars(select(Document).where(Document.ticket_id == ticket_id).order_by(Document.id)).all()
        return [_doc_json(d) for d in rows]


@router.get("/tickets/{ticket_id}/documents/{doc_id}")
def download(ticket_id: int, doc_id: int, request: Request, p: Principal = Depends(require("clerk", "admin"))):  # type: ignore[no-untyped-def]
    _may_read(request, p, ticket_id)
    with request.app.state.service.db.read() as s:
        d = s.get(Document, doc_id)
        if d is None or d.ticket_id != ticket_id or not Path(d.path).is_file():
            raise CommandError(404, "document_not_found", t("camera.server.not_found"))
        path, ctype, name = d.path, d.content_type, d.filename
    return FileResponse(path, media_type=ctype, filename=name)


def setup(app: FastAPI) -> None:
    """Scans older than the hall's retention period are deleted at start and every day."""
    if app.state.settings is not None:  # a server with a state dir (not an in-memory test app)
        run_daily(app, lambda: purge_documents(app.state.service), "deleting expired scanned documents")
