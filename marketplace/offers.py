"""Offers: anyone may offer to buy a registered work (or a licence of it), listed or not.

The amount leaves the buyer's wallet when the offer is made and waits in the offer's escrow
account. Whoever owns the work when they answer may accept it — it is then paid out exactly
like a purchase (`marketplace.purchases.complete_sale`) — or decline it; the buyer may
withdraw it while it is open; an offer nobody answered by its expiry is refunded by the market
sweep (`expire_due`, a scheduled job). An offer is addressed to the work, not to a person:
if the work changes hands the new owner may accept it; if its maker comes to own the work,
it is refunded at once.

Locks: the artwork, then the offer, then wallets in ascending id order.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from db.models import LICENCE_TIERS, Artwork, Auction, Licence, Offer, User, as_utc, utcnow
from marketplace.artworks import get_artwork, lock_with_artwork, refuse_if_blocked
from marketplace.errors import (
    InsufficientFunds,
    InvalidInput,
    ListingConflict,
    ListingNotForSale,
    NotFound,
    NotOwner,
    SelfPurchase,
    check_int,
)
from marketplace.escrow import hold, refund_offer
from marketplace.events import record_event
from marketplace.ledger import escrow_account
from marketplace.money import format_cents
from marketplace.notifications import notify
from marketplace.purchases import PurchaseResult, settle_from_escrow
from marketplace.rules import DEFAULT_RULES, MAX_MARKET_SECONDS, MarketRules


def _lock(session: Session, offer_id: int) -> tuple[Artwork, Offer]:
    return lock_with_artwork(session, Offer, offer_id, what="offer")


def _holds(session: Session, user_id: int, artwork_id: int, tier: str) -> bool:
    return (
        session.scalar(
            select(Licence.id).where(
                Licence.artwork_id == artwork_id, Licence.holder_id == user_id, Licence.tier == tier
            )
        )
        is not None
    )


def make_offer(
    session: Session,
    artwork_id: int,
    buyer_id: int,
    amount_cents: int,
    *,
    licence_tier: str = "exclusive",
    expires_in_seconds: int | None = None,
    now: datetime | None = None,
    rules: MarketRules = DEFAULT_RULES,
) -> Offer:
    """Offer `amount_cents` for an artwork (exclusive: the work itself) or a licence of it;
    the amount is held in escrow until the offer closes.

    Args:
        expires_in_seconds: how long the offer stays open (60 s to 30 days); default
            `rules.offer_seconds` (7 days).

    Raises:
        InvalidInput, NotFound, SelfPurchase (your own work, or a licence you hold),
        ListingConflict (you already have an open offer on it), InsufficientFunds.
    """
    now = now or utcnow()
    check_int("amount_cents", amount_cents, 1, rules.max_price_cents)
    if licence_tier not in LICENCE_TIERS:
        raise InvalidInput(f"`licence_tier` must be one of {LICENCE_TIERS}, got {licence_tier!r}")
    seconds = rules.offer_seconds if expires_in_seconds is None else expires_in_seconds
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int)
        or not 60 <= seconds <= (MAX_MARKET_SECONDS)
    ):
        raise InvalidInput(
            f"`expires_in_seconds` must be whole seconds in [60, {MAX_MARKET_SECONDS}], "
            f"got {seconds!r}",
            plain="An offer lasts from one minute to 30 days.",
        )
    artwork = get_artwork(session, artwork_id, lock=True)
    if artwork.owner_id == buyer_id:
        raise SelfPurchase(f"you own artwork #{artwork.id}; there is nothing to offer for")
    if licence_tier != "exclusive" and _holds(session, buyer_id, artwork.id, licence_tier):
        raise SelfPurchase(f"you already hold a {licence_tier} licence for artwork #{artwork.id}")
    mine = session.scalar(
        select(Offer.id).where(
            Offer.artwork_id == artwork.id,
            Offer.buyer_id == buyer_id,
            Offer.licence_tier == licence_tier,
            Offer.status == "open",
        )
    )
    if mine is not None:
        raise ListingConflict(
            f"you already have an open {licence_tier} offer on artwork #{artwork.id} "
            f"(#{mine}); withdraw it before making another"
        )
    balance = session.scalar(
        select(User.balance_cents).where(User.id == buyer_id).with_for_update()
    )
    if balance is None:
        raise NotFound(f"user #{buyer_id} does not exist")
    if balance < amount_cents:
        raise InsufficientFunds(
            f"an offer of {format_cents(amount_cents)} credits is held from your wallet until "
            f"it closes; your balance is {format_cents(balance)}"
        )
    offer = Offer(
        artwork_id=artwork.id,
        buyer_id=buyer_id,
        licence_tier=licence_tier,
        amount_cents=amount_cents,
        status="open",
        expires_at=now + timedelta(seconds=seconds),
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(offer)
    except IntegrityError:
        raise ListingConflict(
            f"you already have an open {licence_tier} offer on artwork #{artwork.id}"
        ) from None
    txn_id = hold(
        session,
        buyer_id,
        escrow_account("offer", offer.id),
        amount_cents,
        artwork_id=artwork.id,
        memo=f"offer #{offer.id} on artwork #{artwork.id}: {artwork.title}",
    )
    record_event(
        session,
        "offer_made",
        artwork_id=artwork.id,
        actor_id=buyer_id,
        payload={
            "offer_id": offer.id,
            "amount_cents": amount_cents,
            "licence_tier": licence_tier,
            "expires_at": offer.expires_at.isoformat(),
            "ledger_transaction_id": txn_id,
        },
    )
    notify(
        session,
        artwork.owner_id,
        "offer_received",
        artwork_id=artwork.id,
        title=artwork.title,
        offer_id=offer.id,
        amount_cents=amount_cents,
        licence_tier=licence_tier,
        expires_at=offer.expires_at.isoformat(),
    )
    return offer


def _open(offer: Offer, now: datetime) -> None:
    if offer.status != "open":
        raise ListingNotForSale(
            f"offer #{offer.id} is {offer.status}", plain=f"This offer is {offer.status}."
        )
    if now >= as_utc(offer.expires_at):
        raise ListingNotForSale(
            f"offer #{offer.id} expired at {as_utc(offer.expires_at).isoformat()}",
            plain="This offer has expired; its money goes back to the buyer.",
        )


def close_and_refund(
    session: Session,
    artwork: Artwork,
    offer: Offer,
    outcome: str,
    now: datetime,
    *,
    actor_id: int | None,
    reason: str | None = None,
) -> Offer:
    """Close an open offer (`declined`, `withdrawn`, `expired`) and give its money back; the
    caller holds the artwork's and the offer's locks."""
    offer.status = outcome
    offer.closed_at = now
    session.flush()
    payload = refund_offer(
        session,
        offer.id,
        offer.buyer_id,
        offer.amount_cents,
        artwork_id=artwork.id,
        outcome=outcome,
        memo=f"offer #{offer.id} {outcome}: {reason or artwork.title}",
        reason=reason,
    )
    record_event(session, "offer_closed", artwork_id=artwork.id, actor_id=actor_id, payload=payload)
    if outcome != "withdrawn":  # the buyer withdrew it: they know
        _tell_buyer(session, artwork, offer, outcome, reason=reason)
    return offer


def _tell_buyer(session, artwork, offer, outcome: str, **details) -> None:
    notify(
        session,
        offer.buyer_id,
        "offer_answered",
        artwork_id=artwork.id,
        title=artwork.title,
        offer_id=offer.id,
        amount_cents=offer.amount_cents,
        outcome=outcome,
        **{k: v for k, v in details.items() if v is not None},
    )


def accept_offer(
    session: Session,
    offer_id: int,
    owner_id: int,
    *,
    now: datetime | None = None,
    rules: MarketRules = DEFAULT_RULES,
) -> PurchaseResult:
    """Accept an open offer on a work you own: it is paid out of escrow like a sale, and
    the work (exclusive) or a licence goes to the buyer.

    Raises:
        NotFound, NotOwner, ListingNotForSale (closed or expired), ListingConflict (an
        exclusive offer on a work in auction), SelfPurchase (the buyer already has it).
    """
    now = now or utcnow()
    artwork, offer = _lock(session, offer_id)
    if artwork.owner_id != owner_id:
        raise NotOwner(
            f"you do not own artwork #{artwork.id}, so you cannot accept offer #{offer.id}"
        )
    _open(offer, now)
    refuse_if_blocked(artwork)
    if offer.licence_tier == "exclusive":
        auction_id = session.scalar(
            select(Auction.id).where(Auction.artwork_id == artwork.id, Auction.status == "open")
        )
        if auction_id is not None:
            raise ListingConflict(
                f"artwork #{artwork.id} is in auction #{auction_id}; it can be sold otherwise "
                "only once the auction closes"
            )
    elif _holds(session, offer.buyer_id, artwork.id, offer.licence_tier):
        raise SelfPurchase(
            f"the buyer already holds a {offer.licence_tier} licence for artwork #{artwork.id}"
        )
    # closed before the sale, which refunds the new owner's *other* open offers on the work
    offer.status = "accepted"
    offer.closed_at = now
    session.flush()
    result = settle_from_escrow(
        session,
        artwork,
        "offer",
        offer.id,
        seller_id=owner_id,
        buyer_id=offer.buyer_id,
        price_cents=offer.amount_cents,
        licence_tier=offer.licence_tier,
        rules=rules,
    )
    record_event(
        session,
        "offer_closed",
        artwork_id=artwork.id,
        actor_id=owner_id,
        payload={"offer_id": offer.id, "outcome": "accepted", "sale_id": result.sale.id},
    )
    _tell_buyer(session, artwork, offer, "accepted", sale_id=result.sale.id)
    return result


def decline_offer(
    session: Session, offer_id: int, owner_id: int, *, now: datetime | None = None
) -> Offer:
    """Decline an offer on a work you own; the buyer gets the money back at once."""
    now = now or utcnow()
    artwork, offer = _lock(session, offer_id)
    if artwork.owner_id != owner_id:
        raise NotOwner(f"offer #{offer.id} is not addressed to you: you do not own the work")
    if offer.status != "open":
        raise ListingNotForSale(f"offer #{offer.id} is {offer.status}")
    return close_and_refund(session, artwork, offer, "declined", now, actor_id=owner_id)


def withdraw_offer(
    session: Session, offer_id: int, buyer_id: int, *, now: datetime | None = None
) -> Offer:
    """Withdraw your open offer; the money comes back at once."""
    now = now or utcnow()
    artwork, offer = _lock(session, offer_id)
    if offer.buyer_id != buyer_id:
        raise NotOwner(f"offer #{offer.id} is not yours")
    if offer.status != "open":
        raise ListingNotForSale(f"offer #{offer.id} is {offer.status}")
    return close_and_refund(session, artwork, offer, "withdrawn", now, actor_id=buyer_id)


def expire_offer(session: Session, offer_id: int, *, now: datetime | None = None) -> bool:
    """Close and refund an open offer past its expiry; True if this call did. Safe to run
    twice and at any time (an open offer not yet due is left alone)."""
    now = now or utcnow()
    artwork, offer = _lock(session, offer_id)
    if offer.status != "open" or now < as_utc(offer.expires_at):
        return False
    close_and_refund(session, artwork, offer, "expired", now, actor_id=None)
    return True


def expire_due(
    sessions: sessionmaker, *, now: datetime | None = None, limit: int = 500
) -> list[int]:
    """Expire every open offer past its expiry, each in its own transaction; the ids."""
    now = now or utcnow()
    with sessions() as s:
        due = list(
            s.scalars(
                select(Offer.id)
                .where(Offer.status == "open", Offer.expires_at <= now)
                .order_by(Offer.expires_at, Offer.id)
                .limit(limit)
            )
        )
    expired = []
    for offer_id in due:
        with sessions() as s, s.begin():
            if expire_offer(s, offer_id, now=now):
                expired.append(offer_id)
    return expired


def offers_on(session: Session, artwork_id: int, *, status: str | None = "open") -> list[Offer]:
    """An artwork's offers (open ones by default), highest amount first."""
    stmt = select(Offer).where(Offer.artwork_id == artwork_id)
    if status is not None:
        stmt = stmt.where(Offer.status == status)
    return list(session.scalars(stmt.order_by(Offer.amount_cents.desc(), Offer.id)))


def offers_for_user(session: Session, user_id: int, *, limit: int = 100) -> dict[str, list[Offer]]:
    """A user's offers: those they made (`made`) and the open ones on works they own
    (`received`), newest first."""
    made = session.scalars(
        select(Offer).where(Offer.buyer_id == user_id).order_by(Offer.id.desc()).limit(limit)
    ).all()
    received = session.scalars(
        select(Offer)
        .join(Artwork, Artwork.id == Offer.artwork_id)
        .where(Artwork.owner_id == user_id, Offer.status == "open")
        .order_by(Offer.id.desc())
        .limit(limit)
    ).all()
    return {"made": list(made), "received": list(received)}
