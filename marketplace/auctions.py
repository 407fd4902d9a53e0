"""Auctions of an artwork itself: reserve auctions (Foundation's shape) and Dutch auctions.

Reserve auction: the seller sets a reserve. Nothing happens until a bid at or above it; that
bid starts the clock (`MarketRules.auction_seconds`, 24 hours). Each later bid must beat the
leading one by `min_bid_increment_bps` (10%, at least a cent). A bid placed with less than
`auction_extension_seconds` (15 minutes) left moves the end to that long after the bid, so
nobody wins by sniping. The leading bid's money is held in the auction's escrow account; the
bidder it displaces is refunded in the same transaction. When the clock has run out the
market sweep (`settle_due`, a scheduled job) settles it: the winner is paid out of escrow
exactly as a purchase would be (`marketplace.purchases.complete_sale`: platform fee, creator
royalty, source-work shares) and becomes the owner. Settling twice settles once. The seller
may cancel until the first bid, not after.

Dutch auction: the price falls in a straight line from the start price to the floor over the
auction's duration; the first buyer pays the price of that moment and the auction ends. At
the end without a buyer it closes unsold.

Every function takes `now` so that the clock can be tested; callers pass nothing. Locks: the
artwork, then the auction, then wallets in ascending id order — the order every writer of an
artwork follows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from db.models import AUCTION_KINDS, Artwork, Auction, Bid, Listing, Sale, User, as_utc, utcnow
from marketplace.artworks import get_artwork, get_row, lock_with_artwork, refuse_if_blocked
from marketplace.errors import (
    IdempotencyConflict,
    InsufficientFunds,
    InvalidInput,
    ListingConflict,
    ListingNotForSale,
    NotFound,
    NotOwner,
    SelfPurchase,
    StaleVersion,
    check_int,
)
from marketplace.escrow import hold, refund
from marketplace.events import record_event
from marketplace.ledger import escrow_account
from marketplace.listings import fix_royalty
from marketplace.money import format_cents
from marketplace.notifications import notify, notify_followers
from marketplace.purchases import (
    PurchaseResult,
    check_idempotency_key,
    complete_sale,
    settle_from_escrow,
    split_charged,
)
from marketplace.rules import DEFAULT_RULES, MAX_MARKET_SECONDS, MarketRules


@dataclass(frozen=True)
class BidResult:
    """The outcome of a bid.

    Attributes:
        bid: the bid row.
        auction: the auction after it.
        extended: the bid moved the auction's end.
        refunded_bidder_id: the bidder it displaced, refunded, or None.
        replayed: true when this answers a retry with the same key.
    """

    bid: Bid
    auction: Auction
    extended: bool = False
    refunded_bidder_id: int | None = None
    replayed: bool = False


def _check_seconds(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"`{name}` must be whole seconds in [{low}, {high}], got {value!r}")
    return value


def get_auction(session: Session, auction_id: int, *, lock: bool = False) -> Auction:
    """The auction with this id (see `marketplace.artworks.get_row`)."""
    return get_row(session, Auction, auction_id, what="auction", lock=lock)


def _lock(session: Session, auction_id: int) -> tuple[Artwork, Auction]:
    return lock_with_artwork(session, Auction, auction_id, what="auction")


def open_auction_of(session: Session, artwork_id: int) -> Auction | None:
    """The artwork's open auction, if it has one."""
    return session.scalar(
        select(Auction).where(Auction.artwork_id == artwork_id, Auction.status == "open")
    )


