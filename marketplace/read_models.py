"""Read models: plain dicts describing artworks, listings and sales, for the CLI's JSON, the
web app's pages and certificates. One place decides what an artwork's record contains."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import (
    Artwork,
    Auction,
    Bid,
    Commission,
    CommissionCandidate,
    Licence,
    Listing,
    Offer,
    ProvenanceEvent,
    Takedown,
    User,
    as_utc,
)
from marketplace.artworks import children_of, get_artwork, parents_of
from marketplace.money import format_cents
from marketplace.purchases import PurchaseResult
from marketplace.recipe_commitments import public_recipe

AI_LABEL_TEXT = {
    "ai_generated": "AI-generated",
    "ai_modified": "AI-modified",
    "human_upload": "Uploaded (no AI recipe)",
}


def artwork_summary(artwork: Artwork) -> dict[str, Any]:
    return {
        "id": artwork.id,
        "title": artwork.title,
        "tags": list(artwork.tags),
        "creator": artwork.creator.username,
        "owner": artwork.owner.username,
        "width": artwork.width,
        "height": artwork.height,
        "format": artwork.format,
        "content_sha256": artwork.content_sha256,
        "pixel_sha256": artwork.pixel_sha256,
        "perceptual_hash": artwork.perceptual_hash,
        "perceptual_quality": artwork.perceptual_quality,
        "blob_key": artwork.blob_key,
        "ai_label": artwork.ai_label,
        "ai_label_text": AI_LABEL_TEXT[artwork.ai_label],
        "royalty_percent": None if artwork.royalty_bps is None else artwork.royalty_bps / 100,
        "sales_blocked": artwork.sales_blocked,
        # public: the recipe's kind, model and commitment, never the recipe itself
        "recipe": public_recipe(artwork),
        "created_at": artwork.created_at.isoformat(),
    }


def listing_summary(listing: Listing) -> dict[str, Any]:
    return {
        "id": listing.id,
        "artwork_id": listing.artwork_id,
        "seller": listing.seller.username,
        "price_cents": listing.price_cents,
        "price": format_cents(listing.price_cents),
        "currency": listing.currency,
        "licence_tier": listing.licence_tier,
        "edition_size": listing.edition_size,
        "sold_count": listing.sold_count,
        "status": listing.status,
        "version": listing.version,
    }


def artwork_detail(session: Session, artwork_id: int) -> dict[str, Any]:
    """Everything about one artwork: the record, its listings, licences, derivation edges
    and its provenance events in order."""
    artwork = get_artwork(session, artwork_id)
    names = dict(session.execute(select(User.id, User.username)).all())
    listings = session.scalars(
        select(Listing).where(Listing.artwork_id == artwork.id).order_by(Listing.id)
    ).all()
    licences = session.scalars(
        select(Licence).where(Licence.artwork_id == artwork.id).order_by(Licence.id)
    ).all()
    events = session.scalars(
        select(ProvenanceEvent)
        .where(ProvenanceEvent.artwork_id == artwork.id)
        .order_by(ProvenanceEvent.id)
    ).all()
    return {
        **artwork_summary(artwork),
        "listings": [listing_summary(x) for x in listings],
        "licences": [
            {"id": x.id, "holder": names.get(x.holder_id), "tier": x.tier, "sale_id": x.sale_id}
            for x in licences
        ],
        "parents": [
            {"artwork_id": a.id, "title": a.title, "role": role, "owner": a.owner.username}
            for a, role in parents_of(session, artwork.id)
        ],
        "children": [
            {"artwork_id": a.id, "title": a.title, "role": role, "owner": a.owner.username}
            for a, role in children_of(session, artwork.id)
        ],
        "events": [
            {
                "id": e.id,
                "kind": e.kind,
                "actor": names.get(e.actor_id),
                "payload": e.payload,
                "created_at": e.created_at.isoformat(),
            }
            for e in events
        ],
    }


def purchase_summary(result: PurchaseResult) -> dict[str, Any]:
    split = result.split
    return {
        "sale_id": result.sale.id,
        "listing_id": result.sale.listing_id,
        "artwork_id": result.sale.artwork_id,
        "licence_tier": result.sale.licence_tier,
        "price_cents": split.price_cents,
        "platform_fee_cents": split.platform_fee_cents,
        "creator_royalty_cents": split.creator_royalty_cents,
        "source_shares_cents": list(split.source_shares_cents),
        "seller_cents": split.seller_cents,
        "replayed": result.replayed,
    }


def artwork_blob_key(session: Session, artwork_id: int) -> str | None:
    """The blob key of an artwork's stored file (for its public preview), or None."""
    artwork = session.get(Artwork, artwork_id)
    return None if artwork is None else artwork.blob_key


