"""Open the database and bring its schema to the newest Alembic revision.

Migrations run on open so a fresh home, an old home and a PostgreSQL URL all end up at the
same schema without a separate setup step.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config


HEAD_REVISION = "0003"
"""The newest migration (a test checks it against the migrations folder). Comparing the stored
revision with it needs no Alembic import, which takes ~0.3 s of every process start."""


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

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


def _stored_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:  # no schema yet
        return None


def migrate(engine: Engine) -> None:
    """Upgrade to head unless already there (checking is one query, upgrading takes a lock)."""
    if _stored_revision(engine) != HEAD_REVISION:
        from alembic import command

        command.upgrade(_alembic_config(engine), "head")


class DatabaseUnavailable(RuntimeError):
    """The database URL names no database this process can open: a setup error, said in one line
    (the CLI exits 2 with it) rather than as a driver's traceback."""


@cache
def open_engine(url: str) -> Engine:
    """One engine per URL per process, migrated to the newest schema."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        # a server's PostgreSQL connections can be dropped under it; a SQLite file cannot, and the
        # ping cost ~4% of a prompt request's CPU
        engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"))
        if engine.dialect.name == "sqlite":
            _enable_sqlite_pragmas(engine)
        migrate(engine)
    except (ArgumentError, DBAPIError) as exc:
        raise DatabaseUnavailable(f"cannot open the database {_shown(url)}: {_first_line(exc)}") from exc
    except ImportError as exc:  # a dialect whose driver is not installed (mysql://, oracle://)
        raise DatabaseUnavailable(f"cannot open the database {_shown(url)}: only SQLite and PostgreSQL are "
                                  f"supported ({exc})") from exc
    return engine


def _shown(url: str) -> str:
    """The URL without its password, which must not reach a terminal or a log: neither the one
    before the host nor one among the query's parameters (``?password=``), so no query is shown."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url.split("@")[-1].split("?")[0] if "@" in url else url.split("?")[0]
    return parsed.set(query={}).render_as_string(hide_password=True) + ("?…" if parsed.query else "")


def _first_line(exc: Exception) -> str:
    """The driver's reason, without SQLAlchemy's statement and background-link lines."""
    reason = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    return (str(reason).strip().splitlines() or [type(reason).__name__])[0]


def session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(open_engine(url), expire_on_commit=False)
