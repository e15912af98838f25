"""Database engine and sessions: SQLite in WAL mode by default, PostgreSQL by YIZHAN_DB_URL."""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)


def normalize_url(url: str) -> str:
    """Accepts plain `postgresql://` URLs (DESIGN.md) and picks the psycopg 3 driver."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=20, max_overflow=40)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # Take over transaction control from pysqlite so BEGIN IMMEDIATE can be used.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # type: ignore[no-untyped-def]
            # Writers take the write lock at BEGIN: read-decide-write is then serialized,
            # so two windows never pick the same ticket.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("yz_write") else "BEGIN")

        return engine
    return create_engine(url, pool_size=20, max_overflow=40, pool_pre_ping=True)


class Database:
    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        self.engine = make_engine(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(self.engine.execution_options(yz_write=True), expire_on_commit=False)
        # SQLite allows one writer at a time. Queueing writers on a lock in-process is fair and
        # immediate; left to SQLite's busy handler they poll with growing sleeps (seconds of tail latency).
        # BEGIN IMMEDIATE still guards against other processes on the same file.
        self._write_lock = threading.Lock() if self.is_sqlite else nullcontext()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction that changes state; commits on success, rolls back on any error."""
        with self._write_lock, self._write() as s, s.begin():
            yield s

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as s, s.begin():
            yield s

    def dispose(self) -> None:
        self.engine.dispose()
