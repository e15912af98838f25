"""A fake WeChat API (api.weixin.qq.com) served locally, strict about every request.

It speaks the real endpoints' shapes — `GET /cgi-bin/token`, `POST /cgi-bin/message/
template/send`, `POST /cgi-bin/message/subscribe/bizsend`, `POST /cgi-bin/qrcode/create` —
answers with WeChat's error codes, and records anything a real WeChat would refuse in
`problems` (tests assert it stays empty). Tests steer it: expire the access tokens, make
the next sends fail, unfollow someone.

Used by tests/wechat and bench/wechat_bench.py (`YIZHAN_WECHAT_API` points at it)."""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlsplit

APP_ID = "wx1234567890abcdef"
APP_SECRET = "fake-app-secret-0123456789abcdef"
TEMPLATE_ID = "TPL_queue_reminder_0001"
# The template's keys as the WeChat console would define them (types are the key prefixes).
TEMPLATE_KEYS = {"character_string1", "phrase2", "number3", "thing4", "thing5"}

_CJK = re.compile(r"^[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]+$")


def value_problem(key: str, value: object) -> str | None:
    """Why WeChat would refuse `value` in field `key` (errcode 47003), or None."""
    if not isinstance(value, str):
        return "value is not a string"
    if "\n" in value or "\r" in value:
        return "line break"
    kind = re.sub(r"\d+$", "", key)
    if kind == "thing" and len(value) > 20:
        return f"thing longer than 20 ({len(value)})"
    if kind == "phrase" and (len(value) > 5 or not _CJK.match(value)):
        return f"phrase must be at most 5 Chinese characters ({value!r})"
    if kind == "number" and (len(value) > 32 or not re.fullmatch(r"[0-9]+(\.[0-9]+)?", value)):
        return f"number must be digits ({value!r})"
    if kind == "character_string" and (len(value) > 32 or not re.fullmatch(r"[\x21-\x7e]+", value)):
        return f"character_string must be ≤ 32 letters/digits/symbols ({value!r})"
    if kind == "time" and not re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}", value):
        return f"time format ({value!r})"
    return None


@dataclass
class Sent:
    openid: str
    body: dict
    at: float

    def value(self, key: str) -> str:
        return self.body["data"][key]["value"]


