"""Database fixtures: a fresh SQLite file per test, or, when DATABASE_URL names PostgreSQL,
that server with every table emptied before each test."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from atelier.bootstrap import Services
from atelier.config import Settings
from db.blobs import LocalBlobStore
from db.migrate import upgrade
from db.models import Base
from db.session import make_sessionmaker

POSTGRES_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = POSTGRES_URL.startswith(("postgresql", "postgres"))


def database(folder: Path, url: str, *, migrate: bool = True, pool_size: int = 10):
    """An engine through the one bootstrap (`atelier.bootstrap.Services`), as the app gets it."""
    settings = Settings(data_dir=folder, database_url=url, pool_size=pool_size)
    return Services.from_settings(settings, migrate=migrate).engine


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("template")
    engine = database(folder, f"sqlite:///{folder / 'template.db'}")
    engine.dispose()
    return folder / "template.db"


@pytest.fixture(scope="session")
def postgres_engine(tmp_path_factory):
    if not ON_POSTGRES:
        yield None
        return
    engine = database(tmp_path_factory.mktemp("pg"), POSTGRES_URL, migrate=False, pool_size=60)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(request, tmp_path, sqlite_template, postgres_engine):
    if postgres_engine is not None:
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with postgres_engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            # the row migration 0003 seeds
            conn.execute(text("INSERT INTO log_state (id, size) VALUES (1, 0)"))
        yield postgres_engine
        return
    path = tmp_path / "atelier.db"
    shutil.copy(sqlite_template, path)
    engine = database(tmp_path, f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine):
    """A session factory: `with sessions() as s, s.begin(): ...` is one unit of work."""
    return make_sessionmaker(engine)


@pytest.fixture
def readers(engine):
    """A read-only session factory (deferred transactions on SQLite)."""
    return make_sessionmaker(engine, read_only=True)


@pytest.fixture
def blobs(tmp_path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")
