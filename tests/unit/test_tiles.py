import pytest

from provenance.merkle import MemoryHashStore, MerkleLog, leaf_hash
from provenance.tiles import (
    TileError,
    check_entries,
    encode_index,
    entry_bundle,
    parse_tile_path,
    read_entry_bundle,
    read_tile,
    root_from_tiles,
    tile_path,
    tile_width,
)


def test_tile_indexes_are_encoded_as_the_spec_shows():
    assert encode_index(1234067) == "x001/x234/067"
    assert encode_index(0) == "000"
    assert tile_path(0, 1234067, 17) == "tile/0/x001/x234/067.p/17"
    assert tile_path("entries", 5) == "tile/entries/005"


def test_the_specs_70000_leaf_example_has_the_tiles_it_lists():
    s = 70_000
    assert [tile_width(0, n, s) for n in (0, 272, 273, 274)] == [256, 256, 112, 0]
    assert [tile_width(1, n, s) for n in (0, 1, 2)] == [256, 17, 0]
    assert [tile_width(2, n, s) for n in (0, 1)] == [1, 0]
    # "a tree of size 256 will be represented by a full level 0 tile and a partial level 1
    # tile of width 1"
    assert (tile_width(0, 0, 256), tile_width(1, 0, 256)) == (256, 1)


@pytest.mark.parametrize(
    "path",
    ["tile/0/x001/x234/067.p/17", "tile/entries/000", "tile/63/999", "tile/1/x001/000"],
)
def test_valid_paths_round_trip(path):
    level, index, width = parse_tile_path(path)
    assert tile_path(level, index, width) == path


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/1234",
        "tile/0/x1/234",
        "tile/64/000",
        "tile/00/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/017",
        "tile/0/x000/001",
        "tile/../etc/passwd",
        "tile/0/000\n",
        "tile/entries/000.p/5\n",
        "tile/0/" + "x000/" * 1440 + "001",
        "tile/0/" + "x999/" * 7 + "999",
        "tile/0/000.p/" + "9" * 5000,
    ],
)
def test_paths_the_spec_does_not_allow_are_refused(path):
    with pytest.raises(TileError):
        parse_tile_path(path)


@pytest.fixture(scope="module")
def big_log():
    log = MerkleLog(MemoryHashStore())
    entries = [b"entry %d" % i for i in range(70_000)]
    for e in entries:
        log.append(e)
    return log, entries


@pytest.mark.parametrize("size", [1, 2, 255, 256, 257, 511, 65_536, 65_537, 70_000])
def test_a_client_recomputes_every_root_from_tiles_alone(big_log, size):
    log, _ = big_log
    fetched = []

    def fetch(path):
        fetched.append(path)
        level, index, width = parse_tile_path(path)
        return read_tile(log.store, level, index, width, size)

    assert root_from_tiles(size, fetch) == log.root(size)
    assert len(fetched) <= 3 * 3  # a handful of tiles, never the whole log


def test_a_tile_with_a_changed_hash_gives_another_root(big_log):
    log, _ = big_log

    def fetch(path):
        level, index, width = parse_tile_path(path)
        data = bytearray(read_tile(log.store, level, index, width, 300))
        data[0] ^= 1
        return bytes(data)

    assert root_from_tiles(300, fetch) != log.root(300)


def test_a_partial_tile_that_does_not_exist_yet_is_refused(big_log):
    log, _ = big_log
    with pytest.raises(TileError, match="does not exist"):
        read_tile(log.store, 0, 0, 200, 100)


def test_entry_bundles_round_trip_and_match_the_level_0_tile(big_log):
    log, entries = big_log
    bundle = entry_bundle(entries[256:512])
    assert read_entry_bundle(bundle) == entries[256:512]
    tile = read_tile(log.store, 0, 1, 256, 70_000)
    assert check_entries(read_entry_bundle(bundle), tile)
    assert not check_entries(entries[257:513], tile)
    assert leaf_hash(entries[256]) == tile[:32]
    with pytest.raises(TileError, match="truncated"):
        read_entry_bundle(bundle[:-1])
