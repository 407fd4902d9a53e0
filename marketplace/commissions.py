"""Commissions: a buyer posts a brief, artists answer with works they made, the buyer picks.

The brief names a title, what is wanted (words, a subject, a palette), reference works
(registered works: gallery works, or the buyer's own uploads registered first), the licence
wanted and a budget, which is held in the commission's escrow account
(`escrow:commission:<id>`) from the moment it is posted, and a deadline for answers.
Artists answer with a candidate: a registered work they created and own — made with their own
model, a style, whatever their tools are. The buyer picks one: the artist is paid the budget
out of escrow exactly like a sale (`marketplace.purchases.complete_sale`: platform fee, the
work's royalty and source shares), and the work (exclusive) or a licence goes to the buyer.
The brief, each candidate and the choice are provenance events, so the chosen work's history
carries the brief it answered (its title, a SHA-256 of its text, its references).

The buyer may cancel while no artist has answered. A brief nobody answered by its deadline,
or whose buyer chose nothing within `CHOOSE_WITHIN` after it, is closed and refunded by the
market sweep.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.models import (
    LICENCE_TIERS,
    Commission,
    CommissionCandidate,
    User,
    as_utc,
    utcnow,
)
from marketplace.artworks import get_artwork, get_row, refuse_if_blocked
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
from marketplace.escrow import hold, refund
from marketplace.events import record_event
from marketplace.ledger import escrow_account
from marketplace.money import format_cents
from marketplace.purchases import PurchaseResult, settle_from_escrow
from marketplace.rules import DEFAULT_RULES, MAX_MARKET_SECONDS, MarketRules

CHOOSE_WITHIN = timedelta(days=7)  # after the deadline, for the buyer to pick
MAX_BRIEF = 4_000
MAX_REFERENCES = 12
MAX_PALETTE = 8
_HEX = re.compile(r"#?[0-9a-fA-F]{6}")


def get_commission(session: Session, commission_id: int, *, lock: bool = False) -> Commission:
    return get_row(session, Commission, commission_id, what="commission", lock=lock)


def _text(value: object, name: str, low: int, high: int) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not low <= len(text) <= high:
        raise InvalidInput(
            f"`{name}` must be {low}-{high} characters, got {len(text)}",
            plain=f"The {name} must be {low} to {high} characters.",
        )
    return text


def _palette(colours: object) -> list[str]:
    items = colours.replace(",", " ").split() if isinstance(colours, str) else list(colours or [])
    if len(items) > MAX_PALETTE or not all(isinstance(c, str) and _HEX.fullmatch(c) for c in items):
        raise InvalidInput(
            f"`palette` must be up to {MAX_PALETTE} colours like #1f6feb, got {colours!r}",
            plain=f"Give up to {MAX_PALETTE} colours written like #1f6feb.",
        )
    return ["#" + c.lstrip("#").lower() for c in items]


def post_commission(
    session: Session,
    buyer_id: int,
    *,
    title: str,
    brief: str,
    budget_cents: int,
    deadline_seconds: int,
    licence_tier: str = "exclusive",
    subject: str = "",
    palette: object = (),
    reference_ids: object = (),
    now: datetime | None = None,
    rules: MarketRules = DEFAULT_RULES,
) -> Commission:
    """Post a brief; its budget leaves the buyer's wallet into escrow at once.

    Raises:
        InvalidInput, NotFound (a reference that is not registered), InsufficientFunds.
    """
    now = now or utcnow()
    title = _text(title, "title", 1, 200)
    brief = _text(brief, "brief", 10, MAX_BRIEF)
    subject = subject.strip()[:200] if isinstance(subject, str) else ""
    colours = _palette(palette)
    if licence_tier not in LICENCE_TIERS:
        raise InvalidInput(f"`licence_tier` must be one of {LICENCE_TIERS}, got {licence_tier!r}")
    check_int("budget_cents", budget_cents, 1, rules.max_price_cents)
    if (
        isinstance(deadline_seconds, bool)
        or not isinstance(deadline_seconds, int)
        or not 3600 <= deadline_seconds <= MAX_MARKET_SECONDS
    ):
        raise InvalidInput(
            f"`deadline_seconds` must be whole seconds in [3600, {MAX_MARKET_SECONDS}], "
            f"got {deadline_seconds!r}",
            plain="Give artists from one hour to 30 days.",
        )
    refs = list(dict.fromkeys(reference_ids or ()))
    if len(refs) > MAX_REFERENCES:
        raise InvalidInput(f"a brief may name up to {MAX_REFERENCES} reference works")
    for ref in refs:
        get_artwork(session, ref)  # NotFound names it
    balance = session.scalar(
        select(User.balance_cents).where(User.id == buyer_id).with_for_update()
    )
    if balance is None:
        raise NotFound(f"user #{buyer_id} does not exist")
    if balance < budget_cents:
        raise InsufficientFunds(
            f"a budget of {format_cents(budget_cents)} credits is held from your wallet until "
            f"the commission closes; your balance is {format_cents(balance)}"
        )
    commission = Commission(
        buyer_id=buyer_id,
        title=title,
        brief=brief,
        subject=subject,
        palette=colours,
        reference_ids=refs,
        licence_tier=licence_tier,
        budget_cents=budget_cents,
        deadline_at=now + timedelta(seconds=deadline_seconds),
        status="open",
        created_at=now,
    )
    session.add(commission)
    session.flush()
    txn = hold(
        session,
        buyer_id,
        escrow_account("commission", commission.id),
        budget_cents,
        artwork_id=None,
        memo=f"commission #{commission.id}: {title}",
    )
    record_event(
        session,
        "commission_posted",
        artwork_id=None,
        actor_id=buyer_id,
        payload={
            "commission_id": commission.id,
            "title": title,
            "brief_sha256": brief_digest(commission),
            "subject": subject,
            "palette": colours,
            "reference_ids": refs,
            "licence_tier": licence_tier,
            "budget_cents": budget_cents,
            "deadline_at": commission.deadline_at.isoformat(),
            "ledger_transaction_id": txn,
        },
    )
    return commission


def brief_digest(commission: Commission) -> str:
    """SHA-256 of the brief's words: the log commits to the text without publishing it."""
    return hashlib.sha256(commission.brief.encode()).hexdigest()


