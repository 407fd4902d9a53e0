"""Finding a copy's source by local features, over the registered works.

Registration stores each work's features (`provenance.local_features.describe`) in the blob
store and its visual words in `artwork_features`; an inverted index over the words, derived
from that table like the PDQ index, proposes candidates whatever PDQ says; each candidate is
verified (one similarity placement, then the aligned pixels) and `name_source` decides.
Used by identification, the copyright guard at registration and the training-rights check.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.blobs import BlobStore
from db.models import Artwork, ArtworkFeatures
from provenance import local_features as lf
from provenance.errors import InvalidImage
from provenance.fingerprint import iscc_image_code
from provenance.images import decode_image

# the feature format, detection and vocabulary a row was computed with: 2 described soft
# pictures by their softer corners; 3 stores them in the raw layout (lf.FEATURE_FORMAT 2)
FEATURE_VERSION = 3
SHORTLIST = 12  # candidates the word index proposes for the whole query (and lf.REGIONS more)
PIXEL_CHECKS = 6  # candidates (most inliers first) whose aligned pixels are compared
TWIN_CHECKS = 4  # near-duplicates of a named work checked beside it
# works whose visual words are most like a named work's, checked beside it: the query's own
# words miss a source whose keypoints a crop, a caption or a turn left few (the other
# tiles of a wallpaper, the same face drawn twice), where the named work's words find it
NEIGHBOUR_CHECKS = 12
# ... unless the named work's edges agree this much over this much of the copy: then no
# other work can explain more of it (its twins, PDQ's near copies, are still checked)
CLEAN_EDGES = 0.97
CLEAN_COVERAGE = 0.95


def words_bytes(features: lf.Features) -> bytes:
    words = lf.word_set(lf.bundled_vocabulary().words(features.descriptors))
    return words.astype("<u2").tobytes()


def save_features(
    session: Session, blobs: BlobStore, artwork: Artwork, features, rgb: Image.Image
) -> None:
    """Store a work's features (blob), words and ISCC code (row); `artwork` is flushed."""
    key = blobs.put(features.to_bytes())
    session.add(
        ArtworkFeatures(
            artwork_id=artwork.id,
            version=FEATURE_VERSION,
            words=words_bytes(features),
            blob_key=key,
            iscc=iscc_image_code(rgb),
        )
    )


def _stale():
    return (
        select(Artwork)
        .outerjoin(ArtworkFeatures, ArtworkFeatures.artwork_id == Artwork.id)
        .where(ArtworkFeatures.artwork_id.is_(None) | (ArtworkFeatures.version != FEATURE_VERSION))
        .order_by(Artwork.id)
    )


def stale_ids(session: Session) -> list[int]:
    """The works whose features `backfill` would compute or rewrite, by id."""
    return list(session.scalars(_stale().with_only_columns(Artwork.id)))


def backfill(session: Session, blobs: BlobStore, ids: list[int] | None = None) -> int:
    """Compute and store the features of works that have none (registered before migration
    0007) or have them from an older FEATURE_VERSION; returns how many. A work whose image
    cannot be read is skipped (it cannot be matched anyway). With `ids`, only those works
    are looked at (`atelier features backfill` goes through a large database in batches,
    one transaction each)."""
    query = _stale() if ids is None else _stale().where(Artwork.id.in_(ids))
    stale = session.scalars(query).all()
    done = 0
    for artwork in stale:
        if _still_valid(session, blobs, artwork.id):
            continue
        try:
            rgb = decode_image(blobs.get(artwork.blob_key)).rgb
        except (InvalidImage, KeyError, OSError):
            continue
        old = session.get(ArtworkFeatures, artwork.id)
        if old is not None:
            session.delete(old)
            session.flush()
        save_features(session, blobs, artwork, lf.describe(rgb), rgb)
        done += 1
    if done:
        session.flush()
    return done


def _still_valid(session: Session, blobs: BlobStore, artwork_id: int) -> bool:
    """Whether an older row's features stand as they are, and are relabelled (and stored in
    the current layout) if so; the others are recomputed. Version 2 described soft pictures
    by their softer corners when they have fewer than REFERENCE_FEATURES sharp ones
    (`lf.extract`): a version-1 work stored with that many is described exactly as version 2
    would. Version 3 changed only the layout: a version-2 row's features are rewritten, not
    recomputed (a few ms a work against ~30)."""
    row = session.get(ArtworkFeatures, artwork_id)
    if row is None or row.version not in (1, 2):
        return False
    try:
        data = blobs.get(row.blob_key)
        stored = lf.Features.from_bytes(data)
    except (KeyError, OSError, ValueError):
        return False
    if row.version == 1 and len(stored) < lf.REFERENCE_FEATURES:
        return False
    rewritten = stored.to_bytes()
    if rewritten != data:  # the old blob stays: another row may share it
        row.blob_key = blobs.put(rewritten)
    row.version = FEATURE_VERSION
    return True


