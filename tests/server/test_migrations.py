"""The migrations build exactly the tables the code declares, and step back and forth."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from queue_server.db.migrate import alembic_config
from queue_server.db.tables import Base


def test_migrations_match_the_models_and_downgrade(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'hall.db'}")
    cfg = alembic_config(engine)
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    command.downgrade(cfg, "0001")
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
