"""Sending a scanned document to the queue server, attached to the citizen's ticket."""

from __future__ import annotations

import logging

import httpx

from kiosk.devices.base import DeviceError
from kiosk.devices.camera.document import Document

logger = logging.getLogger(__name__)


class UploadError(DeviceError):
    message_key = "camera.upload_failed"


def upload_document(server_url: str, token: str, ticket_id: int, doc: Document, *, name: str = "材料",
                    timeout: float = 30.0, client: httpx.Client | None = None) -> dict:
    """POSTs the document as one PDF to `/api/v1/tickets/{id}/documents`; returns the server's record."""
    files = {"file": (f"{name}.pdf", doc.pdf(), "application/pdf")}
    own = client is None
    c = client or httpx.Client(timeout=timeout)
    try:
        r = c.post(f"{server_url.rstrip('/')}/api/v1/tickets/{ticket_id}/documents",
                   headers={"Authorization": f"Bearer {token}"}, files=files, data={"pages": str(len(doc))})
    except httpx.HTTPError as exc:
        raise UploadError(str(exc)) from None
    finally:
        if own:
            c.close()
    if r.status_code != 201:
        try:
            message = r.json().get("message", r.text)
        except ValueError:
            message = r.text
        raise UploadError(f"{r.status_code} {message}")
    logger.info("document of %d pages uploaded for ticket %s", len(doc), ticket_id)
    return r.json()