@dataclass
class FakeWeChat:
    app_id: str = APP_ID
    secret: str = APP_SECRET
    template_id: str = TEMPLATE_ID
    template_keys: set[str] = field(default_factory=lambda: set(TEMPLATE_KEYS))
    expires_in: int = 7200
    followers: set[str] | None = None  # None = everyone follows
    sent: list[Sent] = field(default_factory=list)
    attempts: list[tuple[str, int]] = field(default_factory=list)  # (openid, errcode answered)
    problems: list[str] = field(default_factory=list)
    qrcodes: list[dict] = field(default_factory=list)
    token_fetches: int = 0
    fail_queue: list[tuple[str | None, int, int]] = field(default_factory=list)  # (openid or None = anyone, http status or 0, errcode)
    fail_always: dict[str | None, tuple[int, int]] = field(default_factory=dict)  # openid or None → (http status, errcode)
    latency_s: float = 0.0  # WeChat's round trip as seen from a hall (bench: --latency-ms)
    _valid: dict[str, bool] = field(default_factory=dict)  # token → not expired
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    # ---- steering --------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def expire_tokens(self) -> None:
        """Every token handed out so far now answers 42001 (access_token expired)."""
        with self._cond:
            for tok in self._valid:
                self._valid[tok] = False

    def fail_next(self, n: int, errcode: int = -1, http_status: int = 0, openid: str | None = None) -> None:
        """The next `n` sends (to `openid`, or to anyone) fail with `errcode` or an HTTP error."""
        with self._cond:
            self.fail_queue.extend([(openid, http_status, errcode)] * n)

    def _failure_for(self, openid: str) -> tuple[int, int] | None:
        always = self.fail_always.get(openid) or self.fail_always.get(None)
        if always:
            return always
        for i, (who, status, code) in enumerate(self.fail_queue):
            if who is None or who == openid:
                del self.fail_queue[i]
                return status, code
        return None

    def for_openid(self, openid: str) -> list[Sent]:
        with self._cond:
            return [s for s in self.sent if s.openid == openid]

    def wait_for(self, predicate: Callable[["FakeWeChat"], object], timeout: float = 20.0, what: str = "messages") -> object:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate(self)
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"fake WeChat: timed out after {timeout} s waiting for {what}; "
                                         f"sent={[(s.openid, s.body.get('data')) for s in self.sent][-10:]} problems={self.problems}")
                self._cond.wait(min(left, 0.1))

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> "FakeWeChat":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _reply(self, data: dict, status: int = 200) -> None:
                body = json.dumps(data, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path == "/cgi-bin/token":
                    self._reply(fake._token(q))
                else:
                    self._reply({"errcode": 404, "errmsg": "not found"}, 404)

            def do_POST(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(parts.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if fake.latency_s:
                    time.sleep(fake.latency_s)  # simulated network and WeChat time, not synchronisation
                status, data = fake._post(parts.path, q, raw, self.headers.get("Content-Type", ""))
                self._reply(data, status)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-wechat", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # ---- endpoints -------------------------------------------------------------------------
    def _problem(self, text: str) -> None:
        self.problems.append(text)

    def _token(self, q: dict[str, str]) -> dict:
        with self._cond:
            if q.get("grant_type") != "client_credential":
                self._problem(f"token: grant_type {q.get('grant_type')!r}")
                return {"errcode": 40002, "errmsg": "invalid grant_type"}
            if q.get("appid") != self.app_id:
                self._problem(f"token: appid {q.get('appid')!r}")
                return {"errcode": 40013, "errmsg": "invalid appid"}
            if q.get("secret") != self.secret:
                return {"errcode": 40125, "errmsg": "invalid appsecret"}
            token = "ACCESS_" + secrets.token_urlsafe(48)
            # Like WeChat: a new token makes the earlier ones invalid.
            for tok in self._valid:
                self._valid[tok] = False
            self._valid[token] = True
            self.token_fetches += 1
            self._cond.notify_all()
            return {"access_token": token, "expires_in": self.expires_in}

    def _check_token(self, q: dict[str, str]) -> dict | None:
        tok = q.get("access_token")
        if not tok:
            return {"errcode": 41001, "errmsg": "access_token missing"}
        if tok not in self._valid:
            return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
        if not self._valid[tok]:
            return {"errcode": 42001, "errmsg": "access_token expired"}
        return None

    def _post(self, path: str, q: dict[str, str], raw: bytes, ctype: str) -> tuple[int, dict]:
        with self._cond:
            try:
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                self._problem(f"{path}: body is not UTF-8 JSON")
                return 200, {"errcode": 47001, "errmsg": "data format error"}
            if not isinstance(body, dict):
                self._problem(f"{path}: body is not an object")
                return 200, {"errcode": 47001, "errmsg": "data format error"}
            bad = self._check_token(q)
            if bad is not None:
                if path.startswith("/cgi-bin/message/"):
                    self.attempts.append((body.get("touser", ""), bad["errcode"]))
                self._cond.notify_all()
                return 200, bad
            if path == "/cgi-bin/qrcode/create":
                return 200, self._qrcode(body)
            if path in ("/cgi-bin/message/template/send", "/cgi-bin/message/subscribe/bizsend"):
                status, data = self._send(path, body)
                self._cond.notify_all()
                return status, data
            self._problem(f"unknown endpoint {path}")
            return 404, {"errcode": 404, "errmsg": "not found"}

    def _qrcode(self, body: dict) -> dict:
        allowed = {"expire_seconds", "action_name", "action_info"}
        if set(body) - allowed:
            self._problem(f"qrcode/create: unknown keys {sorted(set(body) - allowed)}")
        exp = body.get("expire_seconds")
        if not isinstance(exp, int) or not 60 <= exp <= 2_592_000:
            self._problem(f"qrcode/create: expire_seconds {exp!r}")
            return {"errcode": 40009, "errmsg": "invalid expire_seconds"}
        if body.get("action_name") != "QR_STR_SCENE":
            self._problem(f"qrcode/create: action_name {body.get('action_name')!r}")
        scene = ((body.get("action_info") or {}).get("scene") or {}).get("scene_str")
        if not isinstance(scene, str) or not 1 <= len(scene) <= 64:
            self._problem(f"qrcode/create: scene_str {scene!r}")
            return {"errcode": 40097, "errmsg": "invalid args"}
        ticket = secrets.token_urlsafe(24)
        self.qrcodes.append({"scene": scene, "expire_seconds": exp, "ticket": ticket})
        return {"ticket": ticket, "expire_seconds": exp, "url": f"http://weixin.qq.com/q/{ticket}"}

    def _send(self, path: str, body: dict) -> tuple[int, dict]:
        template = path.endswith("/template/send")
        allowed = {"touser", "template_id", "url", "miniprogram", "client_msg_id", "data"} if template else \
            {"touser", "template_id", "page", "miniprogram", "data"}
        openid = body.get("touser")
        for key in set(body) - allowed:
            self._problem(f"send: unknown key {key!r}")
        if not isinstance(openid, str) or not openid:
            self._problem("send: touser missing")
            return 200, {"errcode": 40003, "errmsg": "invalid openid"}
        if body.get("template_id") != self.template_id:
            self._problem(f"send: template_id {body.get('template_id')!r}")
            return 200, {"errcode": 40037, "errmsg": "invalid template_id"}
        link = body.get("url" if template else "page")
        if link is not None and (not isinstance(link, str) or not re.match(r"^https?://", link)):
            self._problem(f"send: link {link!r}")
        cmid = body.get("client_msg_id")
        if cmid is not None and (not isinstance(cmid, str) or len(cmid) > 64):
            self._problem(f"send: client_msg_id {cmid!r}")
        data = body.get("data")
        if not isinstance(data, dict) or not data:
            self._problem("send: data missing")
            return 200, {"errcode": 47003, "errmsg": "argument invalid! data is empty"}
        for key, item in data.items():
            if key not in self.template_keys:
                self._problem(f"send: data key {key!r} not in the template")
                return 200, {"errcode": 47003, "errmsg": f"argument invalid! data.{key} unknown"}
            if not isinstance(item, dict) or set(item) != {"value"}:
                self._problem(f"send: data.{key} must be {{'value': …}}, got {item!r}")
                return 200, {"errcode": 47003, "errmsg": f"argument invalid! data.{key}"}
            why = value_problem(key, item["value"])
            if why:
                self._problem(f"send: data.{key}: {why}")
                return 200, {"errcode": 47003, "errmsg": f"argument invalid! data.{key}.value {why}"}
        failure = self._failure_for(openid)
        if failure is not None:
            status, code = failure
            self.attempts.append((openid, code if not status else -status))
            if status:
                return status, {"errmsg": "gateway error"}
            return 200, {"errcode": code, "errmsg": "system error" if code == -1 else "error"}
        if self.followers is not None and openid not in self.followers:
            self.attempts.append((openid, 43004))
            return 200, {"errcode": 43004, "errmsg": "require subscribe"}
        self.attempts.append((openid, 0))
        self.sent.append(Sent(openid, body, time.monotonic()))
        return 200, {"errcode": 0, "errmsg": "ok", "msgid": 200000 + len(self.sent)}


def sign_params(token: str, *, timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
    """Query parameters WeChat adds to a callback request, signed with `token`."""
    from queue_server.wechat.signature import signature

    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or str(secrets.randbelow(10**10))
    return {"signature": signature(token, ts, nonce), "timestamp": ts, "nonce": nonce}


def event_xml(openid: str, event: str, event_key: str = "", to_user: str = "gh_0123456789ab") -> bytes:
    created = int(datetime.now().timestamp())
    return (
        f"<xml><ToUserName><![CDATA[{to_user}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>"
        f"<EventKey><![CDATA[{event_key}]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket></xml>"
    ).encode()


def text_xml(openid: str, content: str, to_user: str = "gh_0123456789ab") -> bytes:
    return (
        f"<xml><ToUserName><![CDATA[{to_user}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>1234567890123456</MsgId></xml>"
    ).encode()
