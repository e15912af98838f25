"""Scanned materials to the queue server: kiosk uploads, content check, the window's clerk opens them."""

import httpx
import pytest

from kiosk.devices.camera import Document, UploadError, detect, flatten, upload_document
from kiosk.devices.camera.document import pdf_page_count
from kiosk.devices.camera.synth import make_frame
from tests.fixtures_hall import small_hall, start_server, write_hall, yizhan, yizhan_env


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("docs")
    env = yizhan_env(write_hall(tmp / "config", small_hall(windows=2)), tmp / "state")
    s = start_server(env)
    tokens = {r: yizhan("token", "--role", r, env=env) for r in ("kiosk", "admin")}
    tokens["clerk01"] = yizhan("token", "--role", "clerk", "--window", "01", env=env)
    tokens["clerk02"] = yizhan("token", "--role", "clerk", "--window", "02", env=env)
    try:
        yield s, tokens
    finally:
        s.stop()


def _h(tok):
    return {"Authorization": f"Bearer {tok}"}


def _ticket(s, tokens, key):
    r = httpx.post(s.url + "/api/v1/tickets", headers=_h(tokens["kiosk"]),
                   json={"service": "RS01", "idempotency_key": key, "source": "kiosk"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _doc(n=2):
    doc = Document()
    for i in range(n):
        f = make_frame(960, 540, desk="wood", tilt_deg=8 * i, seed=30 + i)
        doc.add(flatten(f.image, detect(f.image)))
    return doc


def test_uploaded_pdf_is_opened_by_the_clerk_of_the_window(srv):
    s, tokens = srv
    tid = _ticket(s, tokens, "upload-ticket-1")
    rec = upload_document(s.url, tokens["kiosk"], tid, _doc(2), name="户口簿")
    assert rec["content_type"] == "application/pdf" and rec["pages"] == 2
    # the ticket is called at window 01: its clerk sees the materials, window 02's does not
    httpx.post(s.url + "/api/v1/windows/01/open", headers=_h(tokens["clerk01"])).raise_for_status()
    called = httpx.post(s.url + "/api/v1/windows/01/call-next", headers=_h(tokens["clerk01"])).json()
    assert called["ticket"]["id"] == tid
    listed = httpx.get(f"{s.url}/api/v1/tickets/{tid}/documents", headers=_h(tokens["clerk01"])).json()
    assert [d["filename"] for d in listed] == ["户口簿.pdf"]
    pdf = httpx.get(s.url + listed[0]["url"], headers=_h(tokens["clerk01"]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and pdf_page_count(pdf.content) == 2
    other = httpx.get(f"{s.url}/api/v1/tickets/{tid}/documents", headers=_h(tokens["clerk02"]))
    assert other.status_code == 403 and "窗口" in other.json()["message"]
    assert httpx.get(f"{s.url}/api/v1/tickets/{tid}/documents", headers=_h(tokens["admin"])).status_code == 200


def test_anything_but_an_image_or_pdf_is_refused(srv):
    s, tokens = srv
    tid = _ticket(s, tokens, "upload-ticket-2")
    for name, data in (("x.pdf", b"MZ\x90\x00 not a pdf"), ("a.jpg", b"<html>hi</html>"), ("e.pdf", b"")):
        r = httpx.post(f"{s.url}/api/v1/tickets/{tid}/documents", headers=_h(tokens["kiosk"]),
                       files={"file": (name, data, "application/pdf")})
        assert r.status_code == 415 and "PDF" in r.json()["message"]
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    r = httpx.post(f"{s.url}/api/v1/tickets/{tid}/documents", headers=_h(tokens["kiosk"]),
                   files={"file": ("p.png", png, "image/png")})
    assert r.status_code == 201 and r.json()["content_type"] == "image/png"


def test_too_large_upload_is_refused_with_a_chinese_message(srv):
    s, tokens = srv
    tid = _ticket(s, tokens, "upload-ticket-3")
    big = b"%PDF-1.4\n" + b"0" * (20 * 1024 * 1024 + 10)
    r = httpx.post(f"{s.url}/api/v1/tickets/{tid}/documents", headers=_h(tokens["kiosk"]),
                   files={"file": ("big.pdf", big, "application/pdf")}, timeout=60)
    assert r.status_code == 413 and "太大" in r.json()["message"]


def test_upload_client_reports_refusals(srv):
    s, tokens = srv
    with pytest.raises(UploadError):
        upload_document(s.url, tokens["kiosk"], 999999, _doc(1))
    with pytest.raises(UploadError):
        upload_document(s.url, "wrong-token", _ticket(s, tokens, "upload-ticket-4"), _doc(1))
