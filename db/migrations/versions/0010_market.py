"""reserve and Dutch auctions, bids, offers, escrow in the ledger, copyright reports

- `auctions`, `bids`, `offers`: the market's new ways to sell (marketplace.auctions,
  marketplace.offers).
- `commissions`, `commission_candidates`: briefs with escrowed budgets, and the works artists
  answer with (marketplace.commissions).
- `takedowns` and `artworks.sales_blocked`: copyright reports, and the sales a report stops
  (marketplace.takedowns).
- `listings.status` adds `suspended` (a copyright report stopped its work's sales).
- `sales.listing_id` may be NULL: a sale comes from a listing, an auction, an offer or a
  commission (`auction_id`, `offer_id`, `commission_id`), exactly one of them.
- `ledger_transactions.kind` adds `escrow` (money put aside for a bid or an offer) and
  `refund` (given back); `ledger_entries.system_account` admits the per-auction, per-offer and
  per-commission escrow accounts, `escrow:auction:<id>` … (40 characters).

SQLite cannot change a CHECK constraint in place: the three tables are rebuilt (batch mode);
`db.migrate.upgrade` turns foreign keys off for it and checks them all before committing.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

OLD_LISTING_STATUSES = "status IN ('active', 'sold_out', 'sold', 'delisted', 'cancelled')"
NEW_LISTING_STATUSES = (
    "status IN ('active', 'sold_out', 'sold', 'delisted', 'cancelled', 'suspended')"
)
OLD_KINDS = "kind IN ('grant', 'sale')"
NEW_KINDS = "kind IN ('grant', 'sale', 'escrow', 'refund')"
OLD_ACCOUNTS = "system_account IS NULL OR system_account IN ('platform', 'issuance')"
NEW_ACCOUNTS = OLD_ACCOUNTS + " OR system_account LIKE 'escrow:%'"
ONE_ORIGIN = (
    "(CASE WHEN listing_id IS NULL THEN 0 ELSE 1 END) + "
    "(CASE WHEN auction_id IS NULL THEN 0 ELSE 1 END) + "
    "(CASE WHEN offer_id IS NULL THEN 0 ELSE 1 END) + "
    "(CASE WHEN commission_id IS NULL THEN 0 ELSE 1 END) = 1"
)


def _open_only():
    where = sa.text("status = 'open'")
    return {"sqlite_where": where, "postgresql_where": where}


def upgrade() -> None:
    op.create_table(
        "auctions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("artwork_id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reserve_cents", sa.BigInteger(), nullable=False),
        sa.Column("start_price_cents", sa.BigInteger(), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("extension_seconds", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("high_bidder_id", sa.Integer(), nullable=True),
        sa.Column("high_bid_cents", sa.BigInteger(), nullable=True),
        sa.Column("bid_count", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('reserve', 'dutch')", name=op.f("ck_auctions_kind_known")),
        sa.CheckConstraint(
            "status IN ('open', 'settled', 'unsold', 'cancelled')",
            name=op.f("ck_auctions_status_known"),
        ),
        sa.CheckConstraint("reserve_cents > 0", name=op.f("ck_auctions_reserve_positive")),
        sa.CheckConstraint(
            "kind <> 'dutch' OR start_price_cents > reserve_cents",
            name=op.f("ck_auctions_dutch_falls"),
        ),
        sa.CheckConstraint("duration_seconds > 0", name=op.f("ck_auctions_duration_positive")),
        sa.CheckConstraint(
            "extension_seconds >= 0", name=op.f("ck_auctions_extension_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["artwork_id"], ["artworks.id"], name=op.f("fk_auctions_artwork_id_artworks")
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["users.id"], name=op.f("fk_auctions_seller_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["high_bidder_id"], ["users.id"], name=op.f("fk_auctions_high_bidder_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auctions")),
    )
    op.create_index(op.f("ix_auctions_artwork_id"), "auctions", ["artwork_id"])
    op.create_index(op.f("ix_auctions_seller_id"), "auctions", ["seller_id"])
    op.create_index("ix_auctions_status_ends", "auctions", ["status", "ends_at"])
    op.create_index(
        "uq_auctions_open_artwork", "auctions", ["artwork_id"], unique=True, **_open_only()
    )

    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("artwork_id", sa.Integer(), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=False),
        sa.Column("licence_tier", sa.String(length=16), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'accepted', 'declined', 'withdrawn', 'expired')",
            name=op.f("ck_offers_status_known"),
        ),
        sa.CheckConstraint(
            "licence_tier IN ('personal', 'commercial', 'exclusive')",
            name=op.f("ck_offers_tier_known"),
        ),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_offers_amount_positive")),
        sa.ForeignKeyConstraint(
            ["artwork_id"], ["artworks.id"], name=op.f("fk_offers_artwork_id_artworks")
        ),
        sa.ForeignKeyConstraint(["buyer_id"], ["users.id"], name=op.f("fk_offers_buyer_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
    )
    op.create_index(op.f("ix_offers_artwork_id"), "offers", ["artwork_id"])
    op.create_index(op.f("ix_offers_buyer_id"), "offers", ["buyer_id"])
    op.create_index("ix_offers_status_expires", "offers", ["status", "expires_at"])
    op.create_index(
        "uq_offers_open_buyer_artwork_tier",
        "offers",
        ["buyer_id", "artwork_id", "licence_tier"],
        unique=True,
        **_open_only(),
    )

    op.create_table(
        "bids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("auction_id", sa.Integer(), nullable=False),
        sa.Column("bidder_id", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("ledger_transaction_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_bids_amount_positive")),
        sa.ForeignKeyConstraint(
            ["auction_id"], ["auctions.id"], name=op.f("fk_bids_auction_id_auctions")
        ),
        sa.ForeignKeyConstraint(["bidder_id"], ["users.id"], name=op.f("fk_bids_bidder_id_users")),
        sa.ForeignKeyConstraint(
            ["ledger_transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_bids_ledger_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bids")),
        sa.UniqueConstraint("bidder_id", "idempotency_key", name="uq_bids_bidder_idempotency"),
    )
    op.create_index(op.f("ix_bids_auction_id"), "bids", ["auction_id"])
    op.create_index(op.f("ix_bids_bidder_id"), "bids", ["bidder_id"])

    op.create_table(
        "commissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("brief", sa.Text(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("palette", sa.JSON(), nullable=False),
        sa.Column("reference_ids", sa.JSON(), nullable=False),
        sa.Column("licence_tier", sa.String(length=16), nullable=False),
        sa.Column("budget_cents", sa.BigInteger(), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'awarded', 'cancelled', 'expired')",
            name=op.f("ck_commissions_status_known"),
        ),
        sa.CheckConstraint(
            "licence_tier IN ('personal', 'commercial', 'exclusive')",
            name=op.f("ck_commissions_tier_known"),
        ),
        sa.CheckConstraint("budget_cents > 0", name=op.f("ck_commissions_budget_positive")),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["users.id"], name=op.f("fk_commissions_buyer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commissions")),
    )
    op.create_index(op.f("ix_commissions_buyer_id"), "commissions", ["buyer_id"])
    op.create_index("ix_commissions_status_deadline", "commissions", ["status", "deadline_at"])
    op.create_table(
        "commission_candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commission_id", sa.Integer(), nullable=False),
        sa.Column("artist_id", sa.Integer(), nullable=False),
        sa.Column("artwork_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('submitted', 'chosen', 'passed')",
            name=op.f("ck_commission_candidates_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["commission_id"],
            ["commissions.id"],
            name=op.f("fk_commission_candidates_commission_id_commissions"),
        ),
        sa.ForeignKeyConstraint(
            ["artist_id"], ["users.id"], name=op.f("fk_commission_candidates_artist_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["artwork_id"],
            ["artworks.id"],
            name=op.f("fk_commission_candidates_artwork_id_artworks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commission_candidates")),
        sa.UniqueConstraint("commission_id", "artwork_id", name="uq_commission_candidates_work"),
    )
    op.create_index(
        op.f("ix_commission_candidates_commission_id"), "commission_candidates", ["commission_id"]
    )
    op.create_index(
        op.f("ix_commission_candidates_artwork_id"), "commission_candidates", ["artwork_id"]
    )
    op.create_table(
        "takedowns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("artwork_id", sa.Integer(), nullable=False),
        sa.Column("original_id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("counter_statement", sa.Text(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("countered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'suspended', 'countered', 'removed', 'restored', 'rejected')",
            name=op.f("ck_takedowns_status_known"),
        ),
        sa.CheckConstraint("artwork_id <> original_id", name=op.f("ck_takedowns_not_self")),
        sa.ForeignKeyConstraint(
            ["artwork_id"], ["artworks.id"], name=op.f("fk_takedowns_artwork_id_artworks")
        ),
        sa.ForeignKeyConstraint(
            ["original_id"], ["artworks.id"], name=op.f("fk_takedowns_original_id_artworks")
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"], ["users.id"], name=op.f("fk_takedowns_reporter_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["users.id"], name=op.f("fk_takedowns_seller_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_takedowns")),
    )
    op.create_index(op.f("ix_takedowns_artwork_id"), "takedowns", ["artwork_id"])
    op.create_index("ix_takedowns_status_id", "takedowns", ["status", "id"])
    # a plain ADD COLUMN (with its CHECK inline): batch mode would rebuild `artworks` and drop
    # the search triggers of 0002
    op.add_column(
        "artworks",
        sa.Column(
            "sales_blocked",
            sa.String(length=16),
            sa.CheckConstraint(
                "sales_blocked IS NULL OR sales_blocked IN ('suspended', 'removed')",
                name=op.f("ck_artworks_sales_blocked_known"),
            ),
            nullable=True,
        ),
    )

    with op.batch_alter_table("listings") as batch:
        batch.drop_constraint(op.f("ck_listings_status_known"), type_="check")
        batch.create_check_constraint("status_known", NEW_LISTING_STATUSES)
    with op.batch_alter_table("ledger_transactions") as batch:
        batch.drop_constraint(op.f("ck_ledger_transactions_kind_known"), type_="check")
        batch.create_check_constraint("kind_known", NEW_KINDS)
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_constraint(op.f("ck_ledger_entries_system_account_known"), type_="check")
        batch.alter_column(
            "system_account", existing_type=sa.String(length=16), type_=sa.String(length=40)
        )
        batch.create_check_constraint("system_account_known", NEW_ACCOUNTS)
    with op.batch_alter_table("sales") as batch:
        batch.alter_column("listing_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("auction_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("offer_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("commission_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_sales_commission_id_commissions"), "commissions", ["commission_id"], ["id"]
        )
        batch.create_index(op.f("ix_sales_commission_id"), ["commission_id"])
        batch.create_foreign_key(
            op.f("fk_sales_auction_id_auctions"), "auctions", ["auction_id"], ["id"]
        )
        batch.create_foreign_key(op.f("fk_sales_offer_id_offers"), "offers", ["offer_id"], ["id"])
        batch.create_index(op.f("ix_sales_auction_id"), ["auction_id"])
        batch.create_index(op.f("ix_sales_offer_id"), ["offer_id"])
        batch.create_check_constraint("one_origin", ONE_ORIGIN)


def downgrade() -> None:
    with op.batch_alter_table("sales") as batch:
        batch.drop_constraint(op.f("ck_sales_one_origin"), type_="check")
        batch.drop_index(op.f("ix_sales_commission_id"))
        batch.drop_constraint(op.f("fk_sales_commission_id_commissions"), type_="foreignkey")
        batch.drop_column("commission_id")
        batch.drop_index(op.f("ix_sales_offer_id"))
        batch.drop_index(op.f("ix_sales_auction_id"))
        batch.drop_constraint(op.f("fk_sales_offer_id_offers"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_sales_auction_id_auctions"), type_="foreignkey")
        batch.drop_column("offer_id")
        batch.drop_column("auction_id")
        batch.alter_column("listing_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_constraint(op.f("ck_ledger_entries_system_account_known"), type_="check")
        batch.alter_column(
            "system_account", existing_type=sa.String(length=40), type_=sa.String(length=16)
        )
        batch.create_check_constraint("system_account_known", OLD_ACCOUNTS)
    with op.batch_alter_table("ledger_transactions") as batch:
        batch.drop_constraint(op.f("ck_ledger_transactions_kind_known"), type_="check")
        batch.create_check_constraint("kind_known", OLD_KINDS)
    op.execute("UPDATE listings SET status = 'delisted' WHERE status = 'suspended'")
    with op.batch_alter_table("listings") as batch:
        batch.drop_constraint(op.f("ck_listings_status_known"), type_="check")
        batch.create_check_constraint("status_known", OLD_LISTING_STATUSES)
    op.drop_column("artworks", "sales_blocked")  # plain, as it was added
    op.drop_table("takedowns")
    op.drop_table("commission_candidates")
    op.drop_table("commissions")
    op.drop_table("bids")
    op.drop_table("offers")
    op.drop_table("auctions")
