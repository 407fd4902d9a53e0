"""The relational schema: SQLAlchemy 2.0 typed models.

Money is integer cents (BigInteger), rates are basis points. Image bytes never live here:
artworks hold the key of their blob in the content-addressed blob store.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

LICENCE_TIERS = ("personal", "commercial", "exclusive")
LISTING_STATUSES = ("active", "sold_out", "sold", "delisted", "cancelled", "suspended")
DERIVATION_ROLES = ("style_source", "content_source", "breeding_parent", "training_data")
AI_LABELS = ("ai_generated", "ai_modified", "human_upload")
SYSTEM_ACCOUNTS = ("platform", "issuance")
# money held for an auction's leading bid or an open offer: the system account
# "escrow:auction:<id>" or "escrow:offer:<id>", one per auction or offer; it returns to zero
# when the auction or offer closes (marketplace.ledger.check_ledger)
ESCROW_PREFIX = "escrow:"
LEDGER_KINDS = ("grant", "sale", "escrow", "refund")
AUCTION_KINDS = ("reserve", "dutch")
AUCTION_STATUSES = ("open", "settled", "unsold", "cancelled")
OFFER_STATUSES = ("open", "accepted", "declined", "withdrawn", "expired")
# a copyright report: `open` (filed; the evidence did not make the case, an operator looks),
# `suspended` (the work's sales stop), `countered` (the seller answered; still suspended),
# then an operator's decision: `removed` or `restored`, or `rejected` for an open one
TAKEDOWN_STATUSES = ("open", "suspended", "countered", "removed", "restored", "rejected")
SALES_BLOCKS = ("suspended", "removed")
COMMISSION_STATUSES = ("open", "awarded", "cancelled", "expired")
CANDIDATE_STATUSES = ("submitted", "chosen", "passed")
# what a person is told in the app (marketplace.notifications)
NOTIFICATION_KINDS = (
    "outbid",
    "won",
    "sold",
    "royalty",
    "offer_received",
    "offer_answered",
    "takedown",
    "new_work",
)


# ids are 32-bit integers on PostgreSQL; anything outside can name no row
MAX_ROW_ID = 2**31 - 1


def is_row_id(value: object) -> bool:
    """True for an int that could be a row id (1 .. 2**31 - 1)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ROW_ID


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    """A stored moment as an aware UTC datetime: SQLite gives them back without a zone."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def new_recipe_salt() -> str:
    """32 random bytes in hex: the secret half of an artwork's recipe commitment."""
    return secrets.token_hex(32)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("balance_cents >= 0", name="balance_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(32))
    # casefolded username: uniqueness is case-insensitive on every database
    username_key: Mapped[str] = mapped_column(String(32), unique=True)
    # confusable skeleton (marketplace.accounts.username_skeleton): look-alike names are
    # refused; NULL only for accounts older than the rule that share one with an earlier name
    username_skeleton: Mapped[str | None] = mapped_column(
        String(32), unique=True, index=True, nullable=True
    )
    password_hash: Mapped[str] = mapped_column(String(255))
    balance_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Artwork(Base):
    __tablename__ = "artworks"
    __table_args__ = (
        CheckConstraint(_in("ai_label", AI_LABELS), name="ai_label_known"),
        CheckConstraint(
            "royalty_bps IS NULL OR (royalty_bps >= 0 AND royalty_bps <= 5000)",
            name="royalty_in_range",
        ),
        CheckConstraint("width > 0 AND height > 0", name="size_positive"),
        CheckConstraint(
            "sales_blocked IS NULL OR " + _in("sales_blocked", SALES_BLOCKS),
            name="sales_blocked_known",
        ),
        Index("ix_artworks_owner_created", "owner_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    content_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    pixel_sha256: Mapped[str] = mapped_column(String(64), index=True)
    perceptual_hash: Mapped[str] = mapped_column(String(64))
    perceptual_quality: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(16))
    blob_key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    tags: Mapped[list[str]] = mapped_column(default=list)
    # lower-cased title, tags and creator name, so one indexed-free LIKE serves text search
    search_text: Mapped[str] = mapped_column(Text, default="")
    creator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recipe: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # secret: public records carry only SHA-256(canonical recipe, salt) (marketplace.recipes)
    recipe_salt: Mapped[str] = mapped_column(String(64), default=new_recipe_salt)
    ai_label: Mapped[str] = mapped_column(String(16))
    # set by the creator at the first listing, fixed after that
    royalty_bps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # a copyright report stops its sales: "suspended" until an operator decides, "removed"
    # for good (marketplace.takedowns); NULL when it may be sold
    sales_blocked: Mapped[str | None] = mapped_column(String(16), nullable=True)

    creator: Mapped[User] = relationship(foreign_keys=[creator_id], lazy="joined", innerjoin=True)
    owner: Mapped[User] = relationship(foreign_keys=[owner_id], lazy="joined", innerjoin=True)


class ArtworkFeatures(Base):
    """What registration computed for finding copies PDQ misses (provenance.local_features):
    the artwork's visual words, for the inverted index, and the blob holding its keypoints,
    descriptors and a small alignment picture, so verify does not recompute them."""

    __tablename__ = "artwork_features"

    artwork_id: Mapped[int] = mapped_column(ForeignKey("artworks.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    words: Mapped[bytes] = mapped_column(LargeBinary)  # sorted distinct uint16, little-endian
    blob_key: Mapped[str] = mapped_column(String(64))
    # the ISCC Image-Code (io.iscc.v0, the soft binding in every manifest), for lookups by it
    iscc: Mapped[str] = mapped_column(String(64), index=True)


class PublicManifest(Base):
    """The public C2PA manifest store of an artwork, signed once, served by the soft-binding
    resolution API (`marketplace.resolution`). It says what a certificate says (creator,
    hashes, the recipe's commitment), never the recipe or its salt."""

    __tablename__ = "public_manifests"

    artwork_id: Mapped[int] = mapped_column(ForeignKey("artworks.id"), primary_key=True)
    manifest_id: Mapped[str] = mapped_column(String(100), unique=True)
    blob_key: Mapped[str] = mapped_column(String(64))


class Derivation(Base):
    """An edge of the derivation graph: `child` was made from `parent` in `role`."""

    __tablename__ = "derivations"
    __table_args__ = (
        CheckConstraint("child_id <> parent_id", name="not_self"),
        CheckConstraint(_in("role", DERIVATION_ROLES), name="role_known"),
    )

    child_id: Mapped[int] = mapped_column(ForeignKey("artworks.id"), primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("artworks.id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class Listing(Base):
    __tablename__ = "listings"
    __table_args__ = (
        CheckConstraint("price_cents > 0", name="price_positive"),
        CheckConstraint("edition_size >= 1", name="edition_positive"),
        CheckConstraint("sold_count >= 0 AND sold_count <= edition_size", name="sold_in_edition"),
        CheckConstraint(_in("licence_tier", LICENCE_TIERS), name="tier_known"),
        CheckConstraint(_in("status", LISTING_STATUSES), name="status_known"),
        CheckConstraint("licence_tier <> 'exclusive' OR edition_size = 1", name="exclusive_single"),
        Index("ix_listings_status_created", "status", "created_at", "id"),
        Index("ix_listings_status_price", "status", "price_cents", "id"),
        # one open listing per artwork and tier
        Index(
            "uq_listings_active_artwork_tier",
            "artwork_id",
            "licence_tier",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    artwork_id: Mapped[int] = mapped_column(ForeignKey("artworks.id"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    price_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="CRD")
    licence_tier: Mapped[str] = mapped_column(String(16))
    edition_size: Mapped[int] = mapped_column(Integer, default=1)
    sold_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="active")
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    artwork: Mapped[Artwork] = relationship(lazy="joined", innerjoin=True)
    seller: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    __mapper_args__ = {"version_id_col": version}


class LedgerTransaction(Base):
    """One balanced movement of money; its entries sum to zero."""

    __tablename__ = "ledger_transactions"
    __table_args__ = (CheckConstraint(_in("kind", LEDGER_KINDS), name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    memo: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    entries: Mapped[list[LedgerEntry]] = relationship(
        back_populates="transaction", order_by="LedgerEntry.id"
    )


class LedgerEntry(Base):
    """One leg of a ledger transaction, against a user's wallet or a system account."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (system_account IS NULL)", name="one_account"),
        CheckConstraint(
            "system_account IS NULL OR "
            + _in("system_account", SYSTEM_ACCOUNTS)
            + f" OR system_account LIKE '{ESCROW_PREFIX}%'",
            name="system_account_known",
        ),
        Index("ix_ledger_entries_user_id_id", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    system_account: Mapped[str | None] = mapped_column(String(40), nullable=True)
    role: Mapped[str] = mapped_column(String(32))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    artwork_id: Mapped[int | None] = mapped_column(ForeignKey("artworks.id"), nullable=True)

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")


class Sale(Base):
    """A completed sale: of a fixed-price listing, a won or Dutch auction, or an accepted
    offer (exactly one of `listing_id`, `auction_id`, `offer_id`)."""

    __tablename__ = "sales"
    __table_args__ = (
        UniqueConstraint("buyer_id", "idempotency_key", name="uq_sales_buyer_idempotency"),
        CheckConstraint(_in("licence_tier", LICENCE_TIERS), name="tier_known"),
        CheckConstraint(
            "(CASE WHEN listing_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN auction_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN offer_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN commission_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_origin",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int | None] = mapped_column(
        ForeignKey("listings.id"), index=True, nullable=True
    )
    auction_id: Mapped[int | None] = mapped_column(
        ForeignKey("auctions.id"), index=True, nullable=True
    )
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"), index=True, nullable=True)
    commission_id: Mapped[int | None] = mapped_column(
        ForeignKey("commissions.id"), index=True, nullable=True
    )
    artwork_id: Mapped[int] = mapped_column(ForeignKey("artworks.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    price_cents: Mapped[int] = mapped_column(BigInteger)
    licence_tier: Mapped[str] = mapped_column(String(16))
    ledger_transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"))
    idempotency_key: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Auction(Base):
    """An auction of an artwork itself (the exclusive tier: the winner becomes its owner).

    `reserve`: Foundation's shape. Nothing happens until a bid at or above `reserve_cents`;
    that bid starts a clock of `duration_seconds`; a bid placed with less than
    `extension_seconds` left moves the end to `extension_seconds` after it. The leading bid
    is held in the auction's escrow account; an outbid bidder is refunded in the same
    transaction. Settled by the market sweep when the clock ends.

    `dutch`: the price falls in a straight line from `start_price_cents` at `starts_at` to
    `reserve_cents` (the floor) at `ends_at`; the first buyer pays the price of the moment.
    """

    __tablename__ = "auctions"
    __table_args__ = (
        CheckConstraint(_in("kind", AUCTION_KINDS), name="kind_known"),
        CheckConstraint(_in("status", AUCTION_STATUSES), name="status_known"),
        CheckConstraint("reserve_cents > 0", name="reserve_positive"),
        CheckConstraint("kind <> 'dutch' OR start_price_cents > reserve_cents", name="dutch_falls"),
        CheckConstraint("duration_seconds > 0", name="duration_positive"),
        CheckConstraint("extension_seconds >= 0", name="extension_not_negative"),
        Index("ix_auctions_status_ends", "status", "ends_at"),
        # one open auction per artwork
        Index(
            "uq_auctions_open_artwork",
            "artwork_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    artwork_id: Mapped[int] = mapped_column(ForeignKey("artworks.id"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    reserve_cents: Mapped[int] = mapped_column(BigInteger)
    start_price_cents: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    duration_seconds: Mapped[int] = mapped_column(Integer)
    extension_seconds: Mapped[int] = mapped_column(Integer, default=0)
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    high_bidder_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    high_bid_cents: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    bid_count: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Bid(Base):
    """One bid of a reserve auction; the leading bid's money is in the auction's escrow."""

    __tablename__ = "bids"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        UniqueConstraint("bidder_id", "idempotency_key", name="uq_bids_bidder_idempotency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id"), index=True)
    bidder_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(128))
    ledger_transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Offer(Base):
    """An offer to buy an artwork (or a licence of it) from whoever owns it, listed or not.

    The amount is held in the offer's escrow account from the moment it is made until it is
    accepted (paid out like a sale), declined, withdrawn or expired (refunded)."""

    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint(_in("status", OFFER_STATUSES), name="status_known"),
        CheckConstraint(_in("licence_tier", LICENCE_TIERS), name="tier_known"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        Index("ix_offers_status_expires", "status", "expires_at"),
        # one open offer per buyer, artwork and tier
        Index(
            "uq_offers_open_buyer_artwork_tier",
            "buyer_id",
            "artwork_id",
            "licence_tier",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    artwork_id: Mapped[int] = mapped_column(ForeignKey("artworks.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    licence_tier: Mapped[str] = mapped_column(String(16))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="open")
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Commission(Base):
    """A buyer's brief for a work made to order, with its budget held in escrow
    (marketplace.commissions)."""

    __tablename__ = "commissions"
    __table_args__ = (
        CheckConstraint(_in("status", COMMISSION_STATUSES), name="status_known"),
        CheckConstraint(_in("licence_tier", LICENCE_TIERS), name="tier_known"),
        CheckConstraint("budget_cents > 0", name="budget_positive"),
        Index("ix_commissions_status_deadline", "status", "deadline_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    brief: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(String(200), default="")
    palette: Mapped[list[str]] = mapped_column(default=list)
    # registered works the buyer points at (gallery works, or their own uploads)
    reference_ids: Mapped[list[str]] = mapped_column(default=list)
    licence_tier: Mapped[str] = mapped_column(String(16))
    budget_cents: Mapped[int] = mapped_column(BigInteger)
    deadline_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CommissionCandidate(Base):
    """An artist's answer to a brief: a work they made and own."""

    __tablename__ = "commission_candidates"
    __table_args__ = (
        CheckConstraint(_in("status", CANDIDATE_STATUSES), name="status_known"),
        UniqueConstraint("commission_id", "artwork_id", name="uq_commission_candidates_work"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commission_id: Mapped[int] = mapped_column(ForeignKey("commissions.id"), index=True)
    artist_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    artwork_id: Mapped[int] = mapped_column(ForeignKey("artworks.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Takedown(Base):
    """A copyright report: "artwork X copies artwork N", with Atelier's identification
    evidence, and what came of it (a DMCA §512-like flow; marketplace.takedowns)."""

    __tablename__ = "takedowns"
    __table_args__ = (
        CheckConstraint(_in("status", TAKEDOWN_STATUSES), name="status_known"),
        CheckConstraint("artwork_id <> original_id", name="not_self"),
        Index("ix_takedowns_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    artwork_id: Mapped[int] = mapped_column(ForeignKey("artworks.id"), index=True)
    original_id: Mapped[int] = mapped_column(ForeignKey("artworks.id"))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16))
    statement: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    counter_statement: Mapped[str | None] = mapped_column(Text, nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    countered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Favourite(Base):
    """A person's favourite: `user_id` likes `artwork_id` (marketplace.taste)."""

    __tablename__ = "favourites"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    artwork_id: Mapped[int] = mapped_column(ForeignKey("artworks.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Rating(Base):
    """A person's rating of a work, 1 to 5 stars; rating again replaces it."""

    __tablename__ = "ratings"
    __table_args__ = (CheckConstraint("stars >= 1 AND stars <= 5", name="stars_in_range"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    artwork_id: Mapped[int] = mapped_column(ForeignKey("artworks.id"), primary_key=True, index=True)
    stars: Mapped[int] = mapped_column(Integer)
    rated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Follow(Base):
    """`follower_id` follows the artist `artist_id`: their new works reach the follower."""

    __tablename__ = "follows"
    __table_args__ = (CheckConstraint("follower_id <> artist_id", name="not_self"),)

    follower_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    artist_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ArtworkView(Base):
    """How many times people other than its owner and creator opened a work's page on a
    day (UTC); one row per work and day, counted up in place."""

    __tablename__ = "artwork_views"
    __table_args__ = (CheckConstraint("views > 0", name="views_positive"),)

    artwork_id: Mapped[int] = mapped_column(ForeignKey("artworks.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    views: Mapped[int] = mapped_column(Integer, default=1)


class ArtworkStyle(Base):
    """A work's style embedding (generation.style: Magenta's 100 numbers), float32
    little-endian, for "more like this" (marketplace.style_index)."""

    __tablename__ = "artwork_styles"

    artwork_id: Mapped[int] = mapped_column(ForeignKey("artworks.id"), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class Notification(Base):
    """Something a person should hear about (outbid, sold, an offer, a report, a new work by
    an artist they follow), written in the same transaction as what it tells."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(_in("kind", NOTIFICATION_KINDS), name="kind_known"),
        Index("ix_notifications_user_id_id", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    artwork_id: Mapped[int | None] = mapped_column(ForeignKey("artworks.id"), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Licence(Base):
    """A licence granted to `holder` over an artwork they do not own."""

    __tablename__ = "licences"
    __table_args__ = (
        CheckConstraint(_in("tier", ("personal", "commercial")), name="tier_known"),
        Index("ix_licences_artwork_holder", "artwork_id", "holder_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    artwork_id: Mapped[int] = mapped_column(ForeignKey("artworks.id"))
    holder_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    tier: Mapped[str] = mapped_column(String(16))
    sale_id: Mapped[int | None] = mapped_column(ForeignKey("sales.id"), nullable=True)
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProvenanceEvent(Base):
    """An append-only record of something that happened to an artwork.

    Written in the same transaction as the change it records; database triggers refuse
    UPDATE and DELETE (see the initial migration).
    """

    __tablename__ = "provenance_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    artwork_id: Mapped[int | None] = mapped_column(
        ForeignKey("artworks.id"), nullable=True, index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LogLeaf(Base):
    """Leaf `leaf_index` of the transparency log: the canonical bytes of one provenance
    event, hashed as an RFC 9162 leaf. Append-only (database triggers)."""

    __tablename__ = "log_leaves"

    leaf_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[int] = mapped_column(ForeignKey("provenance_events.id"), unique=True)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogNode(Base):
    """The hash of a complete subtree: level 0 are leaf hashes, (level, index) covers leaves
    [index * 2**level, (index + 1) * 2**level). Append-only (database triggers)."""

    __tablename__ = "log_nodes"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column("idx", BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogState(Base):
    """One row (id 1): how many leaves the log holds. Appends lock it, so leaves are
    numbered one transaction after another."""

    __tablename__ = "log_state"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)


class LogCheckpoint(Base):
    """A signed tree head (a C2SP checkpoint note). Append-only (database triggers)."""

    __tablename__ = "log_checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


JOB_STATUSES = ("queued", "running", "done", "failed", "cancelled")


class GanModel(Base):
    """A GAN generator a user trained (the bundled default lives in the package, not here).

    The files of its `save_pretrained` folder are blobs; `sha256` (of `model.safetensors`) is
    the model id that recipes name.
    """

    __tablename__ = "gan_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    image_size: Mapped[int] = mapped_column(Integer)
    # file name in the model folder -> blob key
    files: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # training summary: steps, images seen, image count, job id
    training: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    owner: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class Job(Base):
    """A long piece of work (training, a big render) that a worker runs outside the request.

    All of a job's state is here (and in blobs): any worker process may claim a queued job,
    report progress into the row, and see a cancel request by reading it.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(_in("status", JOB_STATUSES), name="status_known"),
        Index("ix_jobs_status_id", "status", "id"),
        Index("ix_jobs_owner_created", "owner_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    progress: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    worker: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class WebSession(Base):
    """A signed-in browser (or API client): the SHA-256 of its random cookie token, never the
    token itself. Valid until `expires_at` unless revoked (sign-out)."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LoginAttempt(Base):
    """One sign-in try, kept for a while to rate-limit password guessing per name and IP."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # casefolded, cut to 64 characters: what was typed, whether or not such a user exists
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ok: Mapped[bool] = mapped_column(default=False)
    # "sign_in" (a password try) or "sign_up" (an account made: limited per address too)
    kind: Mapped[str] = mapped_column(String(16), default="sign_in", server_default="sign_in")