_INDEXES: dict[str, lf.WordIndex] = {}
_INDEXES_LOCK = threading.Lock()
_BACKFILLED: set[str] = set()


def _backfill_once(session: Session, blobs: BlobStore) -> None:
    """Backfill a database's older works the first time this process matches against it
    (a database from before migration 0007, or rows written without features)."""
    key = session.get_bind().url.render_as_string(hide_password=True)
    if key in _BACKFILLED:
        return
    backfill(session, blobs)
    _BACKFILLED.add(key)


def synced_word_index(session: Session) -> lf.WordIndex:
    """This database's word index, brought up to date with `artwork_features`.

    Derived data, like the PDQ index: built from the table on first use in a process and
    extended by id on every use, so every replica follows the database.
    """
    key = session.get_bind().url.render_as_string(hide_password=True)
    with _INDEXES_LOCK:
        index = _INDEXES.get(key)
        newest = session.scalar(select(func.max(ArtworkFeatures.artwork_id))) or 0
        if index is None or newest < index.max_id:
            index = _INDEXES[key] = lf.WordIndex()
        rows = session.execute(
            select(ArtworkFeatures.artwork_id, ArtworkFeatures.words)
            .where(ArtworkFeatures.artwork_id > index.max_id)
            .order_by(ArtworkFeatures.artwork_id)
        ).all()
        index.add_many(
            [(row.artwork_id, np.frombuffer(row.words, "<u2").astype(np.int32)) for row in rows]
        )
        index.max_id = max(index.max_id, newest)
    return index


def _twins(
    session: Session,
    blobs: BlobStore,
    align: np.ndarray,
    seen: set[int],
    exclude_owner: int | None,
):
    """Registered works whose PDQ hash is near the work's (any rotation or mirror), not yet
    checked and not `exclude_owner`'s: (id, owner id, features) each."""
    from marketplace.artworks import find_near_copies
    from provenance.fingerprint import perceptual_hash

    if not align.size:
        return []
    hashes = perceptual_hash(Image.fromarray(align))
    near = [m.artwork_id for m in find_near_copies(session, hashes.dihedral)]
    ids = [i for i in near if i not in seen][:TWIN_CHECKS]
    return _stored_features(session, blobs, ids, exclude_owner) if ids else []


def leaves_room(v: lf.Verification) -> bool:
    """Whether a named fit leaves room for another work to explain the copy better: its
    edges agree under CLEAN_EDGES, or it covers under CLEAN_COVERAGE of the copy (then its
    neighbours are checked beside it)."""
    return v.pixels.edge_agreement < CLEAN_EDGES or v.pixels.coverage < CLEAN_COVERAGE


def _neighbours(
    session: Session,
    blobs: BlobStore,
    index: lf.WordIndex,
    features: lf.Features,
    seen: set[int],
    exclude_owner: int | None,
):
    """The NEIGHBOUR_CHECKS registered works whose visual words are most like `features'`
    (a named work's), not yet checked and not `exclude_owner`'s: (id, owner id, features)."""
    words = lf.bundled_vocabulary().words(features.descriptors)
    near = [i for i, _ in index.search(words, NEIGHBOUR_CHECKS + len(seen)) if i not in seen]
    ids = near[:NEIGHBOUR_CHECKS]
    return _stored_features(session, blobs, ids, exclude_owner) if ids else []


def _stored_features(session: Session, blobs: BlobStore, ids, exclude_owner: int | None):
    """(id, owner id, features) of the works `ids` that have stored features, leaving out
    `exclude_owner`'s works and any whose blob cannot be read."""
    rows = session.execute(
        select(Artwork.id, Artwork.owner_id, ArtworkFeatures.blob_key)
        .join(ArtworkFeatures, ArtworkFeatures.artwork_id == Artwork.id)
        .where(Artwork.id.in_(list(ids)))
    ).all()
    out = []
    for row in rows:
        if exclude_owner is not None and row.owner_id == exclude_owner:
            continue
        try:
            out.append((row.id, row.owner_id, lf.Features.from_bytes(blobs.get(row.blob_key))))
        except (KeyError, OSError, ValueError):
            continue
    return out


def _finite(value: float) -> float | None:
    return round(value, 2) if value != float("inf") else None