def iso_utc(moment) -> str | None:
    """A stored moment as ISO 8601 in UTC (SQLite returns them without a zone)."""
    return None if moment is None else as_utc(moment).isoformat()


def auction_summary(session: Session, auction: Auction, now=None) -> dict[str, Any]:
    """An auction as its page and `atelier auction show` describe it: the state, what the
    next bid must be (reserve) or the price now (Dutch), and the bids, newest first."""
    from marketplace.auctions import bids_of, current_price, minimum_bid

    bidders = set(session.scalars(select(Bid.bidder_id).where(Bid.auction_id == auction.id)))
    names = dict(session.execute(select(User.id, User.username).where(User.id.in_(bidders))).all())
    seller = session.scalar(select(User.username).where(User.id == auction.seller_id))
    data: dict[str, Any] = {
        "id": auction.id,
        "artwork_id": auction.artwork_id,
        "seller": seller,
        "kind": auction.kind,
        "status": auction.status,
        "reserve_cents": auction.reserve_cents,
        "start_price_cents": auction.start_price_cents,
        "duration_seconds": auction.duration_seconds,
        "extension_seconds": auction.extension_seconds,
        "starts_at": iso_utc(auction.starts_at),
        "ends_at": iso_utc(auction.ends_at),
        "bid_count": auction.bid_count,
        "high_bid_cents": auction.high_bid_cents,
        "high_bidder": names.get(auction.high_bidder_id),
        "version": auction.version,
    }
    if auction.status == "open":
        if auction.kind == "dutch":
            data["price_now_cents"] = current_price(auction, now)
        else:
            data["minimum_bid_cents"] = minimum_bid(auction)
    data["bids"] = [
        {
            "id": b.id,
            "bidder": names.get(b.bidder_id),
            "amount_cents": b.amount_cents,
            "at": iso_utc(b.created_at),
        }
        for b in bids_of(session, auction.id)
    ]
    return data


def offer_summary(session: Session, offer: Offer) -> dict[str, Any]:
    buyer = session.scalar(select(User.username).where(User.id == offer.buyer_id))
    return {
        "id": offer.id,
        "artwork_id": offer.artwork_id,
        "buyer": buyer,
        "licence_tier": offer.licence_tier,
        "amount_cents": offer.amount_cents,
        "amount": format_cents(offer.amount_cents),
        "status": offer.status,
        "expires_at": iso_utc(offer.expires_at),
        "created_at": iso_utc(offer.created_at),
        "closed_at": iso_utc(offer.closed_at),
    }


def takedown_summary(session: Session, report: Takedown) -> dict[str, Any]:
    names = dict(
        session.execute(
            select(User.id, User.username).where(
                User.id.in_((report.reporter_id, report.seller_id))
            )
        ).all()
    )
    return {
        "id": report.id,
        "artwork_id": report.artwork_id,
        "original_id": report.original_id,
        "reporter": names.get(report.reporter_id),
        "seller": names.get(report.seller_id),
        "status": report.status,
        "statement": report.statement,
        "signal": report.evidence.get("signal"),
        "evidence": report.evidence,
        "counter_statement": report.counter_statement,
        "decision_note": report.decision_note,
        "created_at": iso_utc(report.created_at),
        "countered_at": iso_utc(report.countered_at),
        "decided_at": iso_utc(report.decided_at),
    }


def commission_summary(session: Session, commission: Commission) -> dict[str, Any]:
    """A brief, its candidates (each with its artist and work) and where it stands."""
    candidates = session.scalars(
        select(CommissionCandidate)
        .where(CommissionCandidate.commission_id == commission.id)
        .order_by(CommissionCandidate.id)
    ).all()
    people = {commission.buyer_id, *(c.artist_id for c in candidates)}
    names = dict(session.execute(select(User.id, User.username).where(User.id.in_(people))).all())
    return {
        "id": commission.id,
        "buyer": names.get(commission.buyer_id),
        "title": commission.title,
        "brief": commission.brief,
        "subject": commission.subject,
        "palette": list(commission.palette),
        "reference_ids": list(commission.reference_ids),
        "licence_tier": commission.licence_tier,
        "budget_cents": commission.budget_cents,
        "budget": format_cents(commission.budget_cents),
        "deadline_at": iso_utc(commission.deadline_at),
        "status": commission.status,
        "created_at": iso_utc(commission.created_at),
        "closed_at": iso_utc(commission.closed_at),
        "candidates": [
            {
                "id": c.id,
                "artist": names.get(c.artist_id),
                "artwork_id": c.artwork_id,
                "note": c.note,
                "status": c.status,
            }
            for c in candidates
        ],
    }
