import numpy as np
import pytest

from provenance.fingerprint import hamming_distance
from provenance.pdq_index import PdqIndex


def flip(hex_hash: str, bits: list[int]) -> str:
    value = int(hex_hash, 16)
    for b in bits:
        value ^= 1 << int(b)
    return f"{value:064x}"


@pytest.fixture
def hashes():
    rng = np.random.default_rng(0)
    return [bytes(rng.integers(0, 256, 32, dtype=np.uint8)).hex() for _ in range(2000)]


@pytest.mark.parametrize("exhaustive", [False, True])
def test_a_copy_within_fifteen_bits_is_always_found(hashes, exhaustive):
    index = PdqIndex(exhaustive=exhaustive)
    index.add(list(range(1, 2001)), hashes)
    rng = np.random.default_rng(1)
    for target in range(0, 2000, 97):
        query = flip(hashes[target], list(rng.choice(256, 15, replace=False)))
        found = dict(index.search([query]))
        assert found.get(target + 1) == 15


def test_results_are_within_the_distance_and_each_id_appears_once(hashes):
    index = PdqIndex()
    index.add(list(range(1, 2001)), hashes)
    near = flip(hashes[5], [1, 2, 3])
    results = index.search([near, hashes[5]], max_distance=31)
    assert results[0] == (6, 0)
    assert len({i for i, _ in results}) == len(results)
    assert all(d <= 31 and hamming_distance(near, hashes[i - 1]) >= d for i, d in results)


def test_the_multi_hash_index_agrees_with_the_exhaustive_one_on_close_copies(hashes):
    fast, exact = PdqIndex(), PdqIndex(exhaustive=True)
    for idx in (fast, exact):
        idx.add(list(range(1, 2001)), hashes)
    rng = np.random.default_rng(2)
    queries = [flip(h, list(rng.choice(256, 10, replace=False))) for h in hashes[:200]]
    assert fast.search(queries) == exact.search(queries)


def test_an_empty_index_finds_nothing_and_mismatched_input_is_refused():
    index = PdqIndex()
    assert index.search(["0" * 64]) == []
    with pytest.raises(ValueError, match="ids for"):
        index.add([1, 2], ["0" * 64])
