"""Open the database and bring its schema to the newest Alembic revision.

Migrations run on open so a fresh home, an old home and a PostgreSQL URL all end up at the
same schema without a separate setup step.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def _alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("clearance") / "migrations"))
    cfg.attributes["engine"] = engine
    return cfg


def _enable_sqlite_pragmas(engine: Engine) -> None:
    """Foreign keys (for cascades) and WAL (readers never block the writer) on SQLite."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()


def migrate(engine: Engine) -> None:
    """Upgrade to head unless already there (checking is cheap, upgrading takes a lock)."""
    cfg = _alembic_config(engine)
    head = ScriptDirectory.from_config(cfg).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current != head:
        command.upgrade(cfg, "head")


@cache
def open_engine(url: str) -> Engine:
    """One engine per URL per process, migrated to the newest schema."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        _enable_sqlite_pragmas(engine)
    migrate(engine)
    return engine


def session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(open_engine(url), expire_on_commit=False)
