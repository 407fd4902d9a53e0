"""favourites, ratings, follows, page views, style embeddings, notifications

- `favourites`, `ratings` (1 to 5 stars): what people liked, read by the artist's insight
  panel and by "tune my model on what collectors liked" (marketplace.taste,
  marketplace.tuning).
- `follows`: a person follows an artist; the artist's new listings notify them.
- `artwork_views`: page views per work and day, counted up in place.
- `artwork_styles`: each work's 100-number style embedding, for "more like this"
  (marketplace.style_index); filled by the workers' sweep, or on first use.
- `notifications`: outbid, won, sold, royalty, offer received or answered, copyright report,
  new work by someone you follow; written in the transaction of what they tell.

Only new tables: nothing existing changes.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "follows",
        sa.Column("follower_id", sa.Integer(), nullable=False),
        sa.Column("artist_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("follower_id <> artist_id", name=op.f("ck_follows_not_self")),
        sa.ForeignKeyConstraint(
            ["artist_id"], ["users.id"], name=op.f("fk_follows_artist_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["follower_id"], ["users.id"], name=op.f("fk_follows_follower_id_users")
        ),
        sa.PrimaryKeyConstraint("follower_id", "artist_id", name=op.f("pk_follows")),
    )
    with op.batch_alter_table("follows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follows_artist_id"), ["artist_id"], unique=False)

    op.create_table(
        "artwork_styles",
        sa.Column("artwork_id", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["artwork_id"], ["artworks.id"], name=op.f("fk_artwork_styles_artwork_id_artworks")
        ),
        sa.PrimaryKeyConstraint("artwork_id", name=op.f("pk_artwork_styles")),
    )
    op.create_table(
        "artwork_views",
        sa.Column("artwork_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.CheckConstraint("views > 0", name=op.f("ck_artwork_views_views_positive")),
        sa.ForeignKeyConstraint(
            ["artwork_id"], ["artworks.id"], name=op.f("fk_artwork_views_artwork_id_artworks")
        ),
        sa.PrimaryKeyConstraint("artwork_id", "day", name=op.f("pk_artwork_views")),
    )
    op.create_table(
        "favourites",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("artwork_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["artwork_id"], ["artworks.id"], name=op.f("fk_favourites_artwork_id_artworks")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_favourites_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "artwork_id", name=op.f("pk_favourites")),
    )
    with op.batch_alter_table("favourites", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_favourites_artwork_id"), ["artwork_id"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("artwork_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('outbid', 'won', 'sold', 'royalty', 'offer_received', "
            "'offer_answered', 'takedown', 'new_work')",
            name=op.f("ck_notifications_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["artwork_id"], ["artworks.id"], name=op.f("fk_notifications_artwork_id_artworks")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_user_id_id", ["user_id", "id"], unique=False)

    op.create_table(
        "ratings",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("artwork_id", sa.Integer(), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("stars >= 1 AND stars <= 5", name=op.f("ck_ratings_stars_in_range")),
        sa.ForeignKeyConstraint(
            ["artwork_id"], ["artworks.id"], name=op.f("fk_ratings_artwork_id_artworks")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_ratings_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", "artwork_id", name=op.f("pk_ratings")),
    )
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ratings_artwork_id"), ["artwork_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ratings_artwork_id"))

    op.drop_table("ratings")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_user_id_id")

    op.drop_table("notifications")
    with op.batch_alter_table("favourites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_favourites_artwork_id"))

    op.drop_table("favourites")
    op.drop_table("artwork_views")
    op.drop_table("artwork_styles")
    with op.batch_alter_table("follows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follows_artist_id"))

    op.drop_table("follows")
