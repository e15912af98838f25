"""Free loopback ports for child processes that are told their port before they bind it.

A port got with bind(0) comes from the kernel's ephemeral range, where any outgoing
connection of any process may take it again before the child binds it ("address already in
use", seen in CI). Ports are therefore handed out from below that range, walking on from a
random start so that processes running side by side do not meet, and never twice by one
process while its range lasts.
"""

from __future__ import annotations

import random
import socket
import threading

_LOWEST = 10000
_lock = threading.Lock()
_next: int | None = None


def _ephemeral_start() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as fh:
            return int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux default


def _bindable(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    global _next
    top = _ephemeral_start()
    if top - _LOWEST < 1000:  # an unusual range: fall back to the kernel's choice
        with socket.socket() as s:
            s.bind((host, 0))
            return s.getsockname()[1]
    span = top - _LOWEST
    with _lock:
        if _next is None:
            _next = random.randrange(_LOWEST, top)
        for _ in range(span):
            port = _next
            _next = _LOWEST + (port + 1 - _LOWEST) % span
            if _bindable(host, port):
                return port
    raise RuntimeError(f"no free port between {_LOWEST} and {top}")