def submit_candidate(
    session: Session,
    commission_id: int,
    artist_id: int,
    artwork_id: int,
    *,
    note: str = "",
    now: datetime | None = None,
) -> CommissionCandidate:
    """Answer a brief with a work you created and own.

    Raises:
        NotFound, NotOwner (not your own making, or not yours now), SelfPurchase (your own
        brief), ListingNotForSale (closed or past its deadline, or the work is blocked by a
        copyright report), ListingConflict (already submitted).
    """
    now = now or utcnow()
    artwork = get_artwork(session, artwork_id, lock=True)
    commission = get_commission(session, commission_id, lock=True)
    if artwork.creator_id != artist_id or artwork.owner_id != artist_id:
        raise NotOwner(
            f"artwork #{artwork.id} must be a work you created and still own to answer a brief"
        )
    if commission.buyer_id == artist_id:
        raise SelfPurchase("you cannot answer your own brief")
    if commission.status != "open" or now >= as_utc(commission.deadline_at):
        raise ListingNotForSale(
            f"commission #{commission.id} no longer takes answers",
            plain="This brief no longer takes answers.",
        )
    refuse_if_blocked(artwork)
    if session.scalar(
        select(CommissionCandidate.id).where(
            CommissionCandidate.commission_id == commission.id,
            CommissionCandidate.artwork_id == artwork.id,
        )
    ):
        raise ListingConflict(f"artwork #{artwork.id} already answers commission #{commission.id}")
    candidate = CommissionCandidate(
        commission_id=commission.id,
        artist_id=artist_id,
        artwork_id=artwork.id,
        note=(note or "").strip()[:1000],
        status="submitted",
        created_at=now,
    )
    session.add(candidate)
    session.flush()
    record_event(
        session,
        "candidate_submitted",
        artwork_id=artwork.id,
        actor_id=artist_id,
        payload={"commission_id": commission.id, "candidate_id": candidate.id},
    )
    return candidate


def _close(session, commission, outcome, now, *, actor_id, artwork_id=None, **details):
    commission.status = outcome
    commission.closed_at = now
    session.flush()
    record_event(
        session,
        "commission_closed",
        artwork_id=artwork_id,
        actor_id=actor_id,
        payload={"commission_id": commission.id, "outcome": outcome, **details},
    )


