"""Buying: one atomic unit of work moves money, ownership or a licence, the listing's
counters and the provenance record together, or changes nothing."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, make_transient_to_detached

from db.models import (
    Artwork,
    LedgerEntry,
    Licence,
    Listing,
    Sale,
    User,
    is_row_id,
    utcnow,
)
from db.session import dialect_insert, expire_cached, flush_pending
from marketplace.artworks import refuse_if_blocked, source_works
from marketplace.errors import (
    IdempotencyConflict,
    InsufficientFunds,
    InvalidInput,
    ListingNotForSale,
    NotFound,
    SelfPurchase,
    StaleVersion,
)
from marketplace.escrow import refund_offers_of
from marketplace.events import insert_events
from marketplace.ledger import Leg, escrow_account, post_transaction
from marketplace.money import SaleSplit, format_cents, split_sale
from marketplace.notifications import notify_each
from marketplace.rules import DEFAULT_RULES, MarketRules

MAX_IDEMPOTENCY_KEY = 128
# the keys of sales the market makes itself (an auction's settlement, an accepted offer):
# no buyer's key can take one, so a settlement is never refused as a replay
SYSTEM_KEY_PREFIX = "atelier:"


@dataclass(frozen=True)
class PurchaseResult:
    """The outcome of a purchase.

    Attributes:
        sale: the sale row.
        split: where the money went.
        replayed: true when this answers a retry of an earlier request with the same key.
    """

    sale: Sale
    split: SaleSplit
    replayed: bool = False


def check_idempotency_key(key: object) -> str:
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        raise InvalidInput(
            f"`idempotency_key` must be 1-{MAX_IDEMPOTENCY_KEY} characters, got {key!r}"
        )
    if not key.isprintable():
        raise InvalidInput("`idempotency_key` must be printable text")
    if key.startswith(SYSTEM_KEY_PREFIX):
        raise InvalidInput(
            f"`idempotency_key` may not start with {SYSTEM_KEY_PREFIX!r} (kept for the "
            "market's own settlements)"
        )
    return key


_ARTWORKS = Artwork.__table__
_LISTINGS = Listing.__table__
_USERS = User.__table__
_SALES = Sale.__table__
_LICENCES = Licence.__table__

# The statements of a purchase, written once. Core, not the ORM: a purchase is the market's
# hot path, and Core statements on the session's connection cost a fraction of the ORM's CPU
# (docs/BENCHMARKS.md). Locks are taken in the order every writer of an artwork's listings
# follows: the artwork, then the listing, then the wallets in ascending id order. A locking
# read has no join: a row re-checked after waiting for its lock would be re-joined against
# old versions of the other table (see `marketplace.artworks.get_row`).
_LOCK_ARTWORK = (
    select(
        _ARTWORKS.c.id,
        _ARTWORKS.c.owner_id,
        _ARTWORKS.c.creator_id,
        _ARTWORKS.c.royalty_bps,
        _ARTWORKS.c.title,
        _ARTWORKS.c.sales_blocked,
    )
    .where(
        _ARTWORKS.c.id
        == select(_LISTINGS.c.artwork_id)
        .where(_LISTINGS.c.id == bindparam("listing_id"))
        .scalar_subquery()
    )
    .with_for_update()
)
_LOCK_LISTING = (
    select(
        _LISTINGS.c.id,
        _LISTINGS.c.seller_id,
        _LISTINGS.c.price_cents,
        _LISTINGS.c.licence_tier,
        _LISTINGS.c.edition_size,
        _LISTINGS.c.sold_count,
        _LISTINGS.c.status,
        _LISTINGS.c.version,
    )
    .where(_LISTINGS.c.id == bindparam("listing_id"))
    .with_for_update()
)
# after the locks, in a statement of its own: a retry that waited for the first request's
# locks must see the sale that request made
_EARLIER = select(_SALES.c.id, _SALES.c.listing_id).where(
    _SALES.c.buyer_id == bindparam("buyer_id"), _SALES.c.idempotency_key == bindparam("key")
)
_HOLDS_LICENCE = (
    select(_LICENCES.c.id)
    .where(
        _LICENCES.c.artwork_id == bindparam("artwork_id"),
        _LICENCES.c.holder_id == bindparam("buyer_id"),
        _LICENCES.c.tier == bindparam("tier"),
    )
    .limit(1)
)
_LOCK_WALLETS = (
    select(_USERS.c.id, _USERS.c.balance_cents)
    .where(_USERS.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(_USERS.c.id)
    .with_for_update()
)
_COUNT_SALE = (
    update(_LISTINGS)
    .where(_LISTINGS.c.id == bindparam("b_listing_id"))
    .values(
        sold_count=_LISTINGS.c.sold_count + 1,
        status=bindparam("b_status"),
        version=_LISTINGS.c.version + 1,
    )
)
_TRANSFER = (
    update(_ARTWORKS)
    .where(_ARTWORKS.c.id == bindparam("b_artwork_id"))
    .values(owner_id=bindparam("b_owner_id"))
)
# the old owner's other open listings of the artwork can no longer be honoured; their
# versions move on like any other change, so optimistic readers see it
_CANCEL_OTHERS = (
    update(_LISTINGS)
    .where(
        _LISTINGS.c.artwork_id == bindparam("b_artwork_id"),
        _LISTINGS.c.status == "active",
        _LISTINGS.c.id != bindparam("b_listing_id"),
    )
    .values(status="cancelled", version=_LISTINGS.c.version + 1)
)
_GRANT = insert(_LICENCES).returning(_LICENCES.c.id)


def purchase(
    session: Session,
    listing_id: int,
    buyer_id: int,
    idempotency_key: str,
    *,
    expected_version: int | None = None,
    rules: MarketRules = DEFAULT_RULES,
) -> PurchaseResult:
    """Buy a listing: an exclusive listing transfers the artwork, a licence tier grants one.

    The listing's artwork is locked first, then the listing (PostgreSQL `FOR UPDATE`; SQLite
    transactions already hold the write lock), then every wallet the sale touches, in
    ascending id order.

    Args:
        session: the unit of work; nothing is written if this raises.
        listing_id: what to buy.
        buyer_id: who buys.
        idempotency_key: the same key from the same buyer returns the first result and
            charges once.
        expected_version: the listing version the buyer saw; a different current version
            (price changed, delisted and relisted) is refused.
        rules: fee and royalty rates.

    Raises:
        NotFound, ListingNotForSale, SelfPurchase, InsufficientFunds, StaleVersion,
        IdempotencyConflict, InvalidInput.
    """
    key = check_idempotency_key(idempotency_key)
    if isinstance(listing_id, bool) or not isinstance(listing_id, int):
        raise InvalidInput(f"`listing_id` must be an integer, got {listing_id!r}")
    flush_pending(session)
    conn = session.connection()
    artwork = listing = None
    if is_row_id(listing_id):
        artwork = conn.execute(_LOCK_ARTWORK, {"listing_id": listing_id}).one_or_none()
    if artwork is not None:
        listing = conn.execute(_LOCK_LISTING, {"listing_id": listing_id}).one_or_none()
    if listing is None:
        raise NotFound(f"listing #{listing_id} does not exist")
    earlier = conn.execute(_EARLIER, {"buyer_id": buyer_id, "key": key}).one_or_none()
    if earlier is not None:
        if earlier.listing_id != listing.id:
            raise IdempotencyConflict(
                f"idempotency key {key!r} was already used for listing #{earlier.listing_id}"
            )
        sale = session.get(Sale, earlier.id)
        return PurchaseResult(sale=sale, split=split_charged(session, sale), replayed=True)

    if listing.status != "active":
        raise ListingNotForSale(f"listing #{listing.id} is {_status_words(listing.status)}")
    refuse_if_blocked(artwork)
    if expected_version is not None and expected_version != listing.version:
        raise StaleVersion(
            f"listing #{listing.id} changed since you saw it (version {expected_version}, now "
            f"{listing.version}); check the price ({format_cents(listing.price_cents)}) and "
            "try again"
        )
    if listing.seller_id == buyer_id:
        raise SelfPurchase(f"you cannot buy your own listing #{listing.id}")
    if artwork.owner_id == buyer_id:
        raise SelfPurchase(f"you already own artwork #{artwork.id}")
    if artwork.owner_id != listing.seller_id:
        raise ListingNotForSale(f"listing #{listing.id} is no longer valid: the seller sold it")
    exclusive = listing.licence_tier == "exclusive"
    if (
        not exclusive
        and conn.execute(
            _HOLDS_LICENCE,
            {"artwork_id": artwork.id, "buyer_id": buyer_id, "tier": listing.licence_tier},
        ).first()
    ):
        raise ListingNotForSale(
            f"you already hold a {listing.licence_tier} licence for artwork #{artwork.id}"
        )

    result = complete_sale(
        session,
        artwork,
        seller_id=listing.seller_id,
        buyer_id=buyer_id,
        price_cents=listing.price_cents,
        licence_tier=listing.licence_tier,
        idempotency_key=key,
        origin=("listing_id", listing.id),
        rules=rules,
    )
    if exclusive:
        status = "sold"
    elif listing.sold_count + 1 >= listing.edition_size:
        status = "sold_out"
    else:
        status = "active"
    conn.execute(_COUNT_SALE, {"b_listing_id": listing.id, "b_status": status})
    expire_cached(session, Listing, _listings_held(session, artwork.id))
    return result


def complete_sale(
    session: Session,
    artwork,
    *,
    seller_id: int,
    buyer_id: int,
    price_cents: int,
    licence_tier: str,
    idempotency_key: str,
    origin: tuple[str, int],
    escrow: str | None = None,
    rules: MarketRules = DEFAULT_RULES,
) -> PurchaseResult:
    """Pay for a sale and hand over what it sold; every way of selling ends here.

    The caller holds the artwork's lock (and its listing's, auction's or offer's) and has
    checked its own rules; here the parties' wallets are locked in ascending id order, the
    price is split (platform fee, creator royalty, source-work shares, the seller's rest) and
    posted, the sale row written, the work transferred (exclusive; the seller's open listings
    of it are cancelled and the new owner's own open offers on it refunded) or a licence
    granted, and the `sold` event with its `ownership_transferred` or `licence_granted`
    appended.

    Args:
        artwork: the locked artwork row (id, owner_id, creator_id, royalty_bps, title).
        origin: ("listing_id" | "auction_id" | "offer_id", its id).
        escrow: the escrow account that pays, or None to charge the buyer's wallet (refused
            with InsufficientFunds when it cannot cover the price).

    Raises:
        InsufficientFunds, NotFound, IdempotencyConflict.
    """
    conn = session.connection()
    origin_column, origin_id = origin
    sources = source_works(session, artwork.id)
    split = split_sale(
        price_cents,
        artwork.royalty_bps if artwork.royalty_bps is not None else rules.default_royalty_bps,
        len(sources),
        platform_fee_bps=rules.platform_fee_bps,
        source_share_bps=rules.source_share_bps,
        primary=seller_id == artwork.creator_id,
    )
    parties = {buyer_id, seller_id, artwork.creator_id, *(s.owner_id for s in sources)}
    wallets = dict(conn.execute(_LOCK_WALLETS, {"ids": sorted(parties)}).all())
    if buyer_id not in wallets:
        raise NotFound(f"user #{buyer_id} does not exist")
    if escrow is None and wallets[buyer_id] < price_cents:
        what = origin_column.removesuffix("_id")
        raise InsufficientFunds(
            f"{what} #{origin_id} costs {format_cents(price_cents)} credits but your "
            f"balance is {format_cents(wallets[buyer_id])}"
        )
    payer = (
        Leg("buyer", -price_cents, user_id=buyer_id, artwork_id=artwork.id)
        if escrow is None
        else Leg("buyer", -price_cents, system_account=escrow, artwork_id=artwork.id)
    )
    legs = [
        payer,
        Leg("seller", split.seller_cents, user_id=seller_id, artwork_id=artwork.id),
        Leg(
            "creator_royalty",
            split.creator_royalty_cents,
            user_id=artwork.creator_id,
            artwork_id=artwork.id,
        ),
        Leg(
            "platform_fee",
            split.platform_fee_cents,
            system_account="platform",
            artwork_id=artwork.id,
        ),
    ]
    legs += [
        Leg("source_share", share, user_id=source.owner_id, artwork_id=source.id)
        for source, share in zip(sources, split.source_shares_cents, strict=True)
    ]
    what = origin_column.removesuffix("_id")
    txn_id = post_transaction(
        session, "sale", legs, memo=f"{what} #{origin_id}: {artwork.title}"[:200]
    )
    values = {
        "listing_id": None,
        "auction_id": None,
        "offer_id": None,
        "commission_id": None,
        origin_column: origin_id,
        "artwork_id": artwork.id,
        "buyer_id": buyer_id,
        "seller_id": seller_id,
        "price_cents": price_cents,
        "licence_tier": licence_tier,
        "ledger_transaction_id": txn_id,
        "idempotency_key": idempotency_key,
        "created_at": utcnow(),
    }
    sale_id = conn.execute(_insert_sale(conn.dialect.name), values).scalar_one_or_none()
    if sale_id is None:
        # the same buyer and key, used at this moment by another request for another listing
        raise IdempotencyConflict(
            f"idempotency key {idempotency_key!r} was used at the same moment for another purchase"
        )
    # the sale as an object of the caller's session, made from what was written, not re-read
    sale = Sale(id=sale_id, **values)
    make_transient_to_detached(sale)
    session.add(sale)

    sold = {
        "kind": "sold",
        "artwork_id": artwork.id,
        "actor_id": buyer_id,
        "payload": {
            "sale_id": sale_id,
            origin_column: origin_id,
            "seller_id": seller_id,
            "buyer_id": buyer_id,
            "price_cents": split.price_cents,
            "licence_tier": licence_tier,
            "ledger_transaction_id": txn_id,
        },
    }
    if licence_tier == "exclusive":
        conn.execute(_TRANSFER, {"b_artwork_id": artwork.id, "b_owner_id": buyer_id})
        conn.execute(
            _CANCEL_OTHERS,
            {
                "b_artwork_id": artwork.id,
                "b_listing_id": origin_id if origin_column == "listing_id" else 0,
            },
        )
        then = {
            "kind": "ownership_transferred",
            "artwork_id": artwork.id,
            "actor_id": buyer_id,
            "payload": {
                "from_user_id": artwork.owner_id,
                "to_user_id": buyer_id,
                "sale_id": sale_id,
            },
        }
    else:
        licence_id = conn.execute(
            _GRANT,
            {
                "artwork_id": artwork.id,
                "holder_id": buyer_id,
                "tier": licence_tier,
                "sale_id": sale_id,
                "granted_at": utcnow(),
            },
        ).scalar_one()
        then = {
            "kind": "licence_granted",
            "artwork_id": artwork.id,
            "actor_id": seller_id,
            "payload": {
                "licence_id": licence_id,
                "holder_id": buyer_id,
                "tier": licence_tier,
                "sale_id": sale_id,
            },
        }
    insert_events(session, [sold, then])
    _tell_payees(session, artwork, sale_id, seller_id, split, sources, licence_tier)
    if licence_tier == "exclusive":
        refund_offers_of(session, artwork.id, buyer_id, reason="you now own the work")
    # objects the caller's session holds for the rows changed here read them afresh
    expire_cached(session, Artwork, [artwork.id])
    return PurchaseResult(sale=sale, split=split)


def _tell_payees(session, artwork, sale_id, seller_id, split, sources, licence_tier) -> None:
    """Notify the seller of a sale, and the creator and source owners of what it paid them;
    one INSERT."""
    said = {"title": artwork.title, "sale_id": sale_id, "licence_tier": licence_tier}
    seller_got = split.seller_cents + (
        split.creator_royalty_cents if seller_id == artwork.creator_id else 0
    )
    notes = [
        (
            seller_id,
            "sold",
            {"price_cents": split.price_cents, "received_cents": seller_got, **said},
        )
    ]
    paid = {}
    if artwork.creator_id != seller_id and split.creator_royalty_cents:
        paid[artwork.creator_id] = split.creator_royalty_cents
    for source, share in zip(sources, split.source_shares_cents, strict=True):
        if share and source.owner_id != seller_id:
            paid[source.owner_id] = paid.get(source.owner_id, 0) + share
    notes += [
        (user_id, "royalty", {"received_cents": cents, **said}) for user_id, cents in paid.items()
    ]
    notify_each(session, notes, artwork_id=artwork.id)


def settle_from_escrow(
    session: Session,
    artwork,
    holder: str,
    holder_id: int,
    *,
    seller_id: int,
    buyer_id: int,
    price_cents: int,
    licence_tier: str,
    rules: MarketRules = DEFAULT_RULES,
) -> PurchaseResult:
    """`complete_sale` paid out of the escrow of an auction, offer or commission
    (`holder`): the sale names it as its origin and carries the market's own key
    (`atelier:<holder>:<id>`), which no buyer's key can take."""
    return complete_sale(
        session,
        artwork,
        seller_id=seller_id,
        buyer_id=buyer_id,
        price_cents=price_cents,
        licence_tier=licence_tier,
        idempotency_key=f"{SYSTEM_KEY_PREFIX}{holder}:{holder_id}",
        origin=(f"{holder}_id", holder_id),
        escrow=escrow_account(holder, holder_id),
        rules=rules,
    )


@functools.cache
def _insert_sale(dialect_name: str):
    """The sale's INSERT, which adds nothing when the buyer's key is taken (ON CONFLICT DO
    NOTHING: no savepoint, and no aborted transaction on PostgreSQL)."""
    return (
        dialect_insert(dialect_name, _SALES)
        .on_conflict_do_nothing(index_elements=["buyer_id", "idempotency_key"])
        .returning(_SALES.c.id)
    )


def _listings_held(session: Session, artwork_id: int) -> list[int]:
    """The ids of the listings of `artwork_id` that the session holds as objects."""
    held = []
    for obj in session.identity_map.values():
        if isinstance(obj, Listing):
            state = sa_inspect(obj)
            if state.dict.get("artwork_id") in (artwork_id, None):
                held.append(state.identity[0])
    return held


def split_charged(session: Session, sale: Sale) -> SaleSplit:
    """The split as it was charged, read back from the sale's ledger transaction."""
    entries = session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.transaction_id == sale.ledger_transaction_id)
        .order_by(LedgerEntry.id)
    ).all()

    def total(role: str) -> int:
        return sum(e.amount_cents for e in entries if e.role == role)

    return SaleSplit(
        price_cents=sale.price_cents,
        platform_fee_cents=total("platform_fee"),
        creator_royalty_cents=total("creator_royalty"),
        source_shares_cents=tuple(e.amount_cents for e in entries if e.role == "source_share"),
        seller_cents=total("seller"),
    )


def _status_words(status: str) -> str:
    return {
        "sold": "already sold",
        "sold_out": "sold out",
        "delisted": "delisted",
        "cancelled": "cancelled (the artwork changed hands)",
        "suspended": "suspended by a copyright report until an operator decides",
    }.get(status, status)
