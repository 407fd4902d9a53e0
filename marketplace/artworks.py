"""Registering artworks, the copyright guard, and the derivation graph."""

from __future__ import annotations

import json
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, lazyload

from db.blobs import BlobStore
from db.models import (
    DERIVATION_ROLES,
    Artwork,
    Derivation,
    Licence,
    User,
    is_row_id,
    new_recipe_salt,
)
from db.session import flush_pending
from generation.recipe_kinds import ai_label as recipe_ai_label
from marketplace.errors import (
    AlreadyRegistered,
    CopyrightConflict,
    InvalidInput,
    ListingNotForSale,
    NotFound,
    NotOwner,
)
from marketplace.events import record_event
from marketplace.local_matching import save_features
from marketplace.recipe_commitments import recipe_commitment, recipe_model
from provenance.errors import InvalidImage
from provenance.fingerprint import (
    PDQ_MATCH_DISTANCE,
    PDQ_MIN_QUALITY,
    PerceptualHash,
    content_hash,
    hamming_distance,
    perceptual_hash,
    pixel_hash,
)
from provenance.images import decode_image
from provenance.local_features import describe as describe_features
from provenance.pdq_index import PdqIndex

MAX_TITLE_LENGTH = 200
MAX_TAGS = 20
MAX_TAG_LENGTH = 32
MAX_RECIPE_BYTES = 64 * 1024
# licence tiers whose holders may make derivative works
DERIVATIVE_TIERS = frozenset({"commercial"})
# a PostgreSQL advisory lock key: registrations queue so two near-copies cannot both pass
REGISTRATION_LOCK = 0x41544C52


def ai_label_for(recipe: dict[str, Any] | None) -> str:
    """The AI-disclosure label that follows from how the artwork was made (the recipe kind
    registry, `generation.recipe_kinds`)."""
    return recipe_ai_label(recipe)


def _clean_text(value: object, name: str, max_length: int) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"`{name}` must be text, got {type(value).__name__}")
    cleaned = unicodedata.normalize("NFC", value).strip()
    if any(unicodedata.category(ch) == "Cc" for ch in cleaned):
        raise InvalidInput(
            f"`{name}` must not contain control characters",
            plain=f"The {name} can't contain line breaks, tabs or other control characters.",
        )
    if not cleaned:
        raise InvalidInput(f"`{name}` must not be empty", plain=f"Enter a {name}.")
    if len(cleaned) > max_length:
        raise InvalidInput(
            f"`{name}` must be at most {max_length} characters, got {len(cleaned)}",
            plain=f"Shorten the {name} to {max_length} characters (it has {len(cleaned)}).",
        )
    return cleaned


def clean_title(title: object) -> str:
    return _clean_text(title, "title", MAX_TITLE_LENGTH)


def clean_tags(tags: object) -> list[str]:
    """Tags are trimmed, lower-cased and deduplicated, in their given order."""
    if tags is None:
        return []
    if isinstance(tags, str):
        tags = [t for t in tags.replace(",", " ").split() if t]
    if not isinstance(tags, list | tuple):
        raise InvalidInput(f"`tags` must be a list of text, got {type(tags).__name__}")
    cleaned: list[str] = []
    for tag in tags:
        value = _clean_text(tag, "tag", MAX_TAG_LENGTH).lower()
        if value not in cleaned:
            cleaned.append(value)
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput(
            f"at most {MAX_TAGS} tags, got {len(cleaned)}",
            plain=f"Use at most {MAX_TAGS} tags (there are {len(cleaned)}).",
        )
    return cleaned


def _clean_recipe(recipe: object) -> dict[str, Any]:
    if recipe is None:
        return {}
    if not isinstance(recipe, dict):
        raise InvalidInput(f"`recipe` must be a JSON object, got {type(recipe).__name__}")
    try:
        encoded = json.dumps(recipe, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"`recipe` must be plain JSON ({exc})") from None
    if len(encoded) > MAX_RECIPE_BYTES:
        raise InvalidInput(f"`recipe` must be at most {MAX_RECIPE_BYTES} bytes as JSON")
    return json.loads(encoded)


