"""Taste and people: favourites, ratings, follows, page views, artist storefronts and the
artist's insight panel.

- A favourite and a rating (1 to 5 stars) are one person's opinion of a work: one of each per
  person and work, changed in place, taken back at will. Nobody rates or favourites a work they
  made themselves: these numbers weight "tune my model on what collectors liked"
  (`marketplace.tuning`), and an artist's own vote would be their thumb on that scale.
- Following an artist brings their new listings and auctions to the follower's notifications.
- A page view is counted per work and day, unless the viewer owns or made the work.
- None of these is a provenance event: the log is public and permanent, a like is neither.

Concurrency: every write here is one statement that cannot conflict with itself (INSERT ... ON
CONFLICT, DELETE, an UPDATE counting up), so two clicks at once leave one favourite, and two
views at once count two.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from db.models import (
    Artwork,
    ArtworkView,
    Favourite,
    Follow,
    LedgerEntry,
    Listing,
    Rating,
    Sale,
    User,
    is_row_id,
    utcnow,
)
from db.session import dialect_insert
from generation.recipe_kinds import KINDS
from marketplace.accounts import find_user
from marketplace.artworks import get_artwork
from marketplace.errors import InvalidInput, NotFound, NotOwner

INSIGHT_DAYS = 30  # the insight panel's window for page views
STOREFRONT_WORKS = 60  # works shown on a storefront, newest first


@dataclass(frozen=True)
class Appraisal:
    """What people think of a work, and what the asking person said.

    Attributes:
        favourites: how many people favourited it.
        ratings: how many rated it; `average_stars` their mean (None without ratings).
        mine: whether the asking person favourited it; `my_stars` their rating or None.
    """

    artwork_id: int
    favourites: int
    ratings: int
    average_stars: float | None
    mine: bool = False
    my_stars: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "artwork_id": self.artwork_id,
            "favourites": self.favourites,
            "ratings": self.ratings,
            "average_stars": self.average_stars,
            "mine": self.mine,
            "my_stars": self.my_stars,
        }


@functools.cache
def _upsert(dialect_name: str, table, keys: tuple[str, ...], update: tuple[str, ...]):
    statement = dialect_insert(dialect_name, table)
    if not update:
        return statement.on_conflict_do_nothing(index_elements=list(keys))
    return statement.on_conflict_do_update(
        index_elements=list(keys), set_={name: statement.excluded[name] for name in update}
    )


def _execute_upsert(session: Session, model, keys, update, values: dict[str, Any]) -> None:
    conn = session.connection()
    conn.execute(_upsert(conn.dialect.name, model.__table__, keys, update), values)


def _judged_work(session: Session, user_id: int, artwork_id: int, what: str) -> Artwork:
    artwork = get_artwork(session, artwork_id)
    if artwork.creator_id == user_id:
        raise NotOwner(
            f"you made artwork #{artwork.id}; {what} are for other people's works",
            plain=f"You made this work: {what} are for other people's works.",
        )
    if artwork.sales_blocked == "removed":
        raise NotFound(
            f"artwork #{artwork.id} was taken down after a copyright report",
            plain="This work was taken down after a copyright report.",
        )
    return artwork


def favourite(session: Session, user_id: int, artwork_id: int, *, on: bool = True) -> Appraisal:
    """Favourite a work (`on`) or take the favourite back; doing it twice changes nothing.

    Raises:
        NotFound: no such work, or it was taken down (favouriting only).
        NotOwner: you made the work.
    """
    if on:
        _judged_work(session, user_id, artwork_id, "favourites")
        _execute_upsert(
            session,
            Favourite,
            ("user_id", "artwork_id"),
            (),
            {"user_id": user_id, "artwork_id": artwork_id, "created_at": utcnow()},
        )
    else:
        get_artwork(session, artwork_id)
        session.execute(
            delete(Favourite).where(
                Favourite.user_id == user_id, Favourite.artwork_id == artwork_id
            )
        )
    return appraisal(session, artwork_id, user_id)


def rate(session: Session, user_id: int, artwork_id: int, stars: object) -> Appraisal:
    """Rate a work 1 to 5 stars (0 or None takes the rating back); rating again replaces it.

    Raises:
        InvalidInput: stars outside 0-5.
        NotFound, NotOwner: as `favourite`.
    """
    if stars in (0, None):
        get_artwork(session, artwork_id)
        session.execute(
            delete(Rating).where(Rating.user_id == user_id, Rating.artwork_id == artwork_id)
        )
        return appraisal(session, artwork_id, user_id)
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        raise InvalidInput(
            f"`stars` must be an integer 1 to 5 (0 to take a rating back), got {stars!r}",
            plain="Choose 1 to 5 stars.",
        )
    _judged_work(session, user_id, artwork_id, "ratings")
    _execute_upsert(
        session,
        Rating,
        ("user_id", "artwork_id"),
        ("stars", "rated_at"),
        {"user_id": user_id, "artwork_id": artwork_id, "stars": stars, "rated_at": utcnow()},
    )
    return appraisal(session, artwork_id, user_id)


def appraisal(session: Session, artwork_id: int, user_id: int | None = None) -> Appraisal:
    """The favourites and ratings of a work (and, for a signed-in person, their own)."""
    favourites = session.scalar(
        select(func.count()).select_from(Favourite).where(Favourite.artwork_id == artwork_id)
    )
    count, average = session.execute(
        select(func.count(), func.avg(Rating.stars)).where(Rating.artwork_id == artwork_id)
    ).one()
    mine, my_stars = False, None
    if user_id is not None:
        mine = session.get(Favourite, {"user_id": user_id, "artwork_id": artwork_id}) is not None
        my_stars = session.scalar(
            select(Rating.stars).where(Rating.user_id == user_id, Rating.artwork_id == artwork_id)
        )
    return Appraisal(
        artwork_id=artwork_id,
        favourites=favourites,
        ratings=count,
        average_stars=None if average is None else round(float(average), 2),
        mine=mine,
        my_stars=my_stars,
    )


def favourited_by(session: Session, user_id: int, *, limit: int = 100) -> list[Artwork]:
    """The works `user_id` favourited, newest favourite first."""
    return list(
        session.scalars(
            select(Artwork)
            .join(Favourite, Favourite.artwork_id == Artwork.id)
            .where(Favourite.user_id == user_id)
            .order_by(Favourite.created_at.desc(), Artwork.id.desc())
            .limit(limit)
        )
    )


def follow(session: Session, follower_id: int, artist: str, *, on: bool = True) -> bool:
    """Follow the artist named `artist` (or stop); returns whether `follower_id` now follows.

    Raises:
        NotFound: no such person.
        InvalidInput: following yourself.
    """
    user = find_user(session, artist)
    if user.id == follower_id:
        raise InvalidInput("you cannot follow yourself", plain="You cannot follow yourself.")
    if on:
        _execute_upsert(
            session,
            Follow,
            ("follower_id", "artist_id"),
            (),
            {"follower_id": follower_id, "artist_id": user.id, "created_at": utcnow()},
        )
    else:
        session.execute(
            delete(Follow).where(Follow.follower_id == follower_id, Follow.artist_id == user.id)
        )
    return on


def following(session: Session, user_id: int) -> list[str]:
    """The names of the artists `user_id` follows, in the order they followed them."""
    return list(
        session.scalars(
            select(User.username)
            .join(Follow, Follow.artist_id == User.id)
            .where(Follow.follower_id == user_id)
            .order_by(Follow.created_at, User.id)
        )
    )


def follower_count(session: Session, artist_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(Follow).where(Follow.artist_id == artist_id)
    )


def record_view(
    session: Session, artwork: Artwork, viewer_id: int | None, *, day: date | None = None
) -> bool:
    """Count one view of `artwork`'s page today (UTC); the owner's and creator's own views are
    not counted. Returns whether it counted."""
    if viewer_id is not None and viewer_id in (artwork.owner_id, artwork.creator_id):
        return False
    day = day or utcnow().date()
    conn = session.connection()
    statement = dialect_insert(conn.dialect.name, ArtworkView).values(
        artwork_id=artwork.id, day=day, views=1
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["artwork_id", "day"],
            set_={"views": ArtworkView.__table__.c.views + 1},
        )
    )
    return True


def style_label(recipe: dict[str, Any] | None) -> str:
    """What a work's recipe says of its style, in a few words: the GAN model, the style
    preset, text to image; "Upload" for a work without a recipe."""
    recipe = recipe or {}
    kind = recipe.get("kind")
    known = KINDS.get(kind) if isinstance(kind, str) else None
    if known is not None and known.family == "gan":
        model = recipe.get("model_name") or str(recipe.get("model_sha256", ""))[:10] or "?"
        return f"GAN · {model}"
    if kind == "style":
        style = recipe.get("style") or {}
        weights = style.get("weights") if isinstance(style, dict) else None
        if style.get("kind") == "presets" and isinstance(weights, list) and weights:
            best = max(range(len(weights)), key=lambda i: weights[i])
            return f"Style transfer · preset {best + 1}"
        return "Style transfer · own style picture"
    if known is not None and known.family == "dream":
        return f"DeepDream · {recipe.get('layer', '?')}"
    if known is not None and known.family == "diffusion":
        return "Text to image" if known.ai_label == "ai_generated" else "Image to image"
    if not kind:
        return "Upload"
    return str(kind)[:40]


def _royalties_earned(session: Session, user_id: int) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
                LedgerEntry.user_id == user_id,
                LedgerEntry.role.in_(("creator_royalty", "source_share")),
            )
        )
    )


def storefront(session: Session, artist: str, viewer_id: int | None = None) -> dict[str, Any]:
    """An artist's public page: the works they made (newest first, with what is for sale),
    how many sold and for how much, the royalties their works have earned them, followers.

    Raises:
        NotFound: no such person.
    """
    user = find_user(session, artist)
    works = list(
        session.scalars(
            select(Artwork)
            .where(
                Artwork.creator_id == user.id,
                Artwork.sales_blocked.is_(None) | (Artwork.sales_blocked != "removed"),
            )
            .order_by(Artwork.created_at.desc(), Artwork.id.desc())
            .limit(STOREFRONT_WORKS)
        )
    )
    ids = [w.id for w in works]
    prices: dict[int, int] = {}
    if ids:
        prices = dict(
            session.execute(
                select(Listing.artwork_id, func.min(Listing.price_cents))
                .where(Listing.artwork_id.in_(ids), Listing.status == "active")
                .group_by(Listing.artwork_id)
            ).all()
        )
    made = select(Artwork.id).where(Artwork.creator_id == user.id).scalar_subquery()
    sold, sold_cents = session.execute(
        select(func.count(), func.coalesce(func.sum(Sale.price_cents), 0)).where(
            Sale.artwork_id.in_(made)
        )
    ).one()
    total_works = session.scalar(
        select(func.count()).select_from(Artwork).where(Artwork.creator_id == user.id)
    )
    return {
        "artist": user.username,
        "member_since": user.created_at.date().isoformat(),
        "works": [
            {
                "id": w.id,
                "title": w.title,
                "owner": w.owner.username,
                "blob_key": w.blob_key,
                "price_cents": prices.get(w.id),
                "sales_blocked": w.sales_blocked,
            }
            for w in works
        ],
        "work_count": total_works,
        "sales": sold,
        "sales_cents": int(sold_cents),
        "royalties_cents": _royalties_earned(session, user.id),
        "followers": follower_count(session, user.id),
        "you_follow": viewer_id is not None
        and session.get(Follow, {"follower_id": viewer_id, "artist_id": user.id}) is not None,
    }


def insights(session: Session, user_id: int, *, today: date | None = None) -> dict[str, Any]:
    """An artist's insight panel: for the works they made, page views in the last
    INSIGHT_DAYS days, favourites, ratings and sales, in total, per style (`style_label`) and
    for their most viewed works."""
    if not is_row_id(user_id) or session.get(User, user_id) is None:
        raise NotFound(f"user #{user_id} does not exist")
    today = today or utcnow().date()
    since = today - timedelta(days=INSIGHT_DAYS - 1)
    works = list(
        session.execute(
            select(Artwork.id, Artwork.title, Artwork.recipe).where(Artwork.creator_id == user_id)
        )
    )
    made = select(Artwork.id).where(Artwork.creator_id == user_id).scalar_subquery()

    def per_work(query) -> dict[int, tuple]:
        return {row[0]: tuple(row[1:]) for row in session.execute(query)}

    views = per_work(
        select(ArtworkView.artwork_id, func.sum(ArtworkView.views))
        .where(ArtworkView.artwork_id.in_(made), ArtworkView.day >= since)
        .group_by(ArtworkView.artwork_id)
    )
    favourites = per_work(
        select(Favourite.artwork_id, func.count())
        .where(Favourite.artwork_id.in_(made))
        .group_by(Favourite.artwork_id)
    )
    ratings = per_work(
        select(Rating.artwork_id, func.count(), func.sum(Rating.stars))
        .where(Rating.artwork_id.in_(made))
        .group_by(Rating.artwork_id)
    )
    sales = per_work(
        select(
            Sale.artwork_id,
            func.count(),
            func.sum(Sale.price_cents),
            func.sum(case((Sale.seller_id == user_id, 1), else_=0)),
        )
        .where(Sale.artwork_id.in_(made))
        .group_by(Sale.artwork_id)
    )
    styles: dict[str, dict[str, Any]] = {}
    rows = []
    for artwork_id, title, recipe in works:
        row = {
            "id": artwork_id,
            "title": title,
            "style": style_label(recipe),
            "views": int(views.get(artwork_id, (0,))[0] or 0),
            "favourites": int(favourites.get(artwork_id, (0,))[0]),
            "ratings": int(ratings.get(artwork_id, (0, 0))[0]),
            "stars": int(ratings.get(artwork_id, (0, 0))[1] or 0),
            "sales": int(sales.get(artwork_id, (0, 0))[0]),
            "sales_cents": int(sales.get(artwork_id, (0, 0))[1] or 0),
        }
        rows.append(row)
        group = styles.setdefault(
            row["style"],
            {
                "style": row["style"],
                "works": 0,
                "views": 0,
                "favourites": 0,
                "ratings": 0,
                "stars": 0,
                "sales": 0,
                "sales_cents": 0,
            },
        )
        group["works"] += 1
        for name in ("views", "favourites", "ratings", "stars", "sales", "sales_cents"):
            group[name] += row[name]

    def finish(item: dict[str, Any]) -> dict[str, Any]:
        stars, count = item.pop("stars"), item["ratings"]
        item["average_stars"] = round(stars / count, 2) if count else None
        return item

    totals = {
        name: sum(r[name] for r in rows)
        for name in ("views", "favourites", "ratings", "stars", "sales", "sales_cents")
    }
    by_style = sorted(styles.values(), key=lambda g: (-g["sales_cents"], -g["views"], g["style"]))
    top = sorted(rows, key=lambda r: (-r["views"], -r["favourites"], -r["id"]))[:10]
    return {
        "days": INSIGHT_DAYS,
        "since": since.isoformat(),
        "works": len(rows),
        "totals": finish({"works": len(rows), **totals}),
        "by_style": [finish(g) for g in by_style],
        "top_works": [finish(r) for r in top],
        "royalties_cents": _royalties_earned(session, user_id),
        "followers": follower_count(session, user_id),
    }
