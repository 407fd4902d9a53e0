"""Copyright reports and takedowns: a notice-and-counter-notice flow like DMCA §512.

Anyone may report "artwork X copies artwork N". The report carries Atelier's own
identification evidence, computed when it is filed: is X within PDQ match distance of N (any
rotation or mirror), or do local features name N as the work X copies (a crop, a caption, a
sticker)? Where the evidence names N, N is older than X, and N belongs to someone other than
X's owner, X's sales stop at once (`suspended`): its listings leave the market, bids and
purchases are refused, an auction that ends meanwhile waits, offers cannot be accepted.
Otherwise the report stays `open` for an operator to look at.

X's owner may file a counter-notice (`countered`; the sales stay stopped). An operator
decides (`atelier report decide`): `removed` — X's listings are withdrawn for good, its open
auction is cancelled and the leading bidder refunded, open offers on it are refunded — or
`restored` (sales resume; an auction that ended meanwhile is then settled by the sweep), or
`rejected` for a report that was never suspended. Every step is a provenance event with its
date, in the transparency log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PIL import Image
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.blobs import BlobStore
from db.models import Artwork, Auction, Listing, Offer, Takedown, utcnow
from db.session import expire_cached
from marketplace.artworks import find_near_copies, get_artwork, lock_with_artwork
from marketplace.auctions import void_auction
from marketplace.errors import InvalidInput, ListingConflict, ListingNotForSale, NotOwner
from marketplace.events import record_event
from marketplace.notifications import notify
from marketplace.offers import close_and_refund
from provenance.fingerprint import perceptual_hash
from provenance.images import decode_image

MAX_STATEMENT = 4_000
_LISTINGS = Listing.__table__
OPEN_STATUSES = ("open", "suspended", "countered")
DECISIONS = ("removed", "restored", "rejected")


def _statement(text: object, what: str) -> str:
    value = text.strip() if isinstance(text, str) else ""
    if not 10 <= len(value) <= MAX_STATEMENT:
        raise InvalidInput(
            f"`{what}` must be 10-{MAX_STATEMENT} characters saying why, got {len(value)}",
            plain=f"Say in a sentence or more (up to {MAX_STATEMENT} characters) why.",
        )
    return value


def copy_evidence(session: Session, blobs: BlobStore, artwork: Artwork, original: Artwork):
    """Whether `artwork`'s image copies `original`'s, by Atelier's identification: PDQ
    within match distance of any rotation or mirror, else local features naming it among
    the works of everyone but `artwork`'s owner. Returns (named, evidence)."""
    from marketplace.local_matching import local_verdict

    rgb: Image.Image = decode_image(blobs.get(artwork.blob_key)).rgb
    phash = perceptual_hash(rgb)
    evidence: dict[str, Any] = {
        "artwork_pdq": phash.hex,
        "original_pdq": original.perceptual_hash,
        "checked_at": utcnow().isoformat(),
    }
    if phash.strong:
        near = {
            m.artwork_id: m.distance
            for m in find_near_copies(session, phash.dihedral, exclude_owner=artwork.owner_id)
        }
        if original.id in near:
            evidence["signal"] = "perceptual hash (PDQ)"
            evidence["pdq_distance"] = near[original.id]
            return True, evidence
    verdict = local_verdict(session, blobs, rgb, exclude_owner=artwork.owner_id)
    evidence["local_features"] = {
        "named_artwork_id": None if verdict.named is None else verdict.named.artwork_id,
        "reason": verdict.reason,
        "checked": verdict.checked[:5],
    }
    if verdict.named is not None and verdict.named.artwork_id == original.id:
        evidence["signal"] = "local features (keypoints)"
        return True, evidence
    evidence["signal"] = None
    return False, evidence


def _refresh_block(session: Session, artwork: Artwork) -> None:
    """Set the artwork's sales block from its reports: removed if any was upheld, else
    suspended while any suspended or countered report stands."""
    statuses = set(
        session.scalars(select(Takedown.status).where(Takedown.artwork_id == artwork.id))
    )
    if "removed" in statuses:
        block, moves = "removed", ()  # `_take_down` withdraws the listings
    elif statuses & {"suspended", "countered"}:
        block, moves = "suspended", ("active", "suspended")
    else:
        block, moves = None, ("suspended", "active")
    artwork.sales_blocked = block
    session.flush()
    if moves:
        moved = list(
            session.connection().scalars(
                update(_LISTINGS)
                .where(_LISTINGS.c.artwork_id == artwork.id, _LISTINGS.c.status == moves[0])
                .values(status=moves[1], version=_LISTINGS.c.version + 1)
                .returning(_LISTINGS.c.id)
            )
        )
        expire_cached(session, Listing, moved)