def get_row(session: Session, model, row_id: object, *, what: str, lock: bool = False):
    """The `model` row with this id, or NotFound naming it as `what` ("artwork", "listing").

    `lock` takes its row lock (PostgreSQL) for the transaction, with no eager joins: a row
    re-checked after waiting for a lock is re-joined against the old versions of unlocked
    tables, so a join could make it vanish. Everything that changes an artwork's listings
    locks the artwork first, then listings, so concurrent purchases, listings and
    transfers of one artwork queue instead of deadlocking.
    """
    if isinstance(row_id, bool) or not isinstance(row_id, int):
        raise InvalidInput(f"`{what}_id` must be an integer, got {row_id!r}")
    row = None
    if is_row_id(row_id):
        stmt = select(model).where(model.id == row_id)
        if lock:
            stmt = (
                stmt.options(lazyload("*"))
                .with_for_update(of=model)
                .execution_options(populate_existing=True)
            )
        row = session.scalar(stmt)
    if row is None:
        raise NotFound(f"{what} #{row_id} does not exist")
    return row


def get_artwork(session: Session, artwork_id: int, *, lock: bool = False) -> Artwork:
    """The artwork with this id (see `get_row`)."""
    return get_row(session, Artwork, artwork_id, what="artwork", lock=lock)


def lock_with_artwork(session: Session, model, row_id: object, *, what: str):
    """Lock the artwork a row (an auction, an offer, a report) is about, then the row: the
    artwork-first order every writer of an artwork's sales follows. Returns (artwork, row).
    """
    row = get_row(session, model, row_id, what=what)
    artwork = get_artwork(session, row.artwork_id, lock=True)
    return artwork, get_row(session, model, row_id, what=what, lock=True)


def refuse_if_blocked(artwork) -> None:
    """Refuse a sale of a work whose sales a copyright report stopped."""
    if artwork.sales_blocked == "suspended":
        raise ListingNotForSale(
            f"artwork #{artwork.id} is suspended by a copyright report until an operator decides",
            plain="This work is suspended by a copyright report until an operator decides.",
        )
    if artwork.sales_blocked == "removed":
        raise ListingNotForSale(
            f"artwork #{artwork.id} was taken down after a copyright report",
            plain="This work was taken down after a copyright report.",
        )


def holds_licence(session: Session, user_id: int, artwork_id: int, tiers: frozenset[str]) -> bool:
    return (
        session.scalar(
            select(Licence.id).where(
                Licence.artwork_id == artwork_id,
                Licence.holder_id == user_id,
                Licence.tier.in_(tiers),
            )
        )
        is not None
    )


def may_derive_from(session: Session, user_id: int, artwork: Artwork) -> bool:
    """A user may derive from an artwork they own, or one they hold a commercial licence for."""
    return artwork.owner_id == user_id or holds_licence(
        session, user_id, artwork.id, DERIVATIVE_TIERS
    )


@dataclass(frozen=True)
class NearMatch:
    artwork_id: int
    owner_id: int
    distance: int


_INDEXES: dict[str, PdqIndex] = {}
_INDEXES_LOCK = threading.Lock()


def synced_index(session: Session) -> PdqIndex:
    """This database's PDQ index, brought up to date with its artworks table.

    The index is derived data: built from the table on first use in a process and extended
    by id on every use, so several processes (the app, the CLI) each stay in step with the
    database. Registrations are serialised (SQLite's write lock, PostgreSQL's advisory
    lock), so ids become visible in order and none is skipped.
    """
    key = session.get_bind().url.render_as_string(hide_password=True)
    with _INDEXES_LOCK:
        index = _INDEXES.get(key)
        newest = session.scalar(select(func.max(Artwork.id))) or 0
        if index is None or newest < index.max_id:  # first use, or the table was reset
            index = _INDEXES[key] = PdqIndex()
        # every hash is indexed: weak ones (flat images) still serve as shortlist candidates
        # for keypoint verification; PDQ-only matching filters on quality below
        rows = session.execute(
            select(Artwork.id, Artwork.perceptual_hash)
            .where(Artwork.id > index.max_id)
            .order_by(Artwork.id)
        ).all()
        index.add([r.id for r in rows], [r.perceptual_hash for r in rows])
        index.max_id = max(index.max_id, newest)
    return index


