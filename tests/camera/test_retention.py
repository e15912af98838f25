"""Scanned materials are personal data (ID card copies): the server deletes them once the hall's
retention period (policy.document_retention_days, 30 by default) is over — at start and daily —
and keeps younger ones. Real server processes on one state dir, days apart by YIZHAN_NOW."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.fixtures_hall import small_hall, start_server, write_hall, yizhan, yizhan_env


def _h(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


def _upload(url: str, kiosk: str, key: str) -> tuple[int, dict]:
    r = httpx.post(url + "/api/v1/tickets", headers=_h(kiosk), json={"service": "RS01", "idempotency_key": key})
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    up = httpx.post(f"{url}/api/v1/tickets/{tid}/documents", headers=_h(kiosk), data={"pages": "1"},
                    files={"file": ("户口簿.pdf", b"%PDF-1.4\n" + key.encode() + b"\n%%EOF\n", "application/pdf")})
    assert up.status_code == 201, up.text
    return tid, up.json()


def _files(state: Path) -> set[str]:
    return {p.name for p in (state / "documents").rglob("*") if p.is_file()}


def test_scans_older_than_the_retention_period_are_deleted_and_younger_ones_kept(tmp_path):
    config, state = write_hall(tmp_path / "config", small_hall(windows=2)), tmp_path / "state"

    def server(now: str, **extra: str):  # type: ignore[no-untyped-def]
        return start_server(yizhan_env(config, state, YIZHAN_NOW=now, **extra))

    env = yizhan_env(config, state)
    kiosk, admin = yizhan("token", "--role", "kiosk", env=env), yizhan("token", "--role", "admin", env=env)

    s = server("2026-11-23T09:30:00+08:00")
    try:
        old_ticket, old_doc = _upload(s.url, kiosk, "retention-old-0001")
    finally:
        s.stop()
    s = server("2026-12-14T09:30:00+08:00")  # 21 days later: still kept
    try:
        new_ticket, new_doc = _upload(s.url, kiosk, "retention-new-0001")
        assert len(httpx.get(f"{s.url}/api/v1/tickets/{old_ticket}/documents", headers=_h(admin)).json()) == 1
    finally:
        s.stop()
    assert len(_files(state)) == 2

    s = server("2026-12-24T09:30:00+08:00", YIZHAN_LOG_LEVEL="INFO")  # 31 days after the first upload, 10 after the second
    try:
        deadline = time.monotonic() + 30
        while len(_files(state)) > 1:  # the purge runs as the server starts
            assert time.monotonic() < deadline, f"the expired scan is still on disk: {_files(state)}"
            time.sleep(0.05)
        assert httpx.get(f"{s.url}/api/v1/tickets/{old_ticket}/documents", headers=_h(admin)).json() == []
        gone = httpx.get(f"{s.url}{old_doc['url']}", headers=_h(admin))
        assert gone.status_code == 404 and "材料" in gone.json()["message"]
        kept = httpx.get(f"{s.url}/api/v1/tickets/{new_ticket}/documents", headers=_h(admin)).json()
        assert [d["id"] for d in kept] == [new_doc["id"]]
        assert httpx.get(f"{s.url}{new_doc['url']}", headers=_h(admin)).content.startswith(b"%PDF")
        assert not (state / "documents" / str(old_ticket)).exists()  # the ticket's folder went with its last scan
        assert "deleted 1 scanned document(s) uploaded more than 30 days ago" in s.log.read_text(encoding="utf-8", errors="replace")
    finally:
        s.stop()
