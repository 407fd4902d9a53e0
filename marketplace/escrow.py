"""Escrow: money a bid or an offer puts aside, in a ledger account of its own.

A bid or an offer moves its amount from the bidder's wallet to the escrow account of its
auction or offer (`escrow:auction:<id>`, `escrow:offer:<id>`; `marketplace.ledger`) in a
ledger transaction of kind `escrow`; a refund moves it back (kind `refund`); a settlement pays
the sale out of it (kind `sale`, `marketplace.purchases.complete_sale`). Every escrow account
returns to zero when its auction or offer closes, which `atelier ledger check` verifies.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from db.models import Offer, utcnow
from db.session import expire_cached
from marketplace.events import insert_events
from marketplace.ledger import Leg, escrow_account, post_transaction


def hold(
    session: Session,
    user_id: int,
    account: str,
    amount_cents: int,
    *,
    artwork_id: int | None,
    memo: str,
) -> int:
    """Move `amount_cents` from a wallet into an escrow account; the caller has locked the
    wallet and checked its balance. Returns the ledger transaction's id."""
    return post_transaction(
        session,
        "escrow",
        [
            Leg("escrow_hold", -amount_cents, user_id=user_id, artwork_id=artwork_id),
            Leg("escrow_hold", amount_cents, system_account=account, artwork_id=artwork_id),
        ],
        memo=memo,
    )


def refund(
    session: Session,
    account: str,
    user_id: int,
    amount_cents: int,
    *,
    artwork_id: int | None,
    memo: str,
) -> int:
    """Give `amount_cents` held in an escrow account back to a wallet. Returns the ledger
    transaction's id."""
    return post_transaction(
        session,
        "refund",
        [
            Leg("escrow_refund", -amount_cents, system_account=account, artwork_id=artwork_id),
            Leg("escrow_refund", amount_cents, user_id=user_id, artwork_id=artwork_id),
        ],
        memo=memo,
    )


def refund_offer(
    session: Session,
    offer_id: int,
    buyer_id: int,
    amount_cents: int,
    *,
    artwork_id: int,
    outcome: str,
    memo: str,
    reason: str | None = None,
) -> dict:
    """Give a closed offer's escrow back to its maker; returns the payload of its
    `offer_closed` event."""
    txn_id = refund(
        session,
        escrow_account("offer", offer_id),
        buyer_id,
        amount_cents,
        artwork_id=artwork_id,
        memo=memo,
    )
    return {
        "offer_id": offer_id,
        "outcome": outcome,
        "refunded_cents": amount_cents,
        "ledger_transaction_id": txn_id,
        **({"reason": reason} if reason else {}),
    }


def refund_offers_of(session: Session, artwork_id: int, buyer_id: int, *, reason: str) -> list[int]:
    """Close and refund `buyer_id`'s open offers on an artwork they have just come to own.

    Called inside a sale that holds the artwork's lock and the buyer's wallet lock. Returns
    the closed offers' ids."""
    offers = (
        session.connection()
        .execute(
            update(Offer.__table__)
            .where(
                Offer.artwork_id == artwork_id,
                Offer.buyer_id == buyer_id,
                Offer.status == "open",
            )
            .values(status="withdrawn", closed_at=utcnow())
            .returning(Offer.id, Offer.amount_cents)
        )
        .all()
    )
    events = [
        {
            "kind": "offer_closed",
            "artwork_id": artwork_id,
            "actor_id": buyer_id,
            "payload": refund_offer(
                session,
                offer_id,
                buyer_id,
                amount,
                artwork_id=artwork_id,
                outcome="withdrawn",
                memo=f"offer #{offer_id} refunded: {reason}",
                reason=reason,
            ),
        }
        for offer_id, amount in sorted(offers)
    ]
    insert_events(session, events)
    expire_cached(session, Offer, [offer_id for offer_id, _ in offers])
    return [offer_id for offer_id, _ in offers]