@dataclass(frozen=True)
class LocalMatch:
    """One registered work checked against a query."""

    artwork_id: int
    owner_id: int
    verification: lf.Verification
    work_size: tuple[int, int] = (0, 0)  # the work's working size (the transform's frames)
    copy_size: tuple[int, int] = (0, 0)  # the copy's working size

    def evidence(self) -> dict:
        v = self.verification
        return {
            "artwork_id": self.artwork_id,
            "inliers": v.inliers,
            "mirrored": v.mirrored,
            "scale": round(v.scale, 3),
            "rotation_degrees": round(v.rotation_degrees, 1),
            "edge_agreement": round(v.pixels.edge_agreement, 4),
            # outside the part of the copy where the edges disagree most (an overlay)
            "edge_core_agreement": round(v.pixels.edge_core_agreement, 4),
            "overlap": round(v.pixels.overlap, 3),
            "coverage": round(v.pixels.coverage, 3),
            "colour_error": _finite(v.pixels.colour_error),
            "colour_core_error": _finite(v.pixels.colour_core_error),
            # work working px -> copy working px (mirrored first when `mirrored`): the
            # Verify page draws where the work lies in the copy with it
            "transform": None if v.transform is None else np.round(v.transform, 4).tolist(),
            "work_size": list(self.work_size),
            "copy_size": list(self.copy_size),
        }


@dataclass
class LocalVerdict:
    """The outcome of local-feature matching."""

    named: LocalMatch | None = None
    similar: list[LocalMatch] = field(default_factory=list)
    reason: str = ""
    checked: list[dict] = field(default_factory=list)


def local_verdict(
    session: Session,
    blobs: BlobStore,
    rgb: Image.Image,
    *,
    exclude_owner: int | None = None,
    extra_candidates: list[int] = (),
    evidence: bool = True,
) -> LocalVerdict:
    """Which registered work `rgb` copies, by local features.

    Args:
        session: the unit of work.
        blobs: where the works' stored features are.
        rgb: the query picture.
        exclude_owner: works of this user are not candidates (their own uploads).
        extra_candidates: more work ids to check (PDQ's nearest, for example).
        evidence: whether the works too weakly aligned to be named get their pixels
            compared as well, for a person reading the evidence (Verify); the copyright
            guard needs only the naming, which is the same either way.
    """
    _backfill_once(session, blobs)
    query = lf.Query.of(rgb)
    if len(query.features) < lf.MIN_MATCHES:
        return LocalVerdict(reason="the picture has too little detail to match by keypoints")
    index = synced_word_index(session)
    ids = lf.shortlist(index, query, lf.bundled_vocabulary(), SHORTLIST)
    ids += [i for i in extra_candidates if i not in ids]
    # by id, so works lining up equally well are taken lowest id first
    stored = sorted(_stored_features(session, blobs, ids, exclude_owner), key=lambda r: r[0])
    checked = [
        LocalMatch(stored[i][0], stored[i][1], v, stored[i][2].size, query.features.size)
        for i, v in lf.check_all(
            query, [features for *_, features in stored], PIXEL_CHECKS, below_bar=evidence
        )
    ]
    by_id = {artwork_id: features for artwork_id, _, features in stored}

    def tell(i: int, j: int) -> int | None:
        # two works that both line up, told apart where they differ (`lf.tell_apart`)
        a, b = checked[i], checked[j]
        pick = lf.tell_apart(
            query, (by_id[a.artwork_id], a.verification), (by_id[b.artwork_id], b.verification)
        )
        return None if pick is None else (i, j)[pick]

    naming = lf.name_source([m.verification for m in checked], tell)
    if naming.named is not None:
        # the work named may have a twin the shortlist missed (its mirror image, another
        # colouring, a repeated tile): check the works PDQ puts near it and, when its fit
        # leaves room, its word neighbours (`lf.check_beside`), then decide again
        named = checked[naming.named]
        seen = {m.artwork_id for m in checked}
        # (only the named work's picture is decoded: the others may never be needed)
        twins = _twins(session, blobs, by_id[named.artwork_id].align, seen, exclude_owner)
        seen |= {artwork_id for artwork_id, *_ in twins}
        neighbours = []
        if leaves_room(named.verification):
            neighbours = _neighbours(
                session, blobs, index, by_id[named.artwork_id], seen, exclude_owner
            )
        beside = twins + neighbours
        found = lf.check_beside(query, [f for *_, f in twins], [f for *_, f in neighbours])
        for position, v in found:
            artwork_id, owner_id, features = beside[position]
            checked.append(LocalMatch(artwork_id, owner_id, v, features.size, query.features.size))
            by_id[artwork_id] = features
        if found:
            naming = lf.name_source([m.verification for m in checked], tell)
    return LocalVerdict(
        named=None if naming.named is None else checked[naming.named],
        similar=[checked[i] for i in naming.similar],
        reason=naming.reason,
        checked=[m.evidence() for m in checked if m.verification.inliers > 0],
    )