def file_report(
    session: Session,
    blobs: BlobStore,
    reporter_id: int,
    artwork_id: int,
    original_id: int,
    statement: str,
    *,
    now: datetime | None = None,
) -> Takedown:
    """Report that `artwork_id` copies `original_id`; its sales are suspended at once when
    Atelier's evidence names the original, the original is older, and it belongs to another
    owner.

    Raises:
        InvalidInput (the same work, or no reason given), NotFound, ListingConflict (the same
        report is already open).
    """
    now = now or utcnow()
    text = _statement(statement, "statement")
    if artwork_id == original_id:
        raise InvalidInput("a work cannot copy itself: name the work it copies")
    original = get_artwork(session, original_id)
    artwork = get_artwork(session, artwork_id, lock=True)
    same = session.scalar(
        select(Takedown.id).where(
            Takedown.artwork_id == artwork.id,
            Takedown.original_id == original.id,
            Takedown.status.in_(OPEN_STATUSES),
        )
    )
    if same is not None:
        raise ListingConflict(
            f"report #{same} already says artwork #{artwork.id} copies #{original.id}; "
            "it is being handled"
        )
    named, evidence = copy_evidence(session, blobs, artwork, original)
    earlier = (original.created_at, original.id) < (artwork.created_at, artwork.id)
    other_owner = original.owner_id != artwork.owner_id
    evidence.update({"names_original": named, "original_is_earlier": earlier})
    suspend = named and earlier and other_owner
    if not suspend:
        evidence["why_not_suspended"] = (
            "the evidence does not name the original"
            if not named
            else "the reported original is not the earlier work"
            if not earlier
            else "both works have the same owner"
        )
    report = Takedown(
        artwork_id=artwork.id,
        original_id=original.id,
        reporter_id=reporter_id,
        seller_id=artwork.owner_id,
        status="suspended" if suspend else "open",
        statement=text,
        evidence=evidence,
        created_at=now,
    )
    session.add(report)
    session.flush()
    if suspend:
        _refresh_block(session, artwork)
    record_event(
        session,
        "takedown_filed",
        artwork_id=artwork.id,
        actor_id=reporter_id,
        payload={
            "takedown_id": report.id,
            "original_id": original.id,
            "suspended": suspend,
            "signal": evidence.get("signal"),
            "filed_at": now.isoformat(),
        },
    )
    notify(
        session,
        artwork.owner_id,
        "takedown",
        artwork_id=artwork.id,
        title=artwork.title,
        takedown_id=report.id,
        original_id=original.id,
        stage="suspended" if suspend else "filed",
    )
    return report


def counter_notice(
    session: Session, takedown_id: int, owner_id: int, statement: str, *, now=None
) -> Takedown:
    """The reported work's owner answers a report; the sales stay stopped until an operator
    decides."""
    now = now or utcnow()
    text = _statement(statement, "counter_statement")
    artwork, report = lock_with_artwork(session, Takedown, takedown_id, what="report")
    if artwork.owner_id != owner_id:
        raise NotOwner(f"only the owner of artwork #{artwork.id} can answer report #{report.id}")
    if report.status not in ("open", "suspended"):
        raise ListingNotForSale(f"report #{report.id} is {report.status}; it cannot be answered")
    report.status = "countered"
    report.counter_statement = text
    report.countered_at = now
    _refresh_block(session, artwork)
    record_event(
        session,
        "takedown_countered",
        artwork_id=artwork.id,
        actor_id=owner_id,
        payload={"takedown_id": report.id, "countered_at": now.isoformat()},
    )
    return report


def decide(session: Session, takedown_id: int, decision: str, note: str, *, now=None) -> Takedown:
    """An operator's decision on a report: `removed` (the work leaves the market for good),
    `restored` (its sales resume), or `rejected` (a report that never suspended anything).
    """
    now = now or utcnow()
    if decision not in DECISIONS:
        raise InvalidInput(f"`decision` must be one of {DECISIONS}, got {decision!r}")
    text = _statement(note, "note")
    artwork, report = lock_with_artwork(session, Takedown, takedown_id, what="report")
    if report.status not in OPEN_STATUSES:
        raise ListingNotForSale(f"report #{report.id} was already decided: {report.status}")
    if decision == "rejected" and report.status != "open":
        decision = "restored"  # a suspended work that is cleared has its sales restored
    report.status = decision
    report.decision_note = text
    report.decided_at = now
    _refresh_block(session, artwork)
    closed: dict[str, Any] = {}
    if artwork.sales_blocked == "removed":
        closed = _take_down(session, artwork, report, now)
    record_event(
        session,
        "takedown_decided",
        artwork_id=artwork.id,
        actor_id=None,
        payload={
            "takedown_id": report.id,
            "decision": decision,
            "decided_at": now.isoformat(),
            **closed,
        },
    )
    notify(
        session,
        [report.seller_id, report.reporter_id],
        "takedown",
        artwork_id=artwork.id,
        title=artwork.title,
        takedown_id=report.id,
        original_id=report.original_id,
        stage=decision,
    )
    return report


def _take_down(session: Session, artwork: Artwork, report: Takedown, now) -> dict[str, Any]:
    """Withdraw a removed work's listings, cancel its auction (refunding the leading bid) and
    refund the open offers on it. Holds the artwork's lock."""
    listings = list(
        session.connection().scalars(
            update(_LISTINGS)
            .where(
                _LISTINGS.c.artwork_id == artwork.id,
                _LISTINGS.c.status.in_(("active", "suspended")),
            )
            .values(status="delisted", version=_LISTINGS.c.version + 1)
            .returning(_LISTINGS.c.id)
        )
    )
    expire_cached(session, Listing, listings)
    reason = f"copyright report #{report.id}"
    auctions = []
    for auction in session.scalars(
        select(Auction)
        .where(Auction.artwork_id == artwork.id, Auction.status == "open")
        .with_for_update()
    ):
        void_auction(session, artwork, auction, now, reason)
        auctions.append(auction.id)
    offers = []
    for offer in session.scalars(
        select(Offer)
        .where(Offer.artwork_id == artwork.id, Offer.status == "open")
        .with_for_update()
    ):
        close_and_refund(session, artwork, offer, "declined", now, actor_id=None, reason=reason)
        offers.append(offer.id)
    return {"delisted": listings, "cancelled_auctions": auctions, "refunded_offers": offers}


def reports(
    session: Session, *, status: str | None = None, artwork_id: int | None = None
) -> list[Takedown]:
    """Reports, newest first, by status or work."""
    stmt = select(Takedown).order_by(Takedown.id.desc())
    if status is not None:
        stmt = stmt.where(Takedown.status == status)
    if artwork_id is not None:
        stmt = stmt.where(Takedown.artwork_id == artwork_id)
    return list(session.scalars(stmt.limit(200)))
