"""Nearest-neighbour search over PDQ hashes that stays fast at a million artworks.

faiss `IndexBinaryMultiHash(256, 16, 16)` (the layout of Meta's hasher-matcher-actioner):
the hash is cut into 16 chunks of 16 bits, each chunk a hash table; a query looks up its 16
chunks (nflip=0) and checks the candidates' full Hamming distance. Two hashes within 15 bits
always share a chunk. Between 16 and 31 bits all 16 chunks can be touched, so three multi-hash
indexes hold the hashes under three partitions into chunks: as they are, rotated by 8 bits
(chunk borders moved half a chunk), and under a fixed pseudo-random bit permutation. A
match is missed only if every chunk of all three partitions is touched. Permuting bits keeps
Hamming distances. Measured against an exhaustive flat search in bench/pdq_bench.py.

The index maps faiss's sequential positions to caller ids; it is derived data, rebuilt from
the database and extended as rows are added (see marketplace.artworks).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from provenance.fingerprint import PDQ_MATCH_DISTANCE, hashes_to_array

# bit orders of the three partitions: identity, rotated by 8 bits, a fixed shuffle
PARTITIONS = (
    np.arange(256),
    np.roll(np.arange(256), 8),
    np.random.default_rng(20261124).permutation(256),
)


def _rotated(packed: np.ndarray, partition: int) -> np.ndarray:
    """Reorder the bits of each packed hash by partition `partition` (distances are kept)."""
    if partition == 0:
        return packed
    bits = np.unpackbits(packed, axis=1)[:, PARTITIONS[partition]]
    return np.ascontiguousarray(np.packbits(bits, axis=1))


class PdqIndex:
    """Search PDQ hashes by Hamming distance.

    Args:
        exhaustive: use a flat (exact, slower) index instead of the multi-hash one.
    """

    def __init__(self, *, exhaustive: bool = False) -> None:
        import faiss

        # exact k-nearest search for shortlists beyond the match distance
        self._flat = faiss.IndexBinaryFlat(256)
        self._indexes = (
            [faiss.IndexBinaryFlat(256)]
            if exhaustive
            else [faiss.IndexBinaryMultiHash(256, 16, 16) for _ in PARTITIONS]
        )
        self._ids = np.zeros(0, dtype=np.int64)
        self._lock = threading.Lock()
        self.max_id = 0

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, ids: Sequence[int], hexes: Sequence[str]) -> None:
        """Add hashes (64 hex digits each) under caller ids; ids must grow."""
        if len(ids) != len(hexes):
            raise ValueError(f"got {len(ids)} ids for {len(hexes)} hashes")
        if not ids:
            return
        with self._lock:
            packed = hashes_to_array(list(hexes))
            self._flat.add(packed)
            for shift, index in enumerate(self._indexes):
                index.add(_rotated(packed, shift))
            self._ids = np.concatenate([self._ids, np.asarray(ids, dtype=np.int64)])
            self.max_id = max(self.max_id, int(max(ids)))

    def search(
        self, hexes: Sequence[str], max_distance: int = PDQ_MATCH_DISTANCE
    ) -> list[tuple[int, int]]:
        """(id, distance) of every indexed hash within `max_distance` of any query hash,
        each id once with its smallest distance, nearest first."""
        if not hexes or not len(self._ids):
            return []
        best: dict[int, int] = {}
        with self._lock:
            for shift, index in enumerate(self._indexes):
                queries = _rotated(hashes_to_array(list(hexes)), shift)
                _lims, distances, positions = index.range_search(queries, max_distance + 1)
                for position, distance in zip(positions.tolist(), distances.tolist(), strict=True):
                    ident = int(self._ids[position])
                    if distance <= max_distance and distance < best.get(ident, 257):
                        best[ident] = int(distance)
        return sorted(best.items(), key=lambda item: (item[1], item[0]))

    def nearest(self, hexes: Sequence[str], k: int = 10) -> list[tuple[int, int]]:
        """The `k` nearest ids over all query hashes (exhaustive), nearest first."""
        if not hexes or not len(self._ids):
            return []
        with self._lock:
            distances, positions = self._flat.search(
                hashes_to_array(list(hexes)), min(k, len(self._ids))
            )
        best: dict[int, int] = {}
        for row_d, row_p in zip(distances.tolist(), positions.tolist(), strict=True):
            for distance, position in zip(row_d, row_p, strict=True):
                if position >= 0:
                    ident = int(self._ids[position])
                    best[ident] = min(int(distance), best.get(ident, 257))
        return sorted(best.items(), key=lambda item: (item[1], item[0]))[:k]
