"""The log as C2SP tlog-tiles (c2sp.org/tlog-tiles): static resources a client that knows
only the spec can fetch to recompute roots and proofs.

    <prefix>/checkpoint                 the signed checkpoint note
    <prefix>/tile/<L>/<N>[.p/<W>]       256 (or W) consecutive hashes of Merkle level 8·L
    <prefix>/tile/entries/<N>[.p/<W>]   the leaf data, each as a big-endian uint16 length
                                        followed by the bytes

Tile (L, N) holds MTH(D[(N·256 + i)·256^L : (N·256 + i + 1)·256^L]) for i < 256, which are
exactly the stored complete-subtree hashes at level 8·L, indexes N·256 + i.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Sequence

from provenance.errors import ProvenanceError
from provenance.merkle import EMPTY_ROOT, HashStore, leaf_hash, node_hash

TILE_WIDTH = 256
TILE_HEIGHT = 8
HASH = 32


class TileError(ProvenanceError):
    """A tile path or tile content that does not follow the spec, or is not available."""


def encode_index(n: int) -> str:
    """1234067 → "x001/x234/067": zero-padded 3-digit elements, all but the last x-prefixed."""
    if n < 0:
        raise ValueError(f"tile index must be >= 0, got {n}")
    parts = []
    while True:
        parts.append(f"{n % 1000:03d}")
        n //= 1000
        if n == 0:
            break
    parts.reverse()
    return "/".join([*(f"x{p}" for p in parts[:-1]), parts[-1]])


def tile_path(level: int | str, index: int, width: int | None = None) -> str:
    """The path of a hash tile (`level` an int) or an entry bundle (`level` == "entries")."""
    suffix = "" if width is None or width == TILE_WIDTH else f".p/{width}"
    return f"tile/{level}/{encode_index(index)}{suffix}"


# matched whole (`fullmatch`); at most 6 `xNNN/` segments: 1000**7 exceeds any 64-bit index,
# and an unbounded run of digits would make `int` refuse (and the server answer 500)
_PATH = re.compile(
    r"tile/(entries|0|[1-9][0-9]?)/((?:x[0-9]{3}/){0,6}[0-9]{3})(?:\.p/([0-9]{1,3}))?"
)


def parse_tile_path(path: str) -> tuple[int | str, int, int]:
    """Parse `tile/<L>/<N>[.p/<W>]` → (level or "entries", index, width).

    Raises:
        TileError: for any path the spec does not allow.
    """
    match = _PATH.fullmatch(path)
    if not match:
        raise TileError(f"not a tile path: {path!r}")
    level_text, index_text, width_text = match.groups()
    level: int | str = level_text if level_text == "entries" else int(level_text)
    if isinstance(level, int) and level > 63:
        raise TileError(f"tile level must be at most 63, got {level}")
    index = int(index_text.replace("x", "").replace("/", ""))
    if encode_index(index) != index_text:
        raise TileError(f"tile index is not canonically encoded: {index_text!r}")
    width = TILE_WIDTH
    if width_text is not None:
        width = int(width_text)
        if not 1 <= width < TILE_WIDTH or width_text != str(width):
            raise TileError(f"partial tile width must be 1-255, got {width_text!r}")
    return level, index, width


def tile_width(level: int, index: int, size: int) -> int:
    """How many hashes tile (level, index) has in a tree of `size` leaves (0: none yet)."""
    span = TILE_WIDTH**level
    hashes_at_level = size // span
    return max(0, min(TILE_WIDTH, hashes_at_level - index * TILE_WIDTH))


def read_tile(store: HashStore, level: int, index: int, width: int, size: int) -> bytes:
    """The bytes of hash tile (level, index) of width `width` from a log of `size` leaves.

    Raises:
        TileError: if the tree of `size` leaves does not have that many hashes there.
    """
    if width > tile_width(level, index, size):
        raise TileError(f"tile {level}/{index} of width {width} does not exist yet")
    merkle_level = level * TILE_HEIGHT
    keys = [(merkle_level, index * TILE_WIDTH + i) for i in range(width)]
    return b"".join(store.get_hashes(keys))


def entry_bundle(entries: Sequence[bytes]) -> bytes:
    """Leaf data as a bundle: each entry prefixed with its length as a big-endian uint16."""
    out = bytearray()
    for entry in entries:
        if len(entry) > 0xFFFF:
            raise TileError(f"an entry is {len(entry)} bytes; bundles allow 65,535")
        out += struct.pack(">H", len(entry)) + entry
    return bytes(out)


def read_entry_bundle(data: bytes) -> list[bytes]:
    entries, pos = [], 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise TileError("truncated entry bundle")
        (length,) = struct.unpack_from(">H", data, pos)
        pos += 2
        if pos + length > len(data):
            raise TileError("truncated entry bundle")
        entries.append(data[pos : pos + length])
        pos += length
    return entries


def _mth_of_hashes(hashes: Sequence[bytes]) -> bytes:
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return node_hash(_mth_of_hashes(hashes[:k]), _mth_of_hashes(hashes[k:]))


def root_from_tiles(size: int, fetch: Callable[[str], bytes]) -> bytes:
    """Recompute the root of a tree of `size` leaves from its tiles alone, as a client that
    knows only the spec would; `fetch(path)` returns the bytes at `<prefix>/<path>`, and
    raises KeyError or FileNotFoundError for a path that is not there (a missing partial
    tile is then read from its full tile).

    Raises:
        TileError: a tile of the wrong length.
    """
    if size == 0:
        return EMPTY_ROOT
    cache: dict[str, list[bytes]] = {}

    def tile(level: int, index: int) -> list[bytes]:
        width = tile_width(level, index, size)
        path = tile_path(level, index, width)
        if path not in cache:
            try:
                data = fetch(path)
            except (KeyError, FileNotFoundError):
                if width == TILE_WIDTH:
                    raise
                # a partial tile the log has deleted since the tile filled up: the full
                # tile begins with the same hashes (c2sp.org/tlog-tiles)
                data = fetch(tile_path(level, index))[: width * HASH]
            if len(data) != width * HASH:
                raise TileError(f"{path} is {len(data)} bytes, expected {width * HASH}")
            cache[path] = [data[i : i + HASH] for i in range(0, len(data), HASH)]
        return cache[path]

    def subtree(height: int, k: int) -> bytes:
        """Hash of the complete subtree of 2**height leaves starting at leaf k·2**height."""
        level, within = divmod(height, TILE_HEIGHT)
        count = 1 << within  # hashes of Merkle level 8·level that the subtree spans
        first = k * count
        hashes = tile(level, first // TILE_WIDTH)
        offset = first % TILE_WIDTH
        return _mth_of_hashes(hashes[offset : offset + count])

    # the tree's root combines its complete subtrees, largest first, from the right
    parts, start = [], 0
    for height in range(size.bit_length() - 1, -1, -1):
        if size & (1 << height):
            parts.append(subtree(height, start >> height))
            start += 1 << height
    root = parts[-1]
    for part in reversed(parts[:-1]):
        root = node_hash(part, root)
    return root


def check_entries(entries: Sequence[bytes], level0_tile: bytes) -> bool:
    """True when each entry hashes to the matching leaf hash of a level-0 tile."""
    hashes = [level0_tile[i : i + HASH] for i in range(0, len(level0_tile), HASH)]
    return len(hashes) == len(entries) and all(
        leaf_hash(e) == h for e, h in zip(entries, hashes, strict=True)
    )
