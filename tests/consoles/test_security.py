"""Every console page and endpoint needs the right role; clerks act only on their window;
state changes with a cookie need POST and the CSRF token; passwords lock out; logout ends a session."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.consoles.conftest import ADMIN_PASSWORD, CLERK_PASSWORD

HTML = {"Accept": "text/html"}
PAGES = ["/console", "/console/window", "/admin", "/admin/config", "/admin/services", "/admin/services/RS01", "/admin/stats",
         "/admin/users", "/admin/tokens", "/admin/audit"]
ADMIN_JSON = ["/admin/state", "/admin/stats.json", "/admin/stats.csv", "/admin/stats.xlsx"]
ADMIN_POSTS = ["/admin/config/queues/A", "/admin/config/windows/01", "/admin/services/RS01", "/admin/users", "/admin/users/1",
               "/admin/tokens", "/admin/tokens/1/revoke", "/admin/followups/1/close"]


def session(url: str, username: str, password: str) -> tuple[httpx.Client, str]:
    """Signs in through the HTML form (as a browser without JavaScript would); returns the client and its CSRF token."""
    c = httpx.Client(base_url=url, headers=HTML, timeout=30)
    form = c.get("/login").text
    nonce = re.search(r'name="login_csrf" value="([^"]+)"', form).group(1)
    r = c.post("/login", data={"username": username, "password": password, "login_csrf": nonce})
    assert r.status_code == 303, r.text
    page = c.get(r.headers["location"]).text
    m = re.search(r'data-csrf="([^"]+)"', page) or re.search(r'name="csrf_token" value="([^"]+)"', page)
    return c, m.group(1)


@pytest.fixture
def clerk(hall):
    hall.add_clerk("wangfang", "01", "王芳")
    c, csrf = session(hall.url, "wangfang", CLERK_PASSWORD)
    yield c, csrf
    c.close()


@pytest.fixture
def admin(hall):
    c, csrf = session(hall.url, "admin", ADMIN_PASSWORD)
    yield c, csrf
    c.close()


def test_pages_need_a_login(hall):
    for path in PAGES:
        r = httpx.get(hall.url + path, headers=HTML)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
        r = httpx.get(hall.url + path)
        assert r.status_code == 401 and r.json()["code"] == "unauthorized", path
    for path in ADMIN_JSON + ["/console/state?window=01", "/console/events?window=01"]:
        assert httpx.get(hall.url + path).status_code == 401, path
    for path in ADMIN_POSTS + ["/console/window", "/logout"]:
        assert httpx.post(hall.url + path, data={"csrf_token": "x"}).status_code == 401, path


def test_a_clerk_cannot_use_the_managers_console(hall, clerk):
    c, csrf = clerk
    for path in PAGES[2:]:
        r = c.get(path)
        assert r.status_code == 403 and "没有权限" in r.text, path
    for path in ADMIN_JSON:
        assert c.get(path, headers={"Accept": "application/json"}).status_code == 403, path
    for path in ADMIN_POSTS:
        r = c.post(path, data={"csrf_token": csrf, "op": "disable", "role": "admin", "username": "evil", "password": "evil-pass-1"})
        assert r.status_code == 403, path
    assert c.post("/api/v1/tickets", json={"service": "RS01", "idempotency_key": "k" * 10}, headers={"X-CSRF-Token": csrf}).status_code == 403


def test_a_clerk_acts_only_on_their_own_window(hall, clerk):
    c, csrf = clerk
    h = {"X-CSRF-Token": csrf, "Accept": "application/json"}
    assert c.post("/api/v1/windows/01/open", headers=h).status_code == 200
    for action in ("open", "pause", "close", "call-next", "recall", "skip", "finish"):
        r = c.post(f"/api/v1/windows/02/{action}", headers=h)
        assert r.status_code == 403 and r.json()["code"] == "other_window", action
    r = c.post("/api/v1/windows/02/transfer", headers=h, json={"queue": "A"})
    assert r.status_code == 403
    # The console's own endpoints always show the clerk's window, whatever is asked for.
    assert c.get("/console/state?window=02", headers=h).json()["window"]["id"] == "01"
    r = c.post("/console/window", data={"csrf_token": csrf, "window": "02"})
    assert r.status_code == 403


def test_changing_state_needs_post_and_the_csrf_token(hall, clerk, admin):
    c, csrf = clerk
    assert c.post("/api/v1/windows/01/open").status_code == 403  # no token: refused …
    assert c.post("/api/v1/windows/01/open", headers={"X-CSRF-Token": "0" * 64}).json()["code"] == "csrf"
    with hall.db.read() as s:
        from queue_server.db.tables import WindowRow

        assert s.get(WindowRow, "01").state == "closed"  # … and nothing changed
    assert c.get("/api/v1/windows/01/open").status_code == 405  # GET never changes state
    assert c.post("/api/v1/windows/01/open", headers={"X-CSRF-Token": csrf}).status_code == 200
    a, admin_csrf = admin
    # HTML forms need the csrf_token field; another user's token does not do.
    for token in ("", csrf):
        r = a.post("/admin/users", data={"csrf_token": token, "username": "evil", "password": "evil-pass-1", "role": "admin"})
        assert r.status_code == 403, token
    assert "evil" not in a.get("/admin/users").text
    r = a.post("/admin/users", data={"csrf_token": admin_csrf, "username": "lina", "password": "lina-pass-1", "role": "clerk", "window": "02"})
    assert r.status_code == 303
    # The login form has its own double-submit token.
    r = httpx.post(hall.url + "/login", data={"username": "admin", "password": ADMIN_PASSWORD}, headers=HTML)
    assert r.status_code == 400 and yz_cookie(r) is None
    # Bearer-token calls are not CSRF-prone and need no CSRF token.
    token = hall.token("clerk", window="02")
    assert httpx.post(hall.url + "/api/v1/windows/02/open", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def yz_cookie(r: httpx.Response) -> str | None:
    return r.cookies.get("yz_session")


def test_repeated_wrong_passwords_lock_the_account(hall, admin):
    hall.add_clerk("wangfang", "01", "王芳")
    c = httpx.Client(base_url=hall.url, headers=HTML)
    messages = []
    for _ in range(5):
        form = c.get("/login").text
        nonce = re.search(r'name="login_csrf" value="([^"]+)"', form).group(1)
        r = c.post("/login", data={"username": "wangfang", "password": "wrong-pass-1", "login_csrf": nonce})
        assert r.status_code == 401
        messages.append(re.search(r'id="login-error">([^<]+)<', r.text).group(1))
    assert "再错 4 次" in messages[0] and "锁定" in messages[-1]
    form = c.get("/login").text
    nonce = re.search(r'name="login_csrf" value="([^"]+)"', form).group(1)
    r = c.post("/login", data={"username": "wangfang", "password": CLERK_PASSWORD, "login_csrf": nonce})
    assert r.status_code == 401 and "锁定" in r.text  # the right password does not help while locked
    a, csrf = admin
    uid = int(re.search(r'<tr data-user="wangfang">.*?action="/admin/users/(\d+)"', a.get("/admin/users").text, re.S).group(1))
    assert a.post(f"/admin/users/{uid}", data={"csrf_token": csrf, "op": "unlock"}).status_code == 303
    clerk_client, _ = session(hall.url, "wangfang", CLERK_PASSWORD)
    assert clerk_client.get("/console").status_code == 200


def test_logout_and_password_reset_end_sessions(hall, clerk, admin):
    c, csrf = clerk
    assert c.get("/console").status_code == 200
    assert c.post("/logout", data={"csrf_token": csrf}).status_code == 303
    old = c.cookies.get("yz_session")
    assert old is None or httpx.get(hall.url + "/console/state", cookies={"yz_session": old}).status_code == 401
    c2, _ = session(hall.url, "wangfang", CLERK_PASSWORD)
    a, admin_csrf = admin
    uid = int(re.search(r'<tr data-user="wangfang">.*?action="/admin/users/(\d+)"', a.get("/admin/users").text, re.S).group(1))
    assert a.post(f"/admin/users/{uid}", data={"csrf_token": admin_csrf, "op": "password", "password": "new-pass-2026"}).status_code == 303
    assert c2.get("/console/state", headers={"Accept": "application/json"}).status_code == 401


def test_device_tokens_are_listed_and_revocable(hall, admin):
    a, csrf = admin
    r = a.post("/admin/tokens", data={"csrf_token": csrf, "role": "kiosk", "device": "kiosk-9", "name": "大厅东侧自助机"})
    token = re.search(r'id="new-token">([^<]+)<', r.text).group(1)
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(hall.url + "/api/v1/services", headers=headers).status_code == 200
    page = a.get("/admin/tokens").text
    assert "大厅东侧自助机" in page and token not in page  # listed, but the secret is never shown again
    tid = re.search(r'<tr data-token="(\d+)"><td>\d+</td><td>大厅东侧自助机', page).group(1)
    assert a.post(f"/admin/tokens/{tid}/revoke", data={"csrf_token": csrf}).status_code == 303
    assert httpx.get(hall.url + "/api/v1/services", headers=headers).status_code == 401
    audit = a.get("/admin/audit").text
    assert "新建令牌" in audit and "吊销令牌" in audit
