"""Server side of WeChat (微信叫号): the callback's signature and events, bindings and
notices in the database, the account's access token and parametric QR codes."""
