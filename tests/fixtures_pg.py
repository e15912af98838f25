"""A real PostgreSQL for tests: initdb in a temp dir, a free loopback port, stopped afterwards.

Debian's server binaries live in /usr/lib/postgresql/<version>/bin; initdb refuses to run as
root, so as root the cluster is created and run as the `postgres` user.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures_hall import free_port


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _as_db_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@dataclass
class Postgres:
    port: int
    data: Path

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def create_database(self, name: str) -> str:
        subprocess.run(
            _as_db_user([_bin("psql") or "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-c", f'CREATE DATABASE "{name}"']),
            check=True, capture_output=True,
        )
        return self.url(name)


@pytest.fixture(scope="session")
def postgres():
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.fail("PostgreSQL server binaries not found: run `make test` (installs the Debian package postgresql)")
    root = Path(tempfile.mkdtemp(prefix="yz-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data = root / "data"
    subprocess.run(_as_db_user([initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]), check=True, capture_output=True)
    port = free_port()
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
    subprocess.run(_as_db_user([pg_ctl, "-D", str(data), "-l", str(root / "pg.log"), "-w", "-o", opts, "start"]), check=True, capture_output=True)
    try:
        yield Postgres(port, data)
    finally:
        subprocess.run(_as_db_user([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path):
    """A migrated hall database, once on SQLite and once on a fresh database of the real PostgreSQL."""
    from queue_server.db.engine import Database
    from queue_server.db.migrate import upgrade

    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'hall.db'}")
    else:
        db = Database(request.getfixturevalue("postgres").create_database(f"t_{uuid.uuid4().hex[:12]}"))
    upgrade(db.engine)
    yield db
    db.dispose()
