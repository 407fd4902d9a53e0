"""local features of artworks, for naming cropped, captioned and rotated copies; public
manifests for the soft-binding resolution API

- `artwork_features`: one row per artwork: its visual words (the inverted index is built
  from them) and the blob key of its keypoints, descriptors and alignment picture. Artworks
  registered before this revision get theirs the first time the index is brought up to date
  (`marketplace.local_matching.backfill`), since the migration cannot read the blob store.
  Its `iscc` column holds the work's ISCC Image-Code, the soft binding in its manifests.
- `public_manifests`: the public C2PA manifest store of an artwork (signed on first request
  by the resolution API; its bytes in the blob store), by its manifest identifier.

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
        sa.Column("iscc", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["artwork_id"], ["artworks.id"], name=op.f("fk_artwork_features_artwork_id_artworks")
        ),
        sa.PrimaryKeyConstraint("artwork_id", name=op.f("pk_artwork_features")),
    )
    op.create_index(op.f("ix_artwork_features_iscc"), "artwork_features", ["iscc"])
    op.create_table(
        "public_manifests",
        sa.Column("artwork_id", sa.Integer(), nullable=False),
        sa.Column("manifest_id", sa.String(length=100), nullable=False),
        sa.Column("blob_key", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["artwork_id"], ["artworks.id"], name=op.f("fk_public_manifests_artwork_id_artworks")
        ),
        sa.PrimaryKeyConstraint("artwork_id", name=op.f("pk_public_manifests")),
        sa.UniqueConstraint("manifest_id", name=op.f("uq_public_manifests_manifest_id")),
    )


def downgrade() -> None:
    op.drop_table("public_manifests")
    op.drop_index(op.f("ix_artwork_features_iscc"), table_name="artwork_features")
    op.drop_table("artwork_features")
