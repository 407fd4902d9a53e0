"""Buying: one atomic unit of work moves money, ownership or a licence, the listing's
counters and the provenance record together, or changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import Artwork, LedgerEntry, Licence, Listing, Sale, User, is_row_id
from marketplace.artworks import get_artwork, source_works
from marketplace.errors import (
    IdempotencyConflict,
    InsufficientFunds,
    InvalidInput,
    ListingNotForSale,
    NotFound,
    SelfPurchase,
    StaleVersion,
)
from marketplace.events import record_event
from marketplace.ledger import Leg, post_transaction
from marketplace.listings import get_listing
from marketplace.money import SaleSplit, format_cents, split_sale
from marketplace.rules import DEFAULT_RULES, MarketRules

MAX_IDEMPOTENCY_KEY = 128


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


def _check_key(key: object) -> str:
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        raise InvalidInput(
            f"`idempotency_key` must be 1-{MAX_IDEMPOTENCY_KEY} characters, got {key!r}"
        )
    if not key.isprintable():
        raise InvalidInput("`idempotency_key` must be printable text")
    return key


def _split_for(session: Session, listing: Listing, rules: MarketRules) -> tuple[SaleSplit, list]:
    artwork = listing.artwork
    sources = source_works(session, artwork.id)
    split = split_sale(
        listing.price_cents,
        artwork.royalty_bps if artwork.royalty_bps is not None else rules.default_royalty_bps,
        len(sources),
        platform_fee_bps=rules.platform_fee_bps,
        source_share_bps=rules.source_share_bps,
        primary=listing.seller_id == artwork.creator_id,
    )
    return split, sources


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

    The listing row is locked first (PostgreSQL `FOR UPDATE`; SQLite transactions already
    hold the write lock), then every wallet the sale touches, in ascending id order.

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
    key = _check_key(idempotency_key)
    listing, artwork = _lock_listing_and_artwork(session, listing_id)
    earlier = session.scalar(
        select(Sale).where(Sale.buyer_id == buyer_id, Sale.idempotency_key == key)
    )
    if earlier is not None:
        if earlier.listing_id != listing.id:
            raise IdempotencyConflict(
                f"idempotency key {key!r} was already used for listing #{earlier.listing_id}"
            )
        return PurchaseResult(sale=earlier, split=_split_charged(session, earlier), replayed=True)

    if listing.status != "active":
        raise ListingNotForSale(f"listing #{listing.id} is {_status_words(listing.status)}")
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
    if listing.licence_tier != "exclusive" and session.scalar(
        select(Licence.id).where(
            Licence.artwork_id == artwork.id,
            Licence.holder_id == buyer_id,
            Licence.tier == listing.licence_tier,
        )
    ):
        raise ListingNotForSale(
            f"you already hold a {listing.licence_tier} licence for artwork #{artwork.id}"
        )

    split, sources = _split_for(session, listing, rules)
    parties = {buyer_id, listing.seller_id, artwork.creator_id, *(s.owner_id for s in sources)}
    wallets = {
        u.id: u
        for u in session.scalars(
            select(User)
            .where(User.id.in_(parties))
            .order_by(User.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    buyer = wallets.get(buyer_id)
    if buyer is None:
        raise NotFound(f"user #{buyer_id} does not exist")
    if buyer.balance_cents < listing.price_cents:
        raise InsufficientFunds(
            f"listing #{listing.id} costs {format_cents(listing.price_cents)} credits but your "
            f"balance is {format_cents(buyer.balance_cents)}"
        )

    legs = [
        Leg("buyer", -split.price_cents, user_id=buyer_id, artwork_id=artwork.id),
        Leg("seller", split.seller_cents, user_id=listing.seller_id, artwork_id=artwork.id),
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
    txn = post_transaction(
        session, "sale", legs, memo=f"listing #{listing.id}: {artwork.title}"[:200]
    )
    sale = Sale(
        listing_id=listing.id,
        artwork_id=artwork.id,
        buyer_id=buyer_id,
        seller_id=listing.seller_id,
        price_cents=listing.price_cents,
        licence_tier=listing.licence_tier,
        ledger_transaction_id=txn.id,
        idempotency_key=key,
    )
    try:
        with session.begin_nested():
            session.add(sale)
    except IntegrityError:
        # the same buyer and key, used at this moment by another request for another listing
        raise IdempotencyConflict(
            f"idempotency key {key!r} was used at the same moment for another purchase"
        ) from None
    listing.sold_count += 1
    if listing.licence_tier == "exclusive":
        listing.status = "sold"
    elif listing.sold_count >= listing.edition_size:
        listing.status = "sold_out"
    session.flush()

    record_event(
        session,
        "sold",
        artwork_id=artwork.id,
        actor_id=buyer_id,
        payload={
            "sale_id": sale.id,
            "listing_id": listing.id,
            "seller_id": listing.seller_id,
            "buyer_id": buyer_id,
            "price_cents": split.price_cents,
            "licence_tier": listing.licence_tier,
            "ledger_transaction_id": txn.id,
        },
    )
    if listing.licence_tier == "exclusive":
        _transfer(session, artwork, listing, buyer_id, sale)
    else:
        licence = Licence(
            artwork_id=artwork.id, holder_id=buyer_id, tier=listing.licence_tier, sale_id=sale.id
        )
        session.add(licence)
        session.flush()
        record_event(
            session,
            "licence_granted",
            artwork_id=artwork.id,
            actor_id=listing.seller_id,
            payload={
                "licence_id": licence.id,
                "holder_id": buyer_id,
                "tier": listing.licence_tier,
                "sale_id": sale.id,
            },
        )
    return PurchaseResult(sale=sale, split=split)


def _split_charged(session: Session, sale: Sale) -> SaleSplit:
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


def _lock_listing_and_artwork(session: Session, listing_id: int) -> tuple[Listing, Artwork]:
    """Lock the listing's artwork, then the listing (the order every writer of an artwork's
    listings follows, see `get_artwork`)."""
    if isinstance(listing_id, bool) or not isinstance(listing_id, int):
        raise InvalidInput(f"`listing_id` must be an integer, got {listing_id!r}")
    artwork_id = (
        session.scalar(select(Listing.artwork_id).where(Listing.id == listing_id))
        if is_row_id(listing_id)
        else None
    )
    if artwork_id is None:
        raise NotFound(f"listing #{listing_id} does not exist")
    artwork = get_artwork(session, artwork_id, lock=True)
    return get_listing(session, listing_id, lock=True), artwork


def _transfer(session: Session, artwork, listing: Listing, buyer_id: int, sale: Sale) -> None:
    previous = artwork.owner_id
    artwork.owner_id = buyer_id
    # the old owner's other open listings of this artwork can no longer be honoured; their
    # versions move on like any other change, so optimistic readers see it
    session.execute(
        update(Listing)
        .where(
            Listing.artwork_id == artwork.id, Listing.status == "active", Listing.id != listing.id
        )
        .values(status="cancelled", version=Listing.version + 1)
        .execution_options(synchronize_session="fetch")
    )
    record_event(
        session,
        "ownership_transferred",
        artwork_id=artwork.id,
        actor_id=buyer_id,
        payload={"from_user_id": previous, "to_user_id": buyer_id, "sale_id": sale.id},
    )


def _status_words(status: str) -> str:
    return {
        "sold": "already sold",
        "sold_out": "sold out",
        "delisted": "delisted",
        "cancelled": "cancelled (the artwork changed hands)",
    }.get(status, status)
