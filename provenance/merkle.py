"""An append-only Merkle tree hashed exactly as RFC 9162 (Certificate Transparency v2) §2.1.

    leaf hash = SHA-256(0x00 || data)
    node hash = SHA-256(0x01 || left || right)
    MTH({})   = SHA-256("")
    a tree of n > 1 leaves splits at k, the largest power of two smaller than n

The module-level functions `root_hash`, `verify_inclusion` and `verify_consistency` depend on
hashlib alone, so an outside auditor can copy them; the verifiers return False (never raise)
for any malformed input.

`MerkleLog` keeps, for every complete power-of-two subtree, its hash in a `HashStore` keyed
by (level, index): level 0 holds the leaf hashes, and node (L, i) covers leaves
[i·2^L, (i+1)·2^L). This is the layout of C2SP tlog-tiles. Appending writes the new leaf and
the O(log n) subtrees it completes; roots and proofs read O(log n) stored hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol

HASH_SIZE = 32


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + bytes(data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = hashlib.sha256(b"").digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(hashes: Sequence[bytes]) -> bytes:
    if not hashes:
        return EMPTY_ROOT
    if len(hashes) == 1:
        return hashes[0]
    k = _split(len(hashes))
    return node_hash(_mth(hashes[:k]), _mth(hashes[k:]))


def root_hash(leaves: list[bytes]) -> bytes:
    """The Merkle tree hash of raw leaf data (each leaf is hashed with `leaf_hash`)."""
    return _mth([leaf_hash(leaf) for leaf in leaves])


def _valid_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _valid_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: list[bytes], root: bytes
) -> bool:
    """Check that `leaf_hash` is leaf `index` of the tree of `size` leaves with `root`
    (RFC 9162 §2.1.3.2). Any malformed input gives False."""
    if not (
        _valid_hash(leaf_hash)
        and _valid_hash(root)
        and _valid_int(index)
        and _valid_int(size)
        and isinstance(proof, list | tuple)
    ):
        return False
    if not 0 <= index < size or not all(_valid_hash(p) for p in proof):
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    size1: int, size2: int, proof: list[bytes], root1: bytes, root2: bytes
) -> bool:
    """Check that the tree of `size2` leaves with `root2` extends the tree of `size1` leaves
    with `root1` (RFC 9162 §2.1.4.2). Equal sizes are consistent when the proof is empty
    and the roots are equal. Any malformed input, size1 = 0 included, gives False."""
    if not (
        _valid_int(size1)
        and _valid_int(size2)
        and _valid_hash(root1)
        and _valid_hash(root2)
        and isinstance(proof, list | tuple)
    ):
        return False
    if size1 <= 0 or size1 > size2 or not all(_valid_hash(p) for p in proof):
        return False
    if size1 == size2:
        return len(proof) == 0 and root1 == root2
    if not proof:
        return False
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == root1 and sr == root2 and sn == 0


class ProofError(ValueError):
    """A proof was asked for sizes or indexes the log cannot prove."""


class HashStore(Protocol):
    """Where a MerkleLog keeps its complete-subtree hashes."""

    def get_hashes(self, keys: Sequence[tuple[int, int]]) -> list[bytes]: ...
    def put_hashes(self, items: Iterable[tuple[int, int, bytes]]) -> None: ...


class MemoryHashStore:
    """A HashStore in a dict, for tests, tools and rebuilding a log in memory."""

    def __init__(self) -> None:
        self.hashes: dict[tuple[int, int], bytes] = {}

    def get_hashes(self, keys: Sequence[tuple[int, int]]) -> list[bytes]:
        try:
            return [self.hashes[k] for k in keys]
        except KeyError as exc:
            raise ProofError(f"no stored hash at (level, index) {exc.args[0]}") from None

    def put_hashes(self, items: Iterable[tuple[int, int, bytes]]) -> None:
        for level, index, value in items:
            self.hashes[(level, index)] = value


def hashes_for_append(size: int, new_leaf_hash: bytes, store: HashStore) -> list[tuple]:
    """The (level, index, hash) entries that appending leaf number `size` adds: the leaf and
    each subtree it completes. Reads at most log2(size) stored hashes."""
    entries = [(0, size, new_leaf_hash)]
    level, index, value = 0, size, new_leaf_hash
    while index & 1:
        (left,) = store.get_hashes([(level, index - 1)])
        value = node_hash(left, value)
        level, index = level + 1, index >> 1
        entries.append((level, index, value))
    return entries


class MerkleLog:
    """Roots and proofs for the first `size` leaves of a log kept in a HashStore.

    Args:
        store: the complete-subtree hashes (see the module docstring).
        size: how many leaves the store holds.
    """

    def __init__(self, store: HashStore, size: int = 0) -> None:
        if size < 0:
            raise ValueError(f"`size` must be >= 0, got {size}")
        self.store = store
        self.size = size

    def append(self, data: bytes) -> int:
        """Add a leaf (raw data); returns its index."""
        index = self.size
        self.store.put_hashes(hashes_for_append(index, leaf_hash(data), self.store))
        self.size += 1
        return index

    def _subtree(self, lo: int, hi: int) -> bytes:
        """MTH of leaves [lo, hi); lo is aligned as RFC 9162's recursion guarantees."""
        n = hi - lo
        if n == 0:
            return EMPTY_ROOT
        if n & (n - 1) == 0 and lo % n == 0:
            level = n.bit_length() - 1
            return self.store.get_hashes([(level, lo >> level)])[0]
        k = _split(n)
        return node_hash(self._subtree(lo, lo + k), self._subtree(lo + k, hi))

    def _check_size(self, size: int | None) -> int:
        size = self.size if size is None else size
        if not _valid_int(size) or not 0 <= size <= self.size:
            raise ProofError(f"tree size must be in [0, {self.size}], got {size!r}")
        return size

    def root(self, size: int | None = None) -> bytes:
        """The root hash of the first `size` leaves (default: all)."""
        return self._subtree(0, self._check_size(size))

    def leaf_hash(self, index: int) -> bytes:
        if not _valid_int(index) or not 0 <= index < self.size:
            raise ProofError(f"leaf index must be in [0, {self.size}), got {index!r}")
        return self.store.get_hashes([(0, index)])[0]

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.3.1 PATH(index, D[0:size])."""
        size = self._check_size(size)
        if not _valid_int(index) or not 0 <= index < size:
            raise ProofError(f"leaf index must be in [0, {size}), got {index!r}")
        return self._path(index, 0, size)

    def _path(self, m: int, lo: int, hi: int) -> list[bytes]:
        n = hi - lo
        if n <= 1:
            return []
        k = _split(n)
        if m < k:
            return [*self._path(m, lo, lo + k), self._subtree(lo + k, hi)]
        return [*self._path(m - k, lo + k, hi), self._subtree(lo, lo + k)]

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.4.1 PROOF(size1, D[0:size2]); empty when the sizes are equal."""
        size2 = self._check_size(size2)
        if not _valid_int(size1) or not 0 < size1 <= size2:
            raise ProofError(f"`size1` must be in [1, {size2}], got {size1!r}")
        return self._subproof(size1, 0, size2, True)

    def _subproof(self, m: int, lo: int, hi: int, whole: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if whole else [self._subtree(lo, hi)]
        k = _split(n)
        if m <= k:
            return [*self._subproof(m, lo, lo + k, whole), self._subtree(lo + k, hi)]
        return [*self._subproof(m - k, lo + k, hi, False), self._subtree(lo, lo + k)]