def find_near_copies(
    session: Session, hexes: Sequence[str], *, exclude_owner: int | None = None
) -> list[NearMatch]:
    """Registered artworks whose PDQ hash is within the match distance of any of `hexes`.

    The index proposes candidates; each is checked against the hash stored in the database.
    Only artworks with a strong hash (quality >= 50) are candidates. Nearest first.
    """
    hits = synced_index(session).search(hexes)
    if not hits:
        return []
    rows = session.execute(
        select(Artwork.id, Artwork.owner_id, Artwork.perceptual_hash).where(
            Artwork.id.in_([ident for ident, _ in hits]),
            Artwork.perceptual_quality >= PDQ_MIN_QUALITY,
        )
    ).all()
    matches = []
    for row in rows:
        if exclude_owner is not None and row.owner_id == exclude_owner:
            continue
        distance = min(hamming_distance(q, row.perceptual_hash) for q in hexes)
        if distance <= PDQ_MATCH_DISTANCE:
            matches.append(NearMatch(artwork_id=row.id, owner_id=row.owner_id, distance=distance))
    return sorted(matches, key=lambda m: (m.distance, m.artwork_id))


@dataclass(frozen=True)
class RegisteredMatch:
    artwork: Artwork
    distance: int  # PDQ distance over the 8 rotations and mirrors; 0 for exact copies
    exact: bool  # same file bytes or same decoded pixels
    reason: str | None = None  # set for a copy named by local features (crop, caption, ...)


def registered_matches(
    session: Session,
    sha: str,
    pixels: str,
    phash: PerceptualHash,
    *,
    exclude_owner: int | None = None,
    blobs: BlobStore | None = None,
    rgb: Image.Image | None = None,
) -> list[RegisteredMatch]:
    """The registered artworks an image copies: the copyright guard's one lookup.

    Exact copies (same file SHA-256 or same pixel SHA-256) come first, whoever owns them;
    then near copies (PDQ within the match distance of any dihedral variant), skipping
    `exclude_owner`'s works, and none at all when the hash is too weak to match on; then,
    with `blobs` and the decoded `rgb`, the work that local features name (a cropped,
    captioned, padded or turned copy: `marketplace.local_matching`), also skipping
    `exclude_owner`'s works.

    Args:
        session: the unit of work.
        sha: the file's SHA-256 hex.
        pixels: the decoded pixels' SHA-256 hex.
        phash: the image's PDQ hash with its dihedral variants and quality.
        exclude_owner: a user whose works are not near-copy matches (their own uploads).

    Returns:
        Matches, exact first, then nearest first; each artwork once.
    """
    found = [
        RegisteredMatch(artwork, 0, True)
        for artwork in session.scalars(
            select(Artwork)
            .where((Artwork.content_sha256 == sha) | (Artwork.pixel_sha256 == pixels))
            .order_by(Artwork.id)
        )
    ]
    if phash.quality >= PDQ_MIN_QUALITY:
        seen = {m.artwork.id for m in found}
        found += [
            RegisteredMatch(session.get(Artwork, near.artwork_id), near.distance, False)
            for near in find_near_copies(session, phash.dihedral, exclude_owner=exclude_owner)
            if near.artwork_id not in seen
        ]
    if blobs is not None and rgb is not None and not found:
        from marketplace.local_matching import local_verdict

        verdict = local_verdict(session, blobs, rgb, exclude_owner=exclude_owner, evidence=False)
        if verdict.named is not None:
            artwork = session.get(Artwork, verdict.named.artwork_id)
            found.append(RegisteredMatch(artwork, -1, False, verdict.reason))
    return found


