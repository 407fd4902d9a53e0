"""The gallery: open listings with text search, filters, sorting and stable pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Integer, Select, column, func, select, text
from sqlalchemy.orm import Session, aliased

from db.models import AI_LABELS, LICENCE_TIERS, Artwork, Listing, User
from marketplace.errors import InvalidInput

SORTS = ("newest", "oldest", "price_asc", "price_desc")
# counting stops here: "1,000+ listings" is all a person needs, and counting 100k rows is not
COUNT_CAP = 1_000
# the trigram indexes (migration 0002) serve words of at least this many characters
TRIGRAM = 3
MAX_PER_PAGE = 100
MAX_QUERY_LENGTH = 100


@dataclass(frozen=True)
class BrowseQuery:
    """What the gallery shows. Prices are cents; `None` means no filter."""

    text: str | None = None
    min_price_cents: int | None = None
    max_price_cents: int | None = None
    licence_tier: str | None = None
    ai_label: str | None = None
    sort: str = "newest"
    page: int = 1
    per_page: int = 24

    def __post_init__(self) -> None:
        if self.text is not None and len(self.text) > MAX_QUERY_LENGTH:
            raise InvalidInput(f"search text must be at most {MAX_QUERY_LENGTH} characters")
        for name in ("min_price_cents", "max_price_cents"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                raise InvalidInput(f"`{name}` must be a non-negative integer, got {value!r}")
        if self.licence_tier is not None and self.licence_tier not in LICENCE_TIERS:
            raise InvalidInput(f"`licence_tier` must be one of {LICENCE_TIERS}")
        if self.ai_label is not None and self.ai_label not in AI_LABELS:
            raise InvalidInput(f"`ai_label` must be one of {AI_LABELS}")
        if self.sort not in SORTS:
            raise InvalidInput(f"`sort` must be one of {SORTS}, got {self.sort!r}")
        if isinstance(self.page, bool) or not isinstance(self.page, int) or self.page < 1:
            raise InvalidInput(f"`page` must be a positive integer, got {self.page!r}")
        if (
            isinstance(self.per_page, bool)
            or not isinstance(self.per_page, int)
            or not 1 <= self.per_page <= MAX_PER_PAGE
        ):
            raise InvalidInput(f"`per_page` must be in [1, {MAX_PER_PAGE}], got {self.per_page!r}")


@dataclass(frozen=True)
class GalleryCard:
    listing_id: int
    listing_version: int
    artwork_id: int
    title: str
    tags: list[str]
    creator: str
    owner: str
    price_cents: int
    licence_tier: str
    edition_size: int
    sold_count: int
    ai_label: str
    blob_key: str
    width: int
    height: int
    listed_at: datetime


@dataclass(frozen=True)
class BrowsePage:
    """One page of results. `total` is exact when `total_exact`, else a lower bound
    (COUNT_CAP + 1 rows were found and counting stopped)."""

    items: list[GalleryCard] = field(default_factory=list)
    page: int = 1
    per_page: int = 24
    total: int = 0
    total_exact: bool = True

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def total_text(self) -> str:
        return f"{self.total:,}" if self.total_exact else f"{COUNT_CAP:,}+"


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _words(query: BrowseQuery) -> list[str]:
    return query.text.lower().split() if query.text else []


def _filtered(query: BrowseQuery, columns, dialect: str, *, join_artwork: bool = True) -> Select:
    stmt = select(*columns).select_from(Listing).where(Listing.status == "active")
    if join_artwork:
        stmt = stmt.join(Artwork, Artwork.id == Listing.artwork_id)
    words = _words(query)
    long_words = [w for w in words if len(w) >= TRIGRAM]
    if dialect == "sqlite" and long_words:
        # FTS5 trigram phrases: case-insensitive substring matches, all of them required
        match = " ".join('"' + w.replace('"', '""') + '"' for w in long_words)
        hits = text("SELECT rowid FROM artwork_search WHERE artwork_search MATCH :match")
        hits = hits.bindparams(match=match).columns(column("rowid", Integer))
        stmt = stmt.where(Artwork.id.in_(hits))
        words = [w for w in words if len(w) < TRIGRAM]
    for word in words:
        stmt = stmt.where(Artwork.search_text.like(f"%{_escape_like(word)}%", escape="\\"))
    if query.min_price_cents is not None:
        stmt = stmt.where(Listing.price_cents >= query.min_price_cents)
    if query.max_price_cents is not None:
        stmt = stmt.where(Listing.price_cents <= query.max_price_cents)
    if query.licence_tier is not None:
        stmt = stmt.where(Listing.licence_tier == query.licence_tier)
    if query.ai_label is not None:
        stmt = stmt.where(Artwork.ai_label == query.ai_label)
    return stmt


def browse_listings(session: Session, query: BrowseQuery) -> BrowsePage:
    """One page of open listings matching `query`, in a stable order (ties broken by id).

    Text search matches every word, as a substring, against the artwork's title, tags and
    creator name (indexed by trigrams on both databases). The total is counted up to
    COUNT_CAP.
    """
    dialect = session.get_bind().dialect.name
    creator = aliased(User)
    owner = aliased(User)
    order = {
        "newest": (Listing.created_at.desc(), Listing.id.desc()),
        "oldest": (Listing.created_at.asc(), Listing.id.asc()),
        "price_asc": (Listing.price_cents.asc(), Listing.id.asc()),
        "price_desc": (Listing.price_cents.desc(), Listing.id.desc()),
    }[query.sort]
    stmt = (
        _filtered(
            query,
            dialect=dialect,
            columns=(
                Listing.id,
                Listing.version,
                Listing.artwork_id,
                Artwork.title,
                Artwork.tags,
                creator.username.label("creator"),
                owner.username.label("owner"),
                Listing.price_cents,
                Listing.licence_tier,
                Listing.edition_size,
                Listing.sold_count,
                Artwork.ai_label,
                Artwork.blob_key,
                Artwork.width,
                Artwork.height,
                Listing.created_at,
            ),
        )
        .join(creator, creator.id == Artwork.creator_id)
        .join(owner, owner.id == Artwork.owner_id)
        .order_by(*order)
        .limit(query.per_page)
        .offset((query.page - 1) * query.per_page)
    )
    items = [GalleryCard(*row) for row in session.execute(stmt).all()]
    needs_artwork = bool(_words(query)) or query.ai_label is not None
    capped = _filtered(query, (Listing.id,), dialect, join_artwork=needs_artwork).limit(
        COUNT_CAP + 1
    )
    total = session.scalar(select(func.count()).select_from(capped.subquery())) or 0
    exact = total <= COUNT_CAP
    if not exact:
        # a page past the cap still shows, and the lower bound grows to cover it
        total = max(COUNT_CAP, (query.page - 1) * query.per_page + len(items))
    return BrowsePage(
        items=items, page=query.page, per_page=query.per_page, total=total, total_exact=exact
    )
