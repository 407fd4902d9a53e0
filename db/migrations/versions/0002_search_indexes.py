"""search indexes for gallery text search

Substring search over `artworks.search_text` with an index on both databases:
SQLite gets an external-content FTS5 table with the trigram tokenizer (kept in step with
`artworks` by triggers); PostgreSQL gets a pg_trgm GIN index, which serves `LIKE '%word%'`.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE artwork_search USING fts5("
            "search_text, content='artworks', content_rowid='id', tokenize='trigram')"
        )
        op.execute(
            "CREATE TRIGGER artwork_search_insert AFTER INSERT ON artworks BEGIN "
            "INSERT INTO artwork_search(rowid, search_text) VALUES (new.id, new.search_text); "
            "END"
        )
        op.execute(
            "CREATE TRIGGER artwork_search_delete AFTER DELETE ON artworks BEGIN "
            "INSERT INTO artwork_search(artwork_search, rowid, search_text) "
            "VALUES ('delete', old.id, old.search_text); END"
        )
        op.execute(
            "CREATE TRIGGER artwork_search_update AFTER UPDATE OF search_text ON artworks BEGIN "
            "INSERT INTO artwork_search(artwork_search, rowid, search_text) "
            "VALUES ('delete', old.id, old.search_text); "
            "INSERT INTO artwork_search(rowid, search_text) VALUES (new.id, new.search_text); "
            "END"
        )
        op.execute("INSERT INTO artwork_search(artwork_search) VALUES ('rebuild')")
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE INDEX ix_artworks_search_trgm ON artworks USING gin (search_text gin_trgm_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS artwork_search_{name}")
        op.execute("DROP TABLE IF EXISTS artwork_search")
    else:
        op.execute("DROP INDEX IF EXISTS ix_artworks_search_trgm")