def register_artwork(
    session: Session,
    blobs: BlobStore,
    image_bytes: bytes,
    *,
    owner_id: int,
    title: str,
    tags: Sequence[str] | str | None = None,
    recipe: dict[str, Any] | None = None,
    parents: Sequence[tuple[int, str]] = (),
) -> Artwork:
    """Register an image as a new artwork owned by its creator.

    The copyright guard refuses an image whose bytes or pixels are already registered, and
    an image that is a near copy (PDQ distance <= 31 to any rotation or mirror) of an
    artwork owned by someone else, unless that artwork is a declared parent the owner may
    derive from.

    Args:
        session: the unit of work.
        blobs: where the image bytes go (stored as given, keyed by their SHA-256).
        image_bytes: the file.
        owner_id: the creator, who owns the new artwork.
        title: 1-200 characters.
        tags: up to 20 tags (a list, or one string split on spaces and commas).
        recipe: how it was made, as JSON; its `kind` decides the AI-disclosure label.
        parents: (artwork id, role) pairs of the works it was made from.

    Returns:
        the new artwork, flushed.

    Raises:
        InvalidInput: a bad title, tag, recipe, role, or image.
        NotFound: an unknown owner or parent.
        NotOwner: a parent the owner may not derive from.
        AlreadyRegistered: the owner registered this image before.
        CopyrightConflict: the image copies someone else's artwork.
    """
    title = clean_title(title)
    tag_list = clean_tags(tags)
    recipe = _clean_recipe(recipe)
    # decode and fingerprint before the first query: on SQLite that query takes the write
    # lock, and nobody else should wait while a large image is hashed
    try:
        decoded = decode_image(image_bytes)
    except InvalidImage as exc:
        raise InvalidInput(
            f"not a usable image: {exc}", plain=f"This file can't be used as an image: {exc}."
        ) from None
    sha = content_hash(image_bytes)
    pixels = pixel_hash(decoded.rgb)
    phash = perceptual_hash(decoded.rgb)
    features = describe_features(decoded.rgb)

    creator = session.get(User, owner_id) if is_row_id(owner_id) else None
    if creator is None:
        raise NotFound(f"user #{owner_id} does not exist")
    parent_rows = _check_parents(session, owner_id, parents)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": REGISTRATION_LOCK})
    exempt = {p.id for p, _ in parent_rows}
    matches = registered_matches(
        session, sha, pixels, phash, exclude_owner=owner_id, blobs=blobs, rgb=decoded.rgb
    )
    for match in matches:
        if match.exact or match.artwork.id not in exempt:
            _refuse_duplicate(match.artwork, owner_id, match.distance, match.reason)

    key = blobs.put(bytes(image_bytes))
    salt = new_recipe_salt()
    artwork = Artwork(
        content_sha256=sha,
        pixel_sha256=pixels,
        perceptual_hash=phash.hex,
        perceptual_quality=phash.quality,
        width=decoded.width,
        height=decoded.height,
        format=decoded.format,
        blob_key=key,
        title=title,
        tags=tag_list,
        search_text=" ".join([title, *tag_list, creator.username]).lower(),
        creator_id=owner_id,
        owner_id=owner_id,
        recipe=recipe,
        recipe_salt=salt,
        ai_label=ai_label_for(recipe),
    )
    try:
        with session.begin_nested():
            session.add(artwork)
    except IntegrityError:
        raise AlreadyRegistered("this image was registered a moment ago", artwork_id=0) from None
    save_features(session, blobs, artwork, features, decoded.rgb)
    for parent, role in parent_rows:
        session.add(Derivation(child_id=artwork.id, parent_id=parent.id, role=role))
    record_event(
        session,
        "registered",
        artwork_id=artwork.id,
        actor_id=owner_id,
        payload={
            "content_sha256": sha,
            "pixel_sha256": pixels,
            "perceptual_hash": phash.hex,
            "title": title,
            "ai_label": artwork.ai_label,
            # the recipe stays private; the log holds a commitment to it (recipe_commitments)
            "recipe_kind": recipe.get("kind"),
            "recipe_model": recipe_model(recipe),
            "recipe_commitment": recipe_commitment(recipe, salt),
        },
    )
    if parent_rows:
        record_event(
            session,
            "derived",
            artwork_id=artwork.id,
            actor_id=owner_id,
            payload={"parents": [{"artwork_id": p.id, "role": r} for p, r in parent_rows]},
        )
    session.flush()
    return artwork


