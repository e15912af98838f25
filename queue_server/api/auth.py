"""Who is calling: bearer tokens (devices, scripts, clerks) or a console session (see the consoles)."""

from __future__ import annotations

from typing import Callable

from fastapi import Depends, Request

from queue_server.service import CommandError
from queue_server.tokens import Principal, verify_token


def current_principal(request: Request) -> Principal:
    state = request.app.state
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        principal = verify_token(state.db, header[7:].strip())
        if principal is not None:
            return principal
        raise CommandError(401, "unauthorized")
    # Console sessions (cookie) are resolved by a hook the web consoles install.
    session_hook: Callable[[Request], Principal | None] | None = getattr(state, "session_principal", None)
    if session_hook is not None:
        principal = session_hook(request)
        if principal is not None:
            return principal
    raise CommandError(401, "unauthorized")


def require(*roles: str) -> Callable[..., Principal]:
    def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        if principal.role not in roles:
            raise CommandError(403, "forbidden")
        return principal

    return dependency


def may_act_on_window(request: Request, principal: Principal, window_id: str) -> None:
    """Clerks act on their own window; admins on any; a keypad-bus device on the windows of its bus."""
    if principal.role == "admin":
        return
    if principal.role == "clerk":
        if principal.window != window_id:
            raise CommandError(403, "other_window", window=window_id)
        return
    if principal.role == "device":
        cfg = request.app.state.service.cfg
        for bus in cfg.keypad_buses:
            if bus.id == principal.device and window_id in bus.windows:
                return
        raise CommandError(403, "other_window", window=window_id)
    raise CommandError(403, "forbidden")
