import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

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


def test_0010_keeps_the_ledger_and_sales_it_rebuilds_and_admits_escrow(tmp_path):
    # SQLite rebuilds ledger_transactions, ledger_entries and sales to change their CHECKs:
    # rows (and rows pointing at them) must come through, and the new kinds must be accepted
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    assert upgrade(engine, "0009") == "0009"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, username, username_key, password_hash, balance_cents, "
                "created_at) VALUES (1, 'ada', 'ada', 'x', 500, '2026-01-01')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO ledger_transactions (id, kind, memo, created_at) "
                "VALUES (7, 'grant', 'start', '2026-01-01')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO ledger_entries (transaction_id, user_id, system_account, role, "
                "amount_cents) VALUES (7, 1, NULL, 'grant', 500), "
                "(7, NULL, 'issuance', 'grant', -500)"
            )
        )
    assert upgrade(engine) == HEAD_REVISION
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM ledger_entries")).scalar() == 2
        assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
        conn.execute(
            text(
                "INSERT INTO ledger_transactions (id, kind, memo, created_at) "
                "VALUES (8, 'escrow', 'bid', '2026-01-02')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO ledger_entries (transaction_id, user_id, system_account, role, "
                "amount_cents) VALUES (8, 1, NULL, 'bid', -100), "
                "(8, NULL, 'escrow:auction:1', 'escrow', 100)"
            )
        )
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO ledger_entries (transaction_id, user_id, system_account, role, "
                "amount_cents) VALUES (8, NULL, 'somewhere', 'x', 1)"
            )
        )
    engine.dispose()
