"""WeChat's pushed XML messages and the passive replies (pure, no I/O)."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

MAX_XML_BYTES = 64 * 1024
UNBIND_WORDS = ("取消提醒", "取消", "退订", "TD", "td", "0000")


class BadMessage(ValueError):
    pass


@dataclass(frozen=True)
class Incoming:
    to_user: str  # our account's original id (gh_…)
    openid: str  # the sender
    create_time: int
    msg_type: str  # event | text | …
    event: str = ""  # subscribe | SCAN | unsubscribe | …
    event_key: str = ""
    content: str = ""

    def scene(self) -> str | None:
        """The ticket token carried by a parametric QR scan, if any."""
        if self.msg_type != "event":
            return None
        if self.event == "subscribe" and self.event_key.startswith("qrscene_"):
            return self.event_key[len("qrscene_"):] or None
        if self.event == "SCAN" and self.event_key:
            return self.event_key
        return None

    def wants_unbind(self) -> bool:
        if self.msg_type == "event" and self.event == "unsubscribe":
            return True
        return self.msg_type == "text" and self.content.strip() in UNBIND_WORDS


def parse(body: bytes) -> Incoming:
    if len(body) > MAX_XML_BYTES:
        raise BadMessage("too large")
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise BadMessage("DTDs are not accepted")  # WeChat never sends one; entity tricks do
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise BadMessage(f"not XML: {exc}") from None
    if root.tag != "xml":
        raise BadMessage("root is not <xml>")

    def text(tag: str) -> str:
        el = root.find(tag)
        return (el.text or "").strip() if el is not None else ""

    openid, msg_type = text("FromUserName"), text("MsgType")
    if not openid or not msg_type:
        raise BadMessage("FromUserName or MsgType missing")
    try:
        created = int(text("CreateTime") or "0")
    except ValueError:
        raise BadMessage("CreateTime is not a number") from None
    return Incoming(
        to_user=text("ToUserName"),
        openid=openid,
        create_time=created,
        msg_type=msg_type,
        event=text("Event"),
        event_key=text("EventKey"),
        content=text("Content"),
    )


def _cdata(value: str) -> str:
    # CDATA cannot hold "]]>"; escaping is enough for our own fixed texts.
    return "<![CDATA[" + value.replace("]]>", "]]&gt;") + "]]>"


def text_reply(incoming: Incoming, content: str, now: float | None = None) -> str:
    """A passive text reply (被动回复), shown to the follower right after the scan."""
    return (
        "<xml>"
        f"<ToUserName>{_cdata(incoming.openid)}</ToUserName>"
        f"<FromUserName>{_cdata(incoming.to_user)}</FromUserName>"
        f"<CreateTime>{int(time.time() if now is None else now)}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{_cdata(content)}</Content>"
        "</xml>"
    )
