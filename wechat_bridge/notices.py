"""Which notice an event calls for, and the WeChat message that carries it (pure).

Field limits are WeChat's (公众号模板消息 / 订阅通知): `thing` ≤ 20 characters, `phrase`
≤ 5 Chinese characters, `number` digits, `character_string` ≤ 32 ASCII characters, no line
breaks anywhere. A value that does not fit is shortened here rather than refused by WeChat
(error 47003) in front of a waiting citizen."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from yizhan.config.wechat import WechatConfig
from yizhan.i18n import t

LIMITS = {"thing": 20, "keyword": 20, "phrase": 5, "number": 32, "character_string": 32, "letter": 32, "symbol": 5, "name": 10}


@dataclass(frozen=True)
class Notice:
    kind: str  # ahead:3 | ahead:1 | called | skipped
    ahead: int = 0


def notice_for(event: dict, cfg: WechatConfig) -> Notice | None:
    """The notice a `ticket/<token>` event calls for, or None.

    'ahead' notices go out when the count reaches a threshold; when the line moves by
    more than one at once (two windows call together), only the nearest threshold reached
    is sent, so a follower never reads "3 ahead" after "1 ahead" for the same moment."""
    kind = event.get("type")
    if kind == "ahead":
        ahead = event.get("ahead")
        if not isinstance(ahead, int) or ahead < 0:
            return None
        reached = [n for n in cfg.thresholds if ahead <= n]
        return Notice(f"ahead:{min(reached)}", ahead) if reached else None
    if kind == "called" and not event.get("recall"):
        return Notice("called")
    if kind == "skipped" and cfg.notify_skipped:
        return Notice("skipped")
    if kind in ("case_done", "case_returned"):  # 办件 registered from this ticket: 办结 or 退回
        return Notice(kind)
    return None


def still_true(notice: Notice, state: str | None) -> bool:
    """A queued notice overtaken by the ticket's state (called before '1 ahead' went out) is dropped."""
    if notice.kind.startswith("ahead:"):
        return state == "waiting"
    if notice.kind == "called":
        return state in ("called", "serving")
    if notice.kind.startswith("case_"):
        return True  # a case's outcome stays true whatever the ticket did since
    return state in ("skipped", "no_show")


def field_type(key: str) -> str:
    return re.sub(r"\d+$", "", key)


def fit(key: str, value: str) -> str:
    """`value` shaped to what WeChat accepts in a field named `key` (e.g. thing4, phrase2)."""
    value = " ".join(str(value).split())  # no line breaks or runs of spaces
    kind = field_type(key)
    if kind == "number":
        value = re.sub(r"[^0-9.]", "", value) or "0"
    elif kind in ("character_string", "letter"):
        value = re.sub(r"[^\x21-\x7e]", "", value) or "-"
    elif kind == "phrase":
        value = re.sub(r"[\s0-9A-Za-z]", "", value)  # Chinese characters only
    limit = LIMITS.get(kind)
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…" if kind in ("thing", "keyword") else value[:limit]
    return value


def wechat_time(at: str) -> str:
    try:
        when = datetime.fromisoformat(at)
    except (TypeError, ValueError):
        return ""
    return f"{when.year}年{when.month}月{when.day}日 {when:%H:%M}"


def values(notice: Notice, event: dict, ticket: dict, lang: str = "zh_CN") -> dict[str, str]:
    """Our named values for a notice, before they are mapped to template keys."""
    window = event.get("window_name") or ticket.get("window_name") or ""
    out = {"number": ticket["number"], "queue": ticket.get("queue_name", ""), "time": wechat_time(event.get("at", ""))}
    if notice.kind.startswith("ahead:"):
        out |= {
            "status": t("wechat.notice.ahead", lang),
            "ahead": str(notice.ahead),
            "window": ticket.get("queue_name", ""),
            "note": t("wechat.notice.note_next", lang) if notice.ahead == 0 else t("wechat.notice.note_ahead", lang, ahead=notice.ahead),
        }
    elif notice.kind == "called":
        out |= {"status": t("wechat.notice.called", lang), "ahead": "0", "window": window,
                "note": t("wechat.notice.note_called", lang, window=window)}
    elif notice.kind.startswith("case_"):
        out |= {"status": t(f"wechat.notice.{notice.kind}", lang), "ahead": "0", "window": event.get("service_name", ""),
                "note": t(f"wechat.notice.note_{notice.kind}", lang, case_number=event.get("case_number", ""))}
    else:
        out |= {"status": t("wechat.notice.skipped", lang), "ahead": "0", "window": ticket.get("queue_name", ""),
                "note": t("wechat.notice.note_skipped", lang)}
    return out


def message(cfg: WechatConfig, notice: Notice, event: dict, ticket: dict, openid: str, url: str, notice_id: int) -> tuple[str, dict]:
    """(API path, JSON body) of the WeChat message for one follower."""
    named = values(notice, event, ticket)
    data = {key: {"value": fit(key, named.get(ours, ""))} for ours, key in cfg.template.fields.items()}
    if cfg.message == "subscribe":
        return "/cgi-bin/message/subscribe/bizsend", {"touser": openid, "template_id": cfg.template.id, "page": url, "data": data}
    # client_msg_id: WeChat drops a second message with the same id for the same follower.
    return "/cgi-bin/message/template/send", {
        "touser": openid, "template_id": cfg.template.id, "url": url, "client_msg_id": f"yz-{notice_id}", "data": data,
    }
