"""The WeChat bridge (`yizhan wechat`): follows `ticket/#` on the hall's broker and sends
WeChat notices to the followers bound to each ticket (docs/wechat.md)."""
