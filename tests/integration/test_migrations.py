from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from db.migrate import HEAD_REVISION, current_revision, head_revision, include_object, upgrade
from db.models import Base
from db.session import make_engine


def test_the_migrations_build_exactly_the_schema_the_models_declare(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_the_test_database_is_at_the_head_revision(engine):
    assert current_revision(engine) == head_revision()


def test_upgrade_creates_every_table_on_an_empty_database_and_is_idempotent(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert upgrade(engine) == head_revision()
    assert upgrade(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    engine.dispose()


def test_the_fast_path_knows_the_newest_migration():
    # a database stamped HEAD_REVISION skips Alembic at start: a new migration must bump it,
    # or databases would stay one revision behind
    assert head_revision() == HEAD_REVISION


def test_a_database_one_revision_behind_is_still_migrated(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    assert upgrade(engine, "0005") == "0005"
    assert upgrade(engine) == HEAD_REVISION
    assert "username_skeleton" in {c["name"] for c in inspect(engine).get_columns("users")}
    engine.dispose()
