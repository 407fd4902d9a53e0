import hashlib

import pytest

from provenance.merkle import (
    EMPTY_ROOT,
    MemoryHashStore,
    MerkleLog,
    ProofError,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)


def H(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def L(d: bytes) -> bytes:  # RFC 9162 leaf hash, written out again from the definition
    return H(b"\x00" + d)


def N(a: bytes, b: bytes) -> bytes:
    return H(b"\x01" + a + b)


def log_of(n: int) -> tuple[MerkleLog, list[bytes]]:
    log = MerkleLog(MemoryHashStore())
    leaves = [f"leaf {i}".encode() for i in range(n)]
    for leaf in leaves:
        log.append(leaf)
    return log, leaves


def test_small_trees_hash_as_rfc_9162_defines():
    d = [b"a", b"b", b"c", b"d", b"e"]
    assert root_hash([]) == H(b"")
    assert root_hash(d[:1]) == L(b"a")
    assert root_hash(d[:2]) == N(L(b"a"), L(b"b"))
    assert root_hash(d[:3]) == N(N(L(b"a"), L(b"b")), L(b"c"))
    # 5 leaves split at 4: ((ab)(cd)) e
    assert root_hash(d) == N(N(N(L(b"a"), L(b"b")), N(L(b"c"), L(b"d"))), L(b"e"))


def test_the_log_root_matches_the_recomputed_root_at_every_size():
    log, leaves = log_of(70)
    assert log.root(0) == EMPTY_ROOT
    for n in range(71):
        assert log.root(n) == root_hash(leaves[:n])


def test_a_hand_computed_inclusion_proof_for_leaf_2_of_5():
    log, leaves = log_of(5)
    l0, l1, l2, l3, l4 = (L(x) for x in leaves)
    assert log.inclusion_proof(2, 5) == [l3, N(l0, l1), l4]
    assert verify_inclusion(l2, 2, 5, [l3, N(l0, l1), l4], log.root())


def test_a_hand_computed_consistency_proof_from_3_to_5():
    log, leaves = log_of(5)
    l0, l1, l2, l3, l4 = (L(x) for x in leaves)
    assert log.consistency_proof(3, 5) == [l2, l3, N(l0, l1), l4]


def test_every_inclusion_proof_up_to_64_leaves_verifies():
    log, leaves = log_of(64)
    for size in range(1, 65):
        root = log.root(size)
        for index in range(size):
            proof = log.inclusion_proof(index, size)
            assert verify_inclusion(L(leaves[index]), index, size, proof, root), (index, size)


def test_every_consistency_proof_between_sizes_up_to_64_verifies():
    log, _ = log_of(64)
    roots = [log.root(n) for n in range(65)]
    for size2 in range(1, 65):
        for size1 in range(1, size2 + 1):
            proof = log.consistency_proof(size1, size2)
            assert verify_consistency(size1, size2, proof, roots[size1], roots[size2])


def flips(value: bytes):
    for i in range(len(value) * 8):
        changed = bytearray(value)
        changed[i // 8] ^= 1 << (i % 8)
        yield bytes(changed)


def test_every_single_bit_change_to_an_inclusion_proof_is_rejected():
    log, leaves = log_of(13)
    root, proof = log.root(), log.inclusion_proof(6)
    leaf = L(leaves[6])
    for bad in flips(leaf):
        assert not verify_inclusion(bad, 6, 13, proof, root)
    for bad in flips(root):
        assert not verify_inclusion(leaf, 6, 13, proof, bad)
    for i in range(len(proof)):
        for bad in flips(proof[i]):
            assert not verify_inclusion(leaf, 6, 13, [*proof[:i], bad, *proof[i + 1 :]], root)


def test_every_single_bit_change_to_a_consistency_proof_is_rejected():
    log, _ = log_of(13)
    r1, r2, proof = log.root(5), log.root(13), log.consistency_proof(5, 13)
    for i in range(len(proof)):
        for bad in flips(proof[i]):
            assert not verify_consistency(5, 13, [*proof[:i], bad, *proof[i + 1 :]], r1, r2)
    for bad in flips(r1):
        assert not verify_consistency(5, 13, proof, bad, r2)
    for bad in flips(r2):
        assert not verify_consistency(5, 13, proof, r1, bad)


def test_malformed_inclusion_inputs_return_false_without_raising():
    log, leaves = log_of(8)
    leaf, root, proof = L(leaves[3]), log.root(), log.inclusion_proof(3)
    assert verify_inclusion(leaf, 3, 8, proof, root)
    cases = [
        (leaf[:31], 3, 8, proof, root),
        (leaf, 3, 8, proof, root + b"\x00"),
        (leaf, 8, 8, proof, root),
        (leaf, -1, 8, proof, root),
        (leaf, 3, 0, proof, root),
        (leaf, 3, 8, [*proof, proof[0]], root),
        (leaf, 3, 8, proof[:-1], root),
        (leaf, 3, 8, [*proof[:-1], b"short"], root),
        (leaf, 3, 8, None, root),
        ("text", 3, 8, proof, root),
        (leaf, 3.0, 8, proof, root),
        (leaf, True, 8, proof, root),
    ]
    for case in cases:
        assert verify_inclusion(*case) is False, case


def test_malformed_consistency_inputs_return_false_without_raising():
    log, _ = log_of(8)
    r3, r8, proof = log.root(3), log.root(8), log.consistency_proof(3, 8)
    assert verify_consistency(3, 8, proof, r3, r8)
    cases = [
        (0, 8, proof, r3, r8),
        (9, 8, proof, r3, r8),
        (3, 8, [], r3, r8),
        (3, 8, [*proof, proof[0]], r3, r8),
        (3, 8, proof[:-1], r3, r8),
        (3, 8, proof, r3[:16], r8),
        (3, 8, [b"x" * 31, *proof[1:]], r3, r8),
        (3, 8, "proof", r3, r8),
        (8, 8, [r8], r8, r8),
        ("3", 8, proof, r3, r8),
    ]
    for case in cases:
        assert verify_consistency(*case) is False, case
    assert verify_consistency(8, 8, [], r8, r8) is True


def test_appending_reads_and_writes_only_a_logarithmic_number_of_hashes():
    class CountingStore(MemoryHashStore):
        reads = writes = 0

        def get_hashes(self, keys):
            self.reads += len(keys)
            return super().get_hashes(keys)

        def put_hashes(self, items):
            items = list(items)
            self.writes += len(items)
            super().put_hashes(items)

    store = CountingStore()
    log = MerkleLog(store)
    for i in range(1023):
        log.append(b"%d" % i)
    store.reads = store.writes = 0
    log.append(b"the 1024th")  # completes a subtree at every level
    assert store.reads == 10 and store.writes == 11


def test_proofs_beyond_the_log_are_refused():
    log, _ = log_of(4)
    with pytest.raises(ProofError, match="tree size"):
        log.inclusion_proof(0, 5)
    with pytest.raises(ProofError, match="leaf index"):
        log.inclusion_proof(4, 4)
    with pytest.raises(ProofError, match="size1"):
        log.consistency_proof(0, 4)


def test_leaf_hash_is_the_rfc_leaf_hash():
    assert leaf_hash(b"x") == L(b"x")
