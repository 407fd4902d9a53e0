"""Bring a database's schema to the newest migration.

Every entry point migrates at start (`atelier.bootstrap.Services`). A database already at
the newest revision is recognised by one query, without importing Alembic (a tenth of a
second that every CLI command would otherwise pay); `HEAD_REVISION` names that revision and
a test keeps it equal to the migrations' head.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, exc, text

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
HEAD_REVISION = "0011"  # the newest file in migrations/versions; bump with each migration
# objects the migrations create that the models do not declare (database-specific search
# indexes); schema comparisons leave them out
# the search index's SQL and the job engine's own schema (migration 0008) are not models
UNMANAGED_PREFIXES = ("artwork_search", "ix_artworks_search_trgm", "procrastinate_")


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic filter: compare only what the models declare."""
    return not (name or "").startswith(UNMANAGED_PREFIXES)


def alembic_config(url: str | None = None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _stamped_revision(engine: Engine) -> str | None:
    """The revision recorded in the database, or None (no table yet, or several rows)."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except exc.DBAPIError:
        return None
    return rows[0][0] if len(rows) == 1 else None


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Migrate `engine`'s database to `revision`; returns the revision it is at afterwards."""
    if revision in ("head", HEAD_REVISION) and _stamped_revision(engine) == HEAD_REVISION:
        return HEAD_REVISION
    from alembic import command

    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # SQLite changes a constraint by rebuilding the table (Alembic's batch mode): its
            # DROP would count every row pointing at it as a violation. Foreign keys are off
            # for the migration (a PRAGMA that works only outside a transaction) and checked
            # in full before it commits.
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                config = alembic_config()
                config.attributes["connection"] = conn
                command.upgrade(config, revision)
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(
                            f"the migration left rows pointing nowhere: {broken[:5]}"
                        )
        finally:
            if sqlite:
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
    return current_revision(engine)