def choose_candidate(
    session: Session,
    candidate_id: int,
    buyer_id: int,
    *,
    now: datetime | None = None,
    rules: MarketRules = DEFAULT_RULES,
) -> PurchaseResult:
    """The buyer picks a candidate: the artist is paid the budget out of escrow like a sale,
    and the work (exclusive) or a licence of it goes to the buyer.

    Raises:
        NotFound, NotOwner (not your brief), ListingNotForSale (closed, past the time to
        choose, or the work is blocked or no longer the artist's).
    """
    now = now or utcnow()
    candidate = get_row(session, CommissionCandidate, candidate_id, what="candidate")
    artwork = get_artwork(session, candidate.artwork_id, lock=True)
    commission = get_commission(session, candidate.commission_id, lock=True)
    if commission.buyer_id != buyer_id:
        raise NotOwner(f"commission #{commission.id} is not yours")
    if commission.status != "open":
        raise ListingNotForSale(f"commission #{commission.id} is {commission.status}")
    if now >= as_utc(commission.deadline_at) + CHOOSE_WITHIN:
        raise ListingNotForSale(
            f"commission #{commission.id} closed for choosing 7 days after its deadline"
        )
    refuse_if_blocked(artwork)
    if artwork.owner_id != candidate.artist_id:
        raise ListingNotForSale(
            f"artwork #{artwork.id} no longer belongs to the artist who offered it"
        )
    candidate.status = "chosen"
    others = session.scalars(
        select(CommissionCandidate).where(
            CommissionCandidate.commission_id == commission.id,
            CommissionCandidate.id != candidate.id,
        )
    ).all()
    for other in others:
        other.status = "passed"
    # closed before the sale: the escrow pays it
    commission.status = "awarded"
    commission.closed_at = now
    session.flush()
    result = settle_from_escrow(
        session,
        artwork,
        "commission",
        commission.id,
        seller_id=candidate.artist_id,
        buyer_id=buyer_id,
        price_cents=commission.budget_cents,
        licence_tier=commission.licence_tier,
        rules=rules,
    )
    record_event(
        session,
        "commission_closed",
        artwork_id=artwork.id,
        actor_id=buyer_id,
        payload={
            "commission_id": commission.id,
            "outcome": "awarded",
            "candidate_id": candidate.id,
            "sale_id": result.sale.id,
            "title": commission.title,
            "brief_sha256": brief_digest(commission),
            "reference_ids": list(commission.reference_ids),
        },
    )
    return result


def cancel_commission(
    session: Session, commission_id: int, buyer_id: int, *, now: datetime | None = None
) -> Commission:
    """Withdraw your brief while no artist has answered; the budget comes back at once."""
    now = now or utcnow()
    commission = get_commission(session, commission_id, lock=True)
    if commission.buyer_id != buyer_id:
        raise NotOwner(f"commission #{commission.id} is not yours")
    if commission.status != "open":
        raise ListingNotForSale(f"commission #{commission.id} is {commission.status}")
    if _candidate_count(session, commission.id):
        raise ListingNotForSale(
            f"artists have answered commission #{commission.id}; choose one, or let it "
            "close 7 days after its deadline",
            plain="Artists have answered this brief: choose one, or let it close.",
        )
    _refund(session, commission, "cancelled", now, actor_id=buyer_id)
    return commission


def _candidate_count(session: Session, commission_id: int) -> int:
    return session.scalar(
        select(func.count(CommissionCandidate.id)).where(
            CommissionCandidate.commission_id == commission_id
        )
    )


def _refund(session, commission, outcome, now, *, actor_id) -> None:
    txn = refund(
        session,
        escrow_account("commission", commission.id),
        commission.buyer_id,
        commission.budget_cents,
        artwork_id=None,
        memo=f"commission #{commission.id} {outcome}: {commission.title}",
    )
    _close(
        session,
        commission,
        outcome,
        now,
        actor_id=actor_id,
        refunded_cents=commission.budget_cents,
        ledger_transaction_id=txn,
    )


def expire_due(sessions: sessionmaker, *, now: datetime | None = None) -> list[int]:
    """Close and refund the briefs nobody answered by their deadline and those whose buyer
    chose nothing within 7 days after it; each in its own transaction. Safe to run twice."""
    now = now or utcnow()
    with sessions() as s:
        due = list(
            s.scalars(
                select(Commission.id)
                .where(Commission.status == "open", Commission.deadline_at <= now)
                .order_by(Commission.deadline_at, Commission.id)
                .limit(500)
            )
        )
    expired = []
    for commission_id in due:
        with sessions() as s, s.begin():
            commission = get_commission(s, commission_id, lock=True)
            if commission.status != "open":
                continue
            answered = _candidate_count(s, commission.id)
            if answered and now < as_utc(commission.deadline_at) + CHOOSE_WITHIN:
                continue  # the buyer still has time to choose
            _refund(s, commission, "expired", now, actor_id=None)
            expired.append(commission_id)
    return expired


def open_commissions(session: Session, *, limit: int = 50) -> list[Commission]:
    """Briefs still taking answers, soonest deadline first."""
    return list(
        session.scalars(
            select(Commission)
            .where(Commission.status == "open", Commission.deadline_at > utcnow())
            .order_by(Commission.deadline_at, Commission.id)
            .limit(limit)
        )
    )


def briefs_of(session: Session, buyer_id: int, *, limit: int = 20) -> list[Commission]:
    """A buyer's briefs, newest first."""
    return list(
        session.scalars(
            select(Commission)
            .where(Commission.buyer_id == buyer_id)
            .order_by(Commission.id.desc())
            .limit(limit)
        )
    )
