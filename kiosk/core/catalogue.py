"""What the kiosk offers, taken from the hall configuration: home tiles, services, windows.

The kiosk reads hall.yaml itself (the same file the server validates), so the guide and
the menus work even while the server is unreachable; live figures (waiting, open) come
from the server and are merged in by `LiveQueues`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from yizhan.config.model import HallConfig, KioskConfig, RealName, Service
from yizhan.i18n import local_name


@dataclass(frozen=True)
class Tile:
    """A home-screen tile: a life event (社保医保 …) grouping the services of its departments."""

    key: str
    name: str
    services: tuple[str, ...]  # service codes


@dataclass
class QueueLive:
    queue: str
    waiting: int | None = None
    estimated_wait_s: int | None = None
    open: bool | None = None


class Catalogue:
    def __init__(self, config: HallConfig) -> None:
        self.config = config
        self._services = {s.code: s for s in config.services}
        self.tiles = self._build_tiles(config)

    @staticmethod
    def _build_tiles(config: HallConfig) -> list[Tile]:
        order: list[str] = []
        by_tile: dict[str, list[str]] = {}
        dep_tile = {d.id: (d.tile or d.name) for d in config.departments}
        for s in config.services:
            name = dep_tile.get(s.department, s.department)
            if name not in by_tile:
                order.append(name)
                by_tile[name] = []
            by_tile[name].append(s.code)
        return [Tile(key=f"t{i}", name=n, services=tuple(by_tile[n])) for i, n in enumerate(order)]

    @property
    def hall_name(self) -> str:
        return self.config.hall.name

    def hall_name_for(self, lang: str) -> str:
        return local_name(self.config.hall, lang)

    def service(self, code: str) -> Service:
        return self._services[code]

    def has_service(self, code: str) -> bool:
        return code in self._services

    def service_name(self, code: str, lang: str = "zh_CN") -> str:
        s = self._services.get(code)
        if s is None:
            return code
        return local_name(s, lang)

    def services(self) -> list[Service]:
        return list(self.config.services)

    def common_services(self) -> list[Service]:
        common = [s for s in self.config.services if s.common]
        return common or list(self.config.services)

    def tile(self, key: str) -> Tile:
        return next(t for t in self.tiles if t.key == key)

    def tile_services(self, key: str) -> list[Service]:
        return [self._services[c] for c in self.tile(key).services]

    def queue_name(self, queue_id: str) -> str:
        try:
            return self.config.queue(queue_id).name
        except StopIteration:
            return queue_id

    def windows_for_service(self, code: str) -> list[str]:
        s = self._services[code]
        return [w.display_name for w in self.config.windows_for_queue(s.queue)]

    def real_name(self, code: str) -> RealName:
        return self._services[code].real_name

    def kiosk(self, kiosk_id: str) -> KioskConfig:
        for k in self.config.kiosks:
            if k.id == kiosk_id:
                return k
        return KioskConfig(id=kiosk_id)

    def public_base(self, server_url: str) -> str:
        return (self.config.hall.public_url or server_url).rstrip("/")


@dataclass
class LiveQueues:
    """Waiting counts from the server (`GET /api/v1/queues`), refreshed in the background."""

    _by_queue: dict[str, QueueLive] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def update(self, rows: list[dict]) -> None:
        fresh: dict[str, QueueLive] = {}
        for row in rows:
            qid = str(row.get("id") or row.get("queue") or "")
            if not qid:
                continue
            fresh[qid] = QueueLive(
                queue=qid,
                waiting=_int(row.get("waiting")),
                estimated_wait_s=_int(row.get("estimated_wait_s")),
                open=row.get("open") if isinstance(row.get("open"), bool) else None,
            )
        with self._lock:
            self._by_queue = fresh

    def get(self, queue_id: str) -> QueueLive | None:
        with self._lock:
            return self._by_queue.get(queue_id)


def _int(v: object) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None