def create_auction(
    session: Session,
    artwork_id: int,
    seller_id: int,
    *,
    kind: str,
    reserve_cents: int,
    start_price_cents: int | None = None,
    duration_seconds: int | None = None,
    extension_seconds: int | None = None,
    royalty_bps: int | None = None,
    now: datetime | None = None,
    rules: MarketRules = DEFAULT_RULES,
) -> Auction:
    """Put an artwork you own up for auction (the work itself: the winner becomes its owner).

    Args:
        kind: "reserve" or "dutch".
        reserve_cents: the reserve (the lowest first bid), or a Dutch auction's floor.
        start_price_cents: a Dutch auction's starting price (above the floor).
        duration_seconds: the clock (reserve: from the first bid; Dutch: from now);
            default `rules.auction_seconds`.
        extension_seconds: the anti-sniping window (reserve only); default
            `rules.auction_extension_seconds`.
        royalty_bps: the creator's royalty, at the work's first sale offer only.

    Raises:
        InvalidInput, NotFound, NotOwner, ListingConflict (an open auction or exclusive
        listing of the work already exists).
    """
    now = now or utcnow()
    if kind not in AUCTION_KINDS:
        raise InvalidInput(f"`kind` must be one of {AUCTION_KINDS}, got {kind!r}")
    check_int("reserve_cents", reserve_cents, 1, rules.max_price_cents)
    duration = rules.auction_seconds if duration_seconds is None else duration_seconds
    _check_seconds("duration_seconds", duration, 60, MAX_MARKET_SECONDS)
    extension = rules.auction_extension_seconds if extension_seconds is None else extension_seconds
    _check_seconds("extension_seconds", extension, 0, 24 * 3600)
    if kind == "dutch":
        check_int("start_price_cents", start_price_cents, 1, rules.max_price_cents)
        if start_price_cents <= reserve_cents:
            raise InvalidInput(
                f"a Dutch auction's start price ({format_cents(start_price_cents)}) must be "
                f"above its floor ({format_cents(reserve_cents)})",
                plain="A Dutch auction starts above its floor price: raise the start price.",
            )
        extension = 0
    elif start_price_cents is not None:
        raise InvalidInput(
            "only a Dutch auction has a start price; a reserve auction has a reserve"
        )
    artwork = get_artwork(session, artwork_id, lock=True)
    if artwork.owner_id != seller_id:
        raise NotOwner(f"you do not own artwork #{artwork.id}, so you cannot auction it")
    refuse_if_blocked(artwork)
    fix_royalty(session, artwork, royalty_bps, rules=rules)
    running = open_auction_of(session, artwork.id)
    if running is not None:
        raise ListingConflict(f"artwork #{artwork.id} is already in auction #{running.id}")
    listed = session.scalar(
        select(Listing.id).where(
            Listing.artwork_id == artwork.id,
            Listing.licence_tier == "exclusive",
            Listing.status == "active",
        )
    )
    if listed is not None:
        raise ListingConflict(
            f"artwork #{artwork.id} is listed for sale (listing #{listed}); delist it before "
            "auctioning it"
        )
    auction = Auction(
        artwork_id=artwork.id,
        seller_id=seller_id,
        kind=kind,
        status="open",
        reserve_cents=reserve_cents,
        start_price_cents=start_price_cents if kind == "dutch" else None,
        duration_seconds=duration,
        extension_seconds=extension,
        starts_at=now if kind == "dutch" else None,
        ends_at=now + timedelta(seconds=duration) if kind == "dutch" else None,
        bid_count=0,
        version=1,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(auction)
    except IntegrityError:
        raise ListingConflict(f"artwork #{artwork.id} is already in an auction") from None
    record_event(
        session,
        "auction_opened",
        artwork_id=artwork.id,
        actor_id=seller_id,
        payload={
            "auction_id": auction.id,
            "kind": kind,
            "reserve_cents": reserve_cents,
            "start_price_cents": auction.start_price_cents,
            "duration_seconds": duration,
            "extension_seconds": extension,
            "ends_at": auction.ends_at.isoformat() if auction.ends_at else None,
            "royalty_bps": artwork.royalty_bps,
        },
    )
    notify_followers(
        session, seller_id, artwork, auction_id=auction.id, reserve_cents=reserve_cents
    )
    return auction


def minimum_bid(auction: Auction, rules: MarketRules = DEFAULT_RULES) -> int:
    """The lowest bid the auction accepts now: the reserve, or the leading bid plus the
    minimum increment (at least one cent)."""
    if auction.high_bid_cents is None:
        return auction.reserve_cents
    step = max(1, math.ceil(auction.high_bid_cents * rules.min_bid_increment_bps / 10_000))
    return auction.high_bid_cents + step


def current_price(auction: Auction, now: datetime | None = None) -> int:
    """A Dutch auction's price at `now`: a straight line from the start price to the floor,
    rounded up to the cent; the floor from the end on."""
    if auction.kind != "dutch":
        raise InvalidInput(f"auction #{auction.id} is a reserve auction: it has bids, not a price")
    now = now or utcnow()
    starts = as_utc(auction.starts_at)
    total = (as_utc(auction.ends_at) - starts).total_seconds()
    elapsed = min(max((now - starts).total_seconds(), 0.0), total)
    drop = auction.start_price_cents - auction.reserve_cents
    return auction.reserve_cents + math.ceil(drop * (total - elapsed) / total)


def _ended(auction: Auction, now: datetime) -> bool:
    return auction.ends_at is not None and now >= as_utc(auction.ends_at)


def place_bid(
    session: Session,
    auction_id: int,
    bidder_id: int,
    amount_cents: int,
    idempotency_key: str,
    *,
    now: datetime | None = None,
    rules: MarketRules = DEFAULT_RULES,
) -> BidResult:
    """Bid on a reserve auction; the amount goes into the auction's escrow at once and the
    bidder it displaces gets theirs back in the same transaction.

    Raises:
        InvalidInput, NotFound, ListingNotForSale (closed, ended, or a Dutch auction),
        SelfPurchase (the seller, or the leading bidder bidding again), StaleVersion (below
        the minimum bid), InsufficientFunds, IdempotencyConflict.
    """
    key = check_idempotency_key(idempotency_key)
    check_int("amount_cents", amount_cents, 1, rules.max_price_cents)
    now = now or utcnow()
    artwork, auction = _lock(session, auction_id)
    earlier = session.scalar(
        select(Bid).where(Bid.bidder_id == bidder_id, Bid.idempotency_key == key)
    )
    if earlier is not None:
        if earlier.auction_id != auction.id or earlier.amount_cents != amount_cents:
            raise IdempotencyConflict(
                f"idempotency key {key!r} was already used for another bid (#{earlier.id})"
            )
        return BidResult(bid=earlier, auction=auction, replayed=True)
    if auction.kind != "reserve":
        raise ListingNotForSale(
            f"auction #{auction.id} is a Dutch auction: buy it at its current price instead",
            plain="This is a Dutch auction: it has a falling price, not bids. Buy it now instead.",
        )
    if auction.status != "open" or _ended(auction, now):
        raise ListingNotForSale(f"auction #{auction.id} has ended", plain="This auction has ended.")
    refuse_if_blocked(artwork)
    if bidder_id in (auction.seller_id, artwork.owner_id):
        raise SelfPurchase(f"you cannot bid on your own auction #{auction.id}")
    if bidder_id == auction.high_bidder_id:
        raise SelfPurchase(
            f"you already have the leading bid on auction #{auction.id}",
            plain="You already have the leading bid.",
        )
    lowest = minimum_bid(auction, rules)
    if amount_cents < lowest:
        what = "the reserve" if auction.high_bid_cents is None else "the lowest next bid"
        raise StaleVersion(
            f"a bid on auction #{auction.id} must be at least {format_cents(lowest)} credits "
            f"({what}), got {format_cents(amount_cents)}",
            plain=f"Bid at least {format_cents(lowest)} credits ({what}).",
        )
    previous = (auction.high_bidder_id, auction.high_bid_cents)
    wallets = dict(
        session.execute(
            select(User.id, User.balance_cents)
            .where(User.id.in_({bidder_id, *(previous[:1] if previous[0] else ())}))
            .order_by(User.id)
            .with_for_update()
        ).all()
    )
    if bidder_id not in wallets:
        raise NotFound(f"user #{bidder_id} does not exist")
    if wallets[bidder_id] < amount_cents:
        raise InsufficientFunds(
            f"a bid of {format_cents(amount_cents)} credits needs that much in your wallet "
            f"(held until you are outbid or win); your balance is "
            f"{format_cents(wallets[bidder_id])}"
        )
    account = escrow_account("auction", auction.id)
    held_txn = hold(
        session,
        bidder_id,
        account,
        amount_cents,
        artwork_id=artwork.id,
        memo=f"bid on auction #{auction.id}: {artwork.title}",
    )
    refund_txn = None
    if previous[0] is not None:
        refund_txn = refund(
            session,
            account,
            previous[0],
            previous[1],
            artwork_id=artwork.id,
            memo=f"outbid on auction #{auction.id}: {artwork.title}",
        )
        notify(
            session,
            previous[0],
            "outbid",
            artwork_id=artwork.id,
            title=artwork.title,
            auction_id=auction.id,
            refunded_cents=previous[1],
            bid_cents=amount_cents,
        )
    extended = False
    if auction.ends_at is None:
        auction.starts_at = now
        auction.ends_at = now + timedelta(seconds=auction.duration_seconds)
    elif as_utc(auction.ends_at) - now < timedelta(seconds=auction.extension_seconds):
        auction.ends_at = now + timedelta(seconds=auction.extension_seconds)
        extended = True
    auction.high_bidder_id = bidder_id
    auction.high_bid_cents = amount_cents
    auction.bid_count += 1
    auction.version += 1
    bid = Bid(
        auction_id=auction.id,
        bidder_id=bidder_id,
        amount_cents=amount_cents,
        idempotency_key=key,
        ledger_transaction_id=held_txn,
        created_at=now,
    )
    session.add(bid)
    session.flush()
    record_event(
        session,
        "bid_placed",
        artwork_id=artwork.id,
        actor_id=bidder_id,
        payload={
            "auction_id": auction.id,
            "bid_id": bid.id,
            "amount_cents": amount_cents,
            "ends_at": as_utc(auction.ends_at).isoformat(),
            "extended": extended,
            "clock_started": auction.bid_count == 1,
            "outbid_user_id": previous[0],
            "refunded_cents": previous[1] if previous[0] else 0,
            "ledger_transaction_id": held_txn,
            "refund_transaction_id": refund_txn,
        },
    )
    return BidResult(bid=bid, auction=auction, extended=extended, refunded_bidder_id=previous[0])


def buy_dutch(
    session: Session,
    auction_id: int,
    buyer_id: int,
    idempotency_key: str,
    *,
    max_price_cents: int | None = None,
    now: datetime | None = None,
    rules: MarketRules = DEFAULT_RULES,
) -> PurchaseResult:
    """Buy a Dutch auction's work at its price of this moment; the auction ends.

    Args:
        max_price_cents: the price the buyer saw; the price only falls, so this refuses
            nothing unless the caller's clock ran ahead.

    Raises:
        NotFound, ListingNotForSale, SelfPurchase, StaleVersion, InsufficientFunds,
        IdempotencyConflict, InvalidInput.
    """
    key = check_idempotency_key(idempotency_key)
    now = now or utcnow()
    artwork, auction = _lock(session, auction_id)
    earlier = session.scalar(
        select(Sale).where(Sale.buyer_id == buyer_id, Sale.idempotency_key == key)
    )
    if earlier is not None:
        if earlier.auction_id != auction.id:
            raise IdempotencyConflict(f"idempotency key {key!r} was already used for a purchase")
        return PurchaseResult(sale=earlier, split=split_charged(session, earlier), replayed=True)
    if auction.kind != "dutch":
        raise ListingNotForSale(
            f"auction #{auction.id} is a reserve auction: place a bid instead",
            plain="This is a reserve auction: place a bid instead.",
        )
    if auction.status != "open" or _ended(auction, now):
        raise ListingNotForSale(f"auction #{auction.id} has ended", plain="This auction has ended.")
    refuse_if_blocked(artwork)
    if buyer_id in (auction.seller_id, artwork.owner_id):
        raise SelfPurchase(f"you cannot buy your own auction #{auction.id}")
    price = current_price(auction, now)
    if max_price_cents is not None and price > max_price_cents:
        raise StaleVersion(
            f"auction #{auction.id} costs {format_cents(price)} credits now, more than the "
            f"{format_cents(max_price_cents)} you agreed to"
        )
    result = complete_sale(
        session,
        artwork,
        seller_id=auction.seller_id,
        buyer_id=buyer_id,
        price_cents=price,
        licence_tier="exclusive",
        idempotency_key=key,
        origin=("auction_id", auction.id),
        rules=rules,
    )
    _close(session, auction, "settled", now, sale_id=result.sale.id, price_cents=price)
    return result


def _close(
    session: Session,
    auction: Auction,
    outcome: str,
    now: datetime,
    *,
    actor_id: int | None = None,
    **details,
) -> None:
    auction.status = outcome
    auction.closed_at = now
    auction.version += 1
    session.flush()
    record_event(
        session,
        "auction_closed",
        artwork_id=auction.artwork_id,
        actor_id=actor_id,
        payload={"auction_id": auction.id, "outcome": outcome, **details},
    )


def void_auction(
    session: Session, artwork: Artwork, auction: Auction, now: datetime, reason: str
) -> None:
    """Cancel an open auction whatever its bids, refunding the leading bid (a takedown, a
    seller who no longer owns the work); the caller holds the artwork's and the auction's
    locks."""
    if auction.high_bidder_id is not None:
        refund(
            session,
            escrow_account("auction", auction.id),
            auction.high_bidder_id,
            auction.high_bid_cents,
            artwork_id=artwork.id,
            memo=f"auction #{auction.id} cancelled: {reason}",
        )
    _close(session, auction, "cancelled", now, reason=reason)


def cancel_auction(
    session: Session, auction_id: int, seller_id: int, *, now: datetime | None = None
) -> Auction:
    """Withdraw an auction: a reserve auction until its first bid, a Dutch one until sold.

    Raises:
        NotFound, NotOwner, ListingNotForSale (closed, or a reserve auction with bids).
    """
    now = now or utcnow()
    _, auction = _lock(session, auction_id)
    if auction.seller_id != seller_id:
        raise NotOwner(f"auction #{auction.id} is not yours")
    if auction.status != "open":
        raise ListingNotForSale(f"auction #{auction.id} is already {auction.status}")
    if auction.bid_count:
        raise ListingNotForSale(
            f"auction #{auction.id} has bids; an auction with bids runs to its end",
            plain="This auction has bids: it runs to its end and cannot be cancelled.",
        )
    _close(session, auction, "cancelled", now, actor_id=seller_id)
    return auction


def settle_auction(
    session: Session,
    auction_id: int,
    *,
    now: datetime | None = None,
    rules: MarketRules = DEFAULT_RULES,
) -> PurchaseResult | None:
    """Close an auction whose clock has run out: a reserve auction with a winner is paid out
    of escrow and the work changes hands; a Dutch auction nobody bought closes unsold.
    Safe to run twice, and at any time: an auction that is closed, or still running, is
    left alone (None).
    """
    now = now or utcnow()
    artwork, auction = _lock(session, auction_id)
    if auction.status != "open" or not _ended(auction, now):
        return None
    if artwork.sales_blocked is not None:
        return None  # a copyright report is pending: it waits for the operator's decision
    if auction.kind == "dutch" or auction.high_bidder_id is None:
        _close(session, auction, "unsold", now)
        return None
    if artwork.owner_id != auction.seller_id:
        # cannot happen while the rules hold (nothing else sells a work in auction); never
        # keep the winner's money for a work that cannot be delivered
        void_auction(session, artwork, auction, now, "the seller no longer owns the work")
        return None
    result = settle_from_escrow(
        session,
        artwork,
        "auction",
        auction.id,
        seller_id=auction.seller_id,
        buyer_id=auction.high_bidder_id,
        price_cents=auction.high_bid_cents,
        licence_tier="exclusive",
        rules=rules,
    )
    _close(
        session,
        auction,
        "settled",
        now,
        sale_id=result.sale.id,
        price_cents=auction.high_bid_cents,
        winner_id=auction.high_bidder_id,
    )
    notify(
        session,
        auction.high_bidder_id,
        "won",
        artwork_id=artwork.id,
        title=artwork.title,
        auction_id=auction.id,
        price_cents=auction.high_bid_cents,
        sale_id=result.sale.id,
    )
    return result


def due_auctions(session: Session, now: datetime | None = None, *, limit: int = 100) -> list[int]:
    """The ids of open auctions whose clock has run out, oldest end first."""
    now = now or utcnow()
    return list(
        session.scalars(
            select(Auction.id)
            .join(Artwork, Artwork.id == Auction.artwork_id)
            .where(
                Auction.status == "open",
                Auction.ends_at.is_not(None),
                Auction.ends_at <= now,
                Artwork.sales_blocked.is_(None),  # held by a copyright report
            )
            .order_by(Auction.ends_at, Auction.id)
            .limit(limit)
        )
    )


def settle_due(
    sessions: sessionmaker,
    *,
    now: datetime | None = None,
    rules: MarketRules = DEFAULT_RULES,
) -> list[int]:
    """Settle every auction whose clock has run out, each in its own transaction; the ids
    of those settled or closed unsold by this call."""
    with sessions() as s:
        due = due_auctions(s, now)
    closed = []
    for auction_id in due:
        with sessions() as s, s.begin():
            settle_auction(s, auction_id, now=now, rules=rules)
            if s.get(Auction, auction_id).status != "open":  # the row it locked and closed
                closed.append(auction_id)
    return closed


def list_auctions(session: Session, *, status: str = "open", limit: int = 50) -> list[Auction]:
    """Auctions by status, those ending soonest first (reserve auctions not yet started
    last)."""
    return list(
        session.scalars(
            select(Auction)
            .where(Auction.status == status)
            .order_by(Auction.ends_at.is_(None), Auction.ends_at, Auction.id)
            .limit(limit)
        )
    )


def bids_of(session: Session, auction_id: int) -> list[Bid]:
    """An auction's bids, newest first."""
    return list(
        session.scalars(select(Bid).where(Bid.auction_id == auction_id).order_by(Bid.id.desc()))
    )
