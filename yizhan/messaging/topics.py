"""The single source of the hall's MQTT topic names (DESIGN.md, docs/mqtt.md).

All topics live under `yizhan/<hall>/`; a contract test checks that the code
publishes exactly the documented set.
"""

from __future__ import annotations

ROOT = "yizhan"


def prefix(hall: str) -> str:
    return f"{ROOT}/{hall}"


def call(hall: str) -> str:
    return f"{ROOT}/{hall}/call"


def window_state(hall: str, window: str) -> str:
    return f"{ROOT}/{hall}/window/{window}/state"


def queue_state(hall: str, queue: str) -> str:
    return f"{ROOT}/{hall}/queue/{queue}/state"


def ticket(hall: str, token: str) -> str:
    return f"{ROOT}/{hall}/ticket/{token}"


def device_status(hall: str, device: str) -> str:
    return f"{ROOT}/{hall}/device/{device}/status"


def server_status(hall: str) -> str:
    return f"{ROOT}/{hall}/server/status"


# Subscription filters.
def all_windows(hall: str) -> str:
    return f"{ROOT}/{hall}/window/+/state"


def all_queues(hall: str) -> str:
    return f"{ROOT}/{hall}/queue/+/state"


def all_tickets(hall: str) -> str:
    return f"{ROOT}/{hall}/ticket/#"


def all_devices(hall: str) -> str:
    return f"{ROOT}/{hall}/device/+/status"
