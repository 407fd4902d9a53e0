"""local features of artworks, for naming cropped, captioned and rotated copies

- `artwork_features`: one row per artwork: its visual words (the inverted index is built
  from them) and the blob key of its keypoints, descriptors and alignment picture. Artworks
  registered before this revision get theirs the first time the index is brought up to date
  (`marketplace.local_matching.backfill`), since the migration cannot read the blob store.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "artwork_features",
        sa.Column("artwork_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("words", sa.LargeBinary(), nullable=False),
        sa.Column("blob_key", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["artwork_id"], ["artworks.id"], name=op.f("fk_artwork_features_artwork_id_artworks")
        ),
        sa.PrimaryKeyConstraint("artwork_id", name=op.f("pk_artwork_features")),
    )


def downgrade() -> None:
    op.drop_table("artwork_features")
