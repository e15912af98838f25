"""Scanned materials on the server's disk: deleted once the hall's retention period is over.

Scans are copies of ID cards and household registers (personal information, PIPL): they serve
the clerk for the visit and the days after it; the application itself lives in the approval
system. Each file goes first, then its row: an interrupted purge never leaves a file that no row
lists."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, select

from queue_server.db.tables import Document
from queue_server.service import HallService

logger = logging.getLogger(__name__)

BATCH = 500


def purge_documents(svc: HallService) -> int:
    """Deletes the documents uploaded more than `policy.document_retention_days` ago; returns how many."""
    days = svc.cfg.policy.document_retention_days
    before = svc.now() - timedelta(days=days)
    total = 0
    while True:
        with svc.db.read() as s:
            rows = s.execute(select(Document.id, Document.path).where(Document.uploaded_at < before).limit(BATCH)).all()
        if not rows:
            break
        for _id, path in rows:
            file = Path(path)
            file.unlink(missing_ok=True)
            try:
                file.parent.rmdir()  # the ticket's folder, once empty
            except OSError:
                pass
        with svc.db.write() as s:
            s.execute(delete(Document).where(Document.id.in_([r[0] for r in rows])))
        total += len(rows)
    if total:
        logger.info("deleted %d scanned document(s) uploaded more than %d days ago", total, days)
    return total
