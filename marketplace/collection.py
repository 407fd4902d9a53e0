"""A person's collection: the artworks they own with their open listings, and the works they
may build on (their own, or those they hold a licence for that allows derivative works)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Artwork, Licence, Listing, is_row_id
from marketplace.artworks import DERIVATIVE_TIERS
from marketplace.errors import InvalidInput
from marketplace.money import format_cents

MAX_COLLECTION = 1_000


def _check_limit(limit: object) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_COLLECTION:
        raise InvalidInput(f"`limit` must be an integer in [1, {MAX_COLLECTION}], got {limit!r}")
    return limit


def _card(artwork: Artwork) -> dict[str, Any]:
    return {
        "id": artwork.id,
        "title": artwork.title,
        "tags": list(artwork.tags),
        "blob_key": artwork.blob_key,
        "ai_label": artwork.ai_label,
        "recipe_kind": (artwork.recipe or {}).get("kind"),
        "creator": artwork.creator.username,
        "owner": artwork.owner.username,
        "royalty_bps": artwork.royalty_bps,
        "created_at": artwork.created_at.isoformat(),
    }


def owned_artworks(session: Session, user_id: int, *, limit: int = 200) -> list[dict[str, Any]]:
    """The artworks `user_id` owns, newest first, each with its open listings.

    Raises:
        InvalidInput: a bad limit.
    """
    _check_limit(limit)
    if not is_row_id(user_id):
        return []
    artworks = session.scalars(
        select(Artwork)
        .where(Artwork.owner_id == user_id)
        .order_by(Artwork.created_at.desc(), Artwork.id.desc())
        .limit(limit)
    ).all()
    ids = [a.id for a in artworks]
    listings: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        for x in session.scalars(
            select(Listing)
            .where(Listing.artwork_id.in_(ids), Listing.status == "active")
            .order_by(Listing.id)
        ):
            listings[x.artwork_id].append(
                {
                    "id": x.id,
                    "licence_tier": x.licence_tier,
                    "price_cents": x.price_cents,
                    "price": format_cents(x.price_cents),
                    "edition_size": x.edition_size,
                    "sold_count": x.sold_count,
                    "version": x.version,
                    "seller_id": x.seller_id,
                }
            )
    return [{**_card(a), "listings": listings[a.id]} for a in artworks]


def derivable_artworks(session: Session, user_id: int, *, limit: int = 200) -> list[dict[str, Any]]:
    """The artworks `user_id` may build on (style, content, breeding): the ones they own, then
    the ones they hold a licence for that allows derivative works; newest first, each with
    `"access"`: "owner" or "licence".

    Raises:
        InvalidInput: a bad limit.
    """
    _check_limit(limit)
    if not is_row_id(user_id):
        return []
    owned = session.scalars(
        select(Artwork)
        .where(Artwork.owner_id == user_id)
        .order_by(Artwork.created_at.desc(), Artwork.id.desc())
        .limit(limit)
    ).all()
    licensed_ids = select(Licence.artwork_id).where(
        Licence.holder_id == user_id, Licence.tier.in_(DERIVATIVE_TIERS)
    )
    licensed = session.scalars(
        select(Artwork)
        .where(Artwork.id.in_(licensed_ids), Artwork.owner_id != user_id)
        .order_by(Artwork.created_at.desc(), Artwork.id.desc())
        .limit(limit)
    ).all()
    cards = [{**_card(a), "access": "owner"} for a in owned]
    cards += [{**_card(a), "access": "licence"} for a in licensed]
    return cards[:limit]


def usernames(session: Session, user_ids: set[int] | list[int]) -> dict[int, str]:
    """Names of the given users (unknown ids are left out)."""
    from db.models import User

    wanted = sorted({i for i in user_ids if is_row_id(i)})
    if not wanted:
        return {}
    return dict(session.execute(select(User.id, User.username).where(User.id.in_(wanted))).all())


def may_download_original(session: Session, user_id: int | None, artwork_id: int) -> bool:
    """Whether `user_id` may download an artwork's full file: its owner, its creator, and
    anyone holding a licence to it (personal or commercial) may; others see display copies."""
    from marketplace.artworks import get_artwork

    artwork = get_artwork(session, artwork_id)
    if user_id is None or not is_row_id(user_id):
        return False
    if user_id in (artwork.owner_id, artwork.creator_id):
        return True
    return (
        session.scalar(
            select(Licence.id).where(Licence.artwork_id == artwork.id, Licence.holder_id == user_id)
        )
        is not None
    )
