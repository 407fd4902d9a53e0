"""Database fixtures: a fresh SQLite file per test, or, when DATABASE_URL names PostgreSQL,
that server with every table emptied before each test. Blob fixtures: a fresh folder per test,
or, when ATELIER_TEST_BLOB_URL names an S3 bucket (`make test-postgres` starts SeaweedFS and
sets it), a fresh prefix in that bucket per test."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from atelier.bootstrap import Services
from atelier.config import Settings
from db.blobs import BlobStore, open_blob_store
from db.migrate import upgrade
from db.models import Base
from db.session import make_sessionmaker
from tests.scripts import key_values, run_script

POSTGRES_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = POSTGRES_URL.startswith(("postgresql", "postgres"))
S3_TEST_URL = os.environ.get("ATELIER_TEST_BLOB_URL", "").rstrip("/")


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
        # the job engine's queue too: a task left from an earlier test would run this one's job
        tables = ", ".join(
            [t.name for t in Base.metadata.sorted_tables]
            + ["procrastinate_jobs", "procrastinate_workers"]
        )
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
def blob_url() -> str | None:
    """Where this test's app keeps blobs: a fresh prefix of the S3 bucket under test, or None
    (the embedded default, a folder in the data directory)."""
    return f"{S3_TEST_URL}/t-{uuid.uuid4().hex}" if S3_TEST_URL else None


@pytest.fixture
def blobs(tmp_path, blob_url) -> BlobStore:
    return open_blob_store(blob_url, tmp_path / "blobs")


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory) -> dict[str, str]:
    """A real S3 server (SeaweedFS, scripts/seaweedfs.sh) for the tests that need one: the
    settings it prints (ATELIER_BLOB_URL, AWS_ENDPOINT_URL, keys). Started if it is not
    running, and then stopped at the end."""
    running = run_script("seaweedfs.sh", "status").returncode == 0
    started = run_script("seaweedfs.sh", "start", timeout=120)
    if started.returncode != 0:
        pytest.fail(f"SeaweedFS did not start: {started.stderr.strip()[-2000:]}")
    yield key_values(started.stdout)
    if not running:
        run_script("seaweedfs.sh", "stop", timeout=60)
