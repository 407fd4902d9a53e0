"""The transparency log published as static files in the blob store (c2sp.org/tlog-tiles).

`publish_log` writes what the log has grown by since the last publication: every full hash
tile and entry bundle once (they never change), the partial tiles of the right edge at the
new size (each width is its own immutable path), and last the signed checkpoint, the one
object that is replaced. A static server or CDN in front of the bucket serves the log with no
Atelier process behind it, under `named/log/`:

    log/checkpoint   log/tile/<L>/<N>[.p/<W>]   log/tile/entries/<N>[.p/<W>]

A reader that fetches the checkpoint and then the tiles always finds every tile the
checkpoint needs, since the tiles are written first. Once a tile is full, its partial tiles
are deleted (after the checkpoint that needs the full tile), so the right edge's superseded
widths never pile up: at most 255 partials of each level's last tile are stored. Only the
engine's maintenance worker (every few seconds) and `atelier log publish` run it; purchases
never wait for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import sessionmaker

from db.blobs import BlobNotFound, BlobStore
from marketplace.transparency import log_tile, sign_head
from provenance.checkpoint import NoteError, NoteSigner, verify_checkpoint
from provenance.tiles import TILE_WIDTH, tile_path

PREFIX = "log/"


@dataclass(frozen=True)
class Published:
    """What one publication did: the log size it published, and the objects it wrote."""

    size: int
    previous_size: int
    tiles_written: int
    partials_removed: int = 0


def published_size(blobs: BlobStore, signer: NoteSigner) -> int:
    """The size of the checkpoint in the store (0 if none, or one this key did not sign)."""
    try:
        note = blobs.get_named(PREFIX + "checkpoint").decode()
        return verify_checkpoint(note, signer.verifier, signer.name).size
    except (BlobNotFound, UnicodeDecodeError, NoteError):
        return 0


def new_tile_paths(previous: int, size: int) -> list[str]:
    """The tile paths a log of `size` leaves has that one of `previous` leaves had not:
    full tiles completed since, and the partial tiles at the new right edge."""
    paths = []
    for level in ("entries", *range(64)):
        span = 1 if level == "entries" else TILE_WIDTH**level
        hashes, before = size // span, previous // span
        if hashes == 0:
            break
        full = hashes // TILE_WIDTH
        for index in range(before // TILE_WIDTH, full):
            paths.append(tile_path(level, index))
        if hashes % TILE_WIDTH and hashes != before:
            paths.append(tile_path(level, full, hashes % TILE_WIDTH))
    return paths


def publish_log(sessions: sessionmaker, blobs: BlobStore, signer: NoteSigner) -> Published:
    """Bring the published log in `blobs` up to the log's current size (see the module)."""
    with sessions() as s, s.begin():  # a short lock on the log's state, to sign its head
        checkpoint = sign_head(s, signer)
        size, note = checkpoint.size, checkpoint.note
    previous = published_size(blobs, signer)
    if previous == size:
        return Published(size, previous, 0)
    written = 0
    paths = new_tile_paths(min(previous, size), size)
    with sessions() as s:  # the stored hashes of a size never change: read without locks
        for path in paths:
            written += blobs.put_named(PREFIX + path, log_tile(s, path, size=size))
    removed = 0
    if previous < size:
        blobs.replace_named(PREFIX + "checkpoint", note.encode())
        removed = remove_superseded_partials(blobs, [p for p in paths if ".p/" not in p])
    return Published(size, previous, written, removed)


def remove_superseded_partials(blobs: BlobStore, full_tiles: list[str]) -> int:
    """Delete the partial tiles of tiles that are now full (c2sp.org/tlog-tiles lets a log
    delete them: a reader whose older checkpoint names a partial tile that is gone reads the
    full tile, whose first hashes are the partial's). Run after the checkpoint that needs the
    full tiles is published; returns how many objects were deleted."""
    removed = 0
    for path in full_tiles:
        for name in blobs.named_under(f"{PREFIX}{path}.p"):
            blobs.delete_named(name)
            removed += 1
    return removed
