"""username skeletons, recipe salts, sign-up attempts

- `users.username_skeleton`: the confusable skeleton of each name, unique, so a look-alike
  (`rnary` for `mary`) cannot be registered. Existing accounts get theirs; where two old names
  already share one, the later account keeps NULL (it stays usable, nobody new can copy it).
- `artworks.recipe_salt`: a secret per artwork; public records publish only the commitment
  SHA-256(canonical recipe, salt). Existing artworks get a fresh random salt.
- `login_attempts.kind`: "sign_in" or "sign_up", so account creation is limited per address.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# a copy of marketplace.accounts.username_skeleton as of this revision: a migration must not
# change meaning when the application code does
_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"))
_CHARS = str.maketrans({"0": "o", "1": "l", "i": "l", "_": "-", ".": "-"})


def _skeleton(username: str) -> str:
    skeleton = username.casefold()
    for pair, single in _PAIRS:
        skeleton = skeleton.replace(pair, single)
    return skeleton.translate(_CHARS)


def upgrade() -> None:
    # plain ADD COLUMN and CREATE INDEX only: SQLite's batch mode would rebuild the artworks
    # table and drop the full-text search triggers that 0002 put on it
    op.add_column("users", sa.Column("username_skeleton", sa.String(length=32), nullable=True))
    op.add_column(
        "artworks",
        sa.Column("recipe_salt", sa.String(length=64), server_default="", nullable=False),
    )
    op.add_column(
        "login_attempts",
        sa.Column("kind", sa.String(length=16), server_default="sign_in", nullable=False),
    )

    bind = op.get_bind()
    users = sa.table(
        "users", sa.column("id"), sa.column("username"), sa.column("username_skeleton")
    )
    seen: set[str] = set()
    rows = bind.execute(sa.select(users.c.id, users.c.username).order_by(users.c.id)).all()
    for user_id, username in rows:
        skeleton = _skeleton(username)
        if skeleton in seen:
            continue
        seen.add(skeleton)
        bind.execute(users.update().where(users.c.id == user_id).values(username_skeleton=skeleton))
    artworks = sa.table("artworks", sa.column("id"), sa.column("recipe_salt"))
    for (artwork_id,) in bind.execute(sa.select(artworks.c.id)).all():
        bind.execute(
            artworks.update()
            .where(artworks.c.id == artwork_id)
            .values(recipe_salt=secrets.token_hex(32))
        )
    if bind.dialect.name == "postgresql":
        op.alter_column("artworks", "recipe_salt", server_default=None)
    op.create_index("ix_users_username_skeleton", "users", ["username_skeleton"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_users_username_skeleton", table_name="users")
    op.drop_column("login_attempts", "kind")
    op.drop_column("artworks", "recipe_salt")
    op.drop_column("users", "username_skeleton")
