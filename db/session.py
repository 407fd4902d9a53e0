"""Engine and session set-up from a database URL.

SQLite gets WAL, foreign keys and `BEGIN IMMEDIATE` transactions: a unit of work takes the
write lock when it starts, so two purchases never both read a listing as available and then
race to write it (the same choice Rails 8 makes for SQLite). PostgreSQL runs at READ COMMITTED;
the services take row locks (`SELECT ... FOR UPDATE`) where they need them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.util import identity_key

SQLITE_BUSY_TIMEOUT_MS = 30_000


def dialect_insert(dialect_name: str, table):
    """An INSERT into `table` in the dialect's own form, which has ON CONFLICT (PostgreSQL's
    and SQLite's spell it the same; the generic INSERT has none)."""
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql if dialect_name == "postgresql" else sqlite).insert(table)


def normalise_url(url: str) -> str:
    """Map plain `postgresql://` URLs onto the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> Engine:
    """Create an engine for `url` with Atelier's connection settings.

    Args:
        url: a SQLAlchemy database URL (`sqlite:///path.db` or `postgresql://...`).
        pool_size: connections kept open (PostgreSQL).
        echo: log every statement.

    Raises:
        ValueError: for a database other than SQLite or PostgreSQL.
    """
    url = normalise_url(url)
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            # when the folder cannot be made, SQLite says it cannot open the file, which
            # callers report in their words
            with contextlib.suppress(OSError):
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        )
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        return create_engine(
            url, echo=echo, pool_size=pool_size, max_overflow=pool_size * 6, pool_pre_ping=True
        )
    raise ValueError(f"`DATABASE_URL` must be a sqlite or postgresql URL, got {backend!r}")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # let SQLAlchemy, not pysqlite, decide when transactions begin
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


def make_sessionmaker(engine: Engine, *, read_only: bool = False) -> sessionmaker:
    """A session factory whose objects stay readable after commit.

    Args:
        engine: from `make_engine`.
        read_only: for sessions that only read (gallery pages, reports). On SQLite they
            begin DEFERRED, so they neither wait for nor hold the write lock and read a
            consistent WAL snapshot; on PostgreSQL nothing changes.
    """
    if read_only and engine.dialect.name == "sqlite":
        engine = engine.execution_options(sqlite_begin="DEFERRED")
    return sessionmaker(engine, expire_on_commit=False)


def reachable(sessions: sessionmaker) -> bool:
    """True if a session from `sessions` can run a query now (a health check's question)."""
    try:
        with sessions() as s:
            s.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


def flush_pending(session: Session) -> None:
    """Flush the session's pending ORM changes, as autoflush would before a query: for code
    that goes on with Core statements on `session.connection()`, which autoflush skips."""
    if session.new or session.dirty or session.deleted:
        session.flush()


def expire_cached(session: Session, model: type, ids: Iterable[int]) -> None:
    """Expire the `model` objects with these ids that the session holds, so their next use
    reads the rows that Core statements have just changed."""
    for row_id in ids:
        obj = session.identity_map.get(identity_key(model, row_id))
        if obj is not None:
            session.expire(obj)
