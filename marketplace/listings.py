"""Listing artworks for sale: list, change price, delist.

Licence tiers: `personal` and `commercial` sell licences (the seller keeps ownership; an
edition sells up to `edition_size` licences); `exclusive` sells the artwork itself (edition 1).
A commercial licence also allows derivative works (style transfer, breeding).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import LICENCE_TIERS, Auction, Listing
from marketplace.artworks import get_artwork, get_row, refuse_if_blocked, source_works
from marketplace.errors import (
    InvalidInput,
    ListingConflict,
    ListingNotForSale,
    NotOwner,
    check_int,
)
from marketplace.events import record_event
from marketplace.money import MAX_ROYALTY_BPS
from marketplace.notifications import notify_followers
from marketplace.rules import DEFAULT_RULES, MarketRules

MAX_EDITION_SIZE = 10_000
# a derived work's royalty feeds its sources' owners; it may not be set below this
MIN_DERIVED_ROYALTY_BPS = 1_000


def get_listing(session: Session, listing_id: int, *, lock: bool = False) -> Listing:
    """The listing with this id (see `marketplace.artworks.get_row`)."""
    return get_row(session, Listing, listing_id, what="listing", lock=lock)


def create_listing(
    session: Session,
    artwork_id: int,
    seller_id: int,
    *,
    price_cents: int,
    licence_tier: str,
    edition_size: int = 1,
    royalty_bps: int | None = None,
    rules: MarketRules = DEFAULT_RULES,
) -> Listing:
    """Offer an artwork you own for sale.

    The creator sets the royalty (0-50%) at the first listing; it is fixed after that.

    Raises:
        InvalidInput: a bad price, tier, edition size or royalty.
        NotFound: an unknown artwork.
        NotOwner: the seller does not own the artwork.
        ListingConflict: the artwork already has an open listing of this tier.
    """
    artwork = get_artwork(session, artwork_id, lock=True)
    if artwork.owner_id != seller_id:
        raise NotOwner(f"you do not own artwork #{artwork.id}, so you cannot list it")
    if licence_tier not in LICENCE_TIERS:
        raise InvalidInput(f"`licence_tier` must be one of {LICENCE_TIERS}, got {licence_tier!r}")
    check_int("price_cents", price_cents, 1, rules.max_price_cents)
    if licence_tier == "exclusive":
        if edition_size != 1:
            raise InvalidInput(
                f"an exclusive sale is a single edition, got {edition_size!r}",
                plain="An exclusive sale is one edition: leave the edition size at 1.",
            )
    else:
        check_int("edition_size", edition_size, 1, MAX_EDITION_SIZE)
    refuse_if_blocked(artwork)
    fix_royalty(session, artwork, royalty_bps, rules=rules)
    if licence_tier == "exclusive":
        auction_id = session.scalar(
            select(Auction.id).where(Auction.artwork_id == artwork.id, Auction.status == "open")
        )
        if auction_id is not None:
            raise ListingConflict(
                f"artwork #{artwork.id} is in auction #{auction_id}; it cannot also be listed "
                "for sale until the auction closes"
            )
    open_same = session.scalar(
        select(Listing.id).where(
            Listing.artwork_id == artwork.id,
            Listing.licence_tier == licence_tier,
            Listing.status == "active",
        )
    )
    if open_same is not None:
        raise ListingConflict(
            f"artwork #{artwork.id} already has an open {licence_tier} listing (#{open_same}); "
            "change its price or delist it first"
        )
    listing = Listing(
        artwork_id=artwork.id,
        seller_id=seller_id,
        price_cents=price_cents,
        licence_tier=licence_tier,
        edition_size=edition_size,
        sold_count=0,
        status="active",
    )
    try:
        with session.begin_nested():
            session.add(listing)
    except IntegrityError:
        raise ListingConflict(
            f"artwork #{artwork.id} already has an open {licence_tier} listing"
        ) from None
    record_event(
        session,
        "listed",
        artwork_id=artwork.id,
        actor_id=seller_id,
        payload={
            "listing_id": listing.id,
            "price_cents": price_cents,
            "licence_tier": licence_tier,
            "edition_size": edition_size,
            "royalty_bps": artwork.royalty_bps,
        },
    )
    notify_followers(
        session,
        seller_id,
        artwork,
        listing_id=listing.id,
        price_cents=price_cents,
        licence_tier=licence_tier,
    )
    return listing


def fix_royalty(
    session: Session, artwork, royalty_bps: int | None, *, rules: MarketRules = DEFAULT_RULES
) -> None:
    """Check the royalty asked for at a listing or an auction, and fix the artwork's royalty
    if this is its first sale offer (the creator's choice, or the default).

    Raises:
        InvalidInput: out of range, different from the royalty already fixed, or below the
            minimum for a derived work.
    """
    if royalty_bps is not None:
        check_int("royalty_bps", royalty_bps, 0, MAX_ROYALTY_BPS)
        if artwork.royalty_bps is not None and royalty_bps != artwork.royalty_bps:
            raise InvalidInput(
                f"the royalty of artwork #{artwork.id} was fixed at "
                f"{artwork.royalty_bps / 100:g}% at its first listing"
            )
    if artwork.royalty_bps is None:
        chosen = rules.default_royalty_bps if royalty_bps is None else royalty_bps
        if source_works(session, artwork.id) and chosen < MIN_DERIVED_ROYALTY_BPS:
            raise InvalidInput(
                f"artwork #{artwork.id} is derived from other works, whose owners are paid "
                f"from its royalty; the royalty must be at least {MIN_DERIVED_ROYALTY_BPS / 100:g}%"
            )
        artwork.royalty_bps = chosen


def _own_open_listing(session: Session, listing_id: int, seller_id: int) -> Listing:
    listing = get_listing(session, listing_id, lock=True)
    if listing.seller_id != seller_id:
        raise NotOwner(f"listing #{listing.id} is not yours")
    if listing.status != "active":
        raise ListingNotForSale(f"listing #{listing.id} is {listing.status.replace('_', ' ')}")
    return listing


def change_price(
    session: Session,
    listing_id: int,
    seller_id: int,
    price_cents: int,
    *,
    rules: MarketRules = DEFAULT_RULES,
) -> Listing:
    """Change an open listing's price; its version moves on, so buyers who saw the old price
    and pass the old version are refused rather than charged the new one."""
    check_int("price_cents", price_cents, 1, rules.max_price_cents)
    listing = _own_open_listing(session, listing_id, seller_id)
    old = listing.price_cents
    listing.price_cents = price_cents
    session.flush()
    record_event(
        session,
        "price_changed",
        artwork_id=listing.artwork_id,
        actor_id=seller_id,
        payload={"listing_id": listing.id, "old_price_cents": old, "price_cents": price_cents},
    )
    return listing


def delist(session: Session, listing_id: int, seller_id: int) -> Listing:
    """Withdraw an open listing; licences already sold stay valid."""
    listing = _own_open_listing(session, listing_id, seller_id)
    listing.status = "delisted"
    session.flush()
    record_event(
        session,
        "delisted",
        artwork_id=listing.artwork_id,
        actor_id=seller_id,
        payload={"listing_id": listing.id},
    )
    return listing
