""" "More like this": works whose style is nearest, in the 100-number style embedding of
Magenta's style-prediction network (`generation.style.style_embedding`, the space the GAN's
quality figure is measured in).

Each work's embedding is computed once (12 ms on one CPU core) and kept in `artwork_styles`:
the workers' sweep fills in works registered since its last round (`embed_missing`), and a
work asked about before the sweep reached it is embedded on the spot. Neighbours are found by
an exact scan of the stored vectors (Euclidean distance); at 100 numbers a work that is
4 MB for 10,000 works, read in one query; beyond some 100,000 works an index (pgvector's
HNSW) would take its place.
"""

from __future__ import annotations

import logging

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.blobs import BlobStore
from db.models import Artwork, ArtworkStyle
from db.session import dialect_insert
from marketplace.artworks import get_artwork

log = logging.getLogger(__name__)

DIMENSIONS = 100
SIMILAR_COUNT = 8
MAX_SIMILAR = 50
EMBED_PER_SWEEP = 50  # works embedded per sweep round (~0.6 s)


def _vector(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<f4")


def compute_embedding(image_bytes: bytes) -> np.ndarray:
    """The style embedding of a stored image file: float32 (100,)."""
    from generation.style import style_embedding
    from provenance.images import decode_image

    return np.asarray(style_embedding(decode_image(image_bytes).rgb), dtype=np.float32)


def _store(session: Session, artwork_id: int, vector: np.ndarray) -> None:
    conn = session.connection()
    conn.execute(
        dialect_insert(conn.dialect.name, ArtworkStyle)
        .values(artwork_id=artwork_id, vector=vector.astype("<f4").tobytes())
        .on_conflict_do_nothing(index_elements=["artwork_id"])
    )


def embedding_of(session: Session, blobs: BlobStore, artwork: Artwork) -> np.ndarray:
    """The stored embedding of `artwork`, computed and stored first if it has none."""
    stored = session.get(ArtworkStyle, artwork.id)
    if stored is not None:
        return _vector(stored.vector)
    vector = compute_embedding(blobs.get(artwork.blob_key))
    _store(session, artwork.id, vector)
    return vector


def embed_missing(
    sessions: sessionmaker, blobs: BlobStore, *, limit: int = EMBED_PER_SWEEP
) -> list[int]:
    """Embed up to `limit` works that have no embedding yet, oldest first; returns their ids.
    A work whose file cannot be read is logged and left for the next round."""
    with sessions() as s:
        todo = list(
            s.execute(
                select(Artwork.id, Artwork.blob_key)
                .outerjoin(ArtworkStyle, ArtworkStyle.artwork_id == Artwork.id)
                .where(ArtworkStyle.artwork_id.is_(None))
                .order_by(Artwork.id)
                .limit(limit)
            )
        )
    done = []
    for artwork_id, blob_key in todo:
        try:
            vector = compute_embedding(blobs.get(blob_key))
        except Exception:  # a missing or unreadable blob must not stop the sweep
            log.exception("could not embed the style of artwork #%s", artwork_id)
            continue
        with sessions() as s, s.begin():
            _store(s, artwork_id, vector)
        done.append(artwork_id)
    return done


def more_like_this(
    session: Session, blobs: BlobStore, artwork_id: int, *, limit: int = SIMILAR_COUNT
) -> list[tuple[Artwork, float]]:
    """The `limit` works nearest in style to `artwork_id` (itself and works taken down after
    a copyright report left out), nearest first, with their distances.

    Raises:
        NotFound: no such work.
    """
    limit = max(1, min(int(limit), MAX_SIMILAR))
    artwork = get_artwork(session, artwork_id)
    target = embedding_of(session, blobs, artwork)
    rows = session.execute(
        select(ArtworkStyle.artwork_id, ArtworkStyle.vector)
        .join(Artwork, Artwork.id == ArtworkStyle.artwork_id)
        .where(
            ArtworkStyle.artwork_id != artwork.id,
            Artwork.sales_blocked.is_(None) | (Artwork.sales_blocked != "removed"),
        )
    ).all()
    if not rows:
        return []
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f4").reshape(-1, DIMENSIONS)
    distances = np.linalg.norm(matrix - target[None, :], axis=1)
    nearest = np.argsort(distances, kind="stable")[:limit]
    works = {
        w.id: w
        for w in session.scalars(select(Artwork).where(Artwork.id.in_(ids[nearest].tolist())))
    }
    return [(works[int(ids[i])], float(distances[i])) for i in nearest if int(ids[i]) in works]