def _check_parents(
    session: Session, owner_id: int, parents: Sequence[tuple[int, str]]
) -> list[tuple[Artwork, str]]:
    rows: list[tuple[Artwork, str]] = []
    seen: set[tuple[int, str]] = set()
    for item in parents:
        try:
            parent_id, role = item
        except (TypeError, ValueError):
            raise InvalidInput(f"each parent must be (artwork_id, role), got {item!r}") from None
        if role not in DERIVATION_ROLES:
            raise InvalidInput(f"parent role must be one of {DERIVATION_ROLES}, got {role!r}")
        parent = get_artwork(session, parent_id)
        if not may_derive_from(session, owner_id, parent):
            raise NotOwner(
                f"you may not derive from artwork #{parent.id} ({parent.title!r}): its owner "
                "has not granted you a licence that allows derivative works"
            )
        if (parent.id, role) not in seen:
            seen.add((parent.id, role))
            rows.append((parent, role))
    return sorted(rows, key=lambda pr: (pr[0].id, pr[1]))


def _refuse_duplicate(
    existing: Artwork, owner_id: int, distance: int, reason: str | None = None
) -> None:
    if existing.owner_id == owner_id and distance == 0:
        raise AlreadyRegistered(
            f"you already registered this image as artwork #{existing.id} ({existing.title!r})",
            artwork_id=existing.id,
        )
    if reason is not None:
        what = f"an edited copy ({reason.rstrip('.')})"
    else:
        what = "a copy" if distance == 0 else f"a near copy (PDQ distance {distance})"
    raise CopyrightConflict(
        f"this image is {what} of artwork #{existing.id} ({existing.title!r}) owned by "
        f"{existing.owner.username}",
        artwork_id=existing.id,
        distance=distance,
    )


def _neighbours(session: Session, artwork_id: int, *, parents: bool) -> list[tuple[Artwork, str]]:
    other, this = (
        (Derivation.parent_id, Derivation.child_id)
        if parents
        else (Derivation.child_id, Derivation.parent_id)
    )
    rows = session.execute(
        select(Artwork, Derivation.role)
        .join(Derivation, other == Artwork.id)
        .where(this == artwork_id)
        .order_by(Artwork.id, Derivation.role)
    ).all()
    return [(a, role) for a, role in rows]


def parents_of(session: Session, artwork_id: int) -> list[tuple[Artwork, str]]:
    """The works `artwork_id` was made from, with the role each played."""
    return _neighbours(session, artwork_id, parents=True)


def children_of(session: Session, artwork_id: int) -> list[tuple[Artwork, str]]:
    """The works made from `artwork_id`, with the role it played in each."""
    return _neighbours(session, artwork_id, parents=False)


_SOURCES = (
    select(Artwork.__table__.c.id, Artwork.__table__.c.owner_id)
    .distinct()
    .join(Derivation.__table__, Derivation.__table__.c.parent_id == Artwork.__table__.c.id)
    .where(Derivation.__table__.c.child_id == bindparam("artwork_id"))
    .order_by(Artwork.__table__.c.id)
)


def source_works(session: Session, artwork_id: int) -> list:
    """The distinct parent works whose owners share in sales, ordered by id, as rows of
    (`id`, `owner_id`): one Core query, since a purchase runs it."""
    flush_pending(session)
    return session.connection().execute(_SOURCES, {"artwork_id": artwork_id}).all()
