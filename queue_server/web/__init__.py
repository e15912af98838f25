"""The web consoles: the window clerk's console (/console) and the hall manager's console (/admin).

Server-rendered Jinja2 pages; live updates by server-sent events from a change feed on the
outbox table; console accounts with argon2 passwords, sessions stored as tokens (so every server
process on one database accepts them) and CSRF tokens derived from the session.
"""
