"""Estimated waiting time from the line ahead, the open windows and recent service times."""

from __future__ import annotations

import math
import statistics


def service_time_estimate(recent_service_s: list[float], default_s: float) -> float:
    """Median of recent service times (robust to a forgotten 'finish'), or the default before any history."""
    if len(recent_service_s) < 3:
        return float(default_s)
    return float(statistics.median(recent_service_s))


def estimated_wait_s(ahead: int, open_windows: float, service_s: float) -> int:
    """`open_windows` may be fractional: a window serving several queues counts by its weight share.
    With no window open yet, assume one will open (halls open windows before the queue starts)."""
    capacity = max(open_windows, 1.0)
    return int(math.ceil(ahead / capacity) * service_s) if ahead > 0 else 0
