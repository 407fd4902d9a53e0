"""The log published as static tiles in the blob store, read back by a client that knows only
the C2SP tlog-tiles spec: from a folder, and straight from SeaweedFS."""

from __future__ import annotations

import uuid

import pytest

from db.blobs import BlobNotFound, LocalBlobStore
from marketplace.events import record_event
from marketplace.log_publishing import PREFIX, new_tile_paths, publish_log
from provenance.checkpoint import NoteSigner, verify_checkpoint
from provenance.tiles import check_entries, read_entry_bundle, root_from_tiles
from tests.scripts import s3_store

ORIGIN = "test.example/log"


@pytest.fixture(params=["folder", "seaweedfs"])
def store(request, tmp_path):
    if request.param == "folder":
        return LocalBlobStore(tmp_path / "blobs")
    return s3_store(request.getfixturevalue("seaweedfs"), f"s3://atelier/log-{uuid.uuid4().hex}")


def grow(sessions, count: int) -> None:
    with sessions() as s, s.begin():
        for i in range(count):
            record_event(s, "takedown", artwork_id=None, actor_id=None, payload={"n": i})


def client_root(store, size: int) -> bytes:
    return root_from_tiles(size, lambda path: store.get_named(PREFIX + path))


def test_the_published_log_verifies_from_the_store_alone_and_grows_by_its_new_tiles(
    sessions, store
):
    signer = NoteSigner.generate(ORIGIN)
    grow(sessions, 300)  # one full tile and a partial one
    first = publish_log(sessions, store, signer)
    assert (first.previous_size, first.size) == (0, 300)
    checkpoint = verify_checkpoint(
        store.get_named(PREFIX + "checkpoint").decode(), signer.verifier, ORIGIN
    )
    assert checkpoint.size == 300
    assert client_root(store, 300) == checkpoint.root_hash
    # the entries are there too, and match the hashes
    bundle = store.get_named(PREFIX + "tile/entries/000")
    assert len(read_entry_bundle(bundle)) == 256
    assert check_entries(read_entry_bundle(bundle), store.get_named(PREFIX + "tile/0/000"))
    full_tile = store.get_named(PREFIX + "tile/0/000")

    assert publish_log(sessions, store, signer).tiles_written == 0  # nothing new
    grow(sessions, 250)
    second = publish_log(sessions, store, signer)
    assert (second.previous_size, second.size) == (300, 550)
    # a second full level-0 tile and bundle, the new right edge, nothing written twice
    assert new_tile_paths(300, 550) == [
        "tile/entries/001",
        "tile/entries/002.p/38",
        "tile/0/001",
        "tile/0/002.p/38",
        "tile/1/000.p/2",
    ]
    assert second.tiles_written == 5
    assert store.get_named(PREFIX + "tile/0/000") == full_tile
    checkpoint = verify_checkpoint(
        store.get_named(PREFIX + "checkpoint").decode(), signer.verifier, ORIGIN
    )
    assert checkpoint.size == 550 and client_root(store, 550) == checkpoint.root_hash
    # the partial tiles of the tile that filled up are gone (each later width would have
    # stayed forever); a reader holding the earlier checkpoint reads the full tile instead
    assert second.partials_removed == 2
    for gone in ("tile/0/001.p/44", "tile/entries/001.p/44"):
        with pytest.raises(BlobNotFound):
            store.get_named(PREFIX + gone)
    assert store.named_under(PREFIX + "tile/0/001.p") == []
    assert client_root(store, 300) == first_root(sessions, 300)
    # the right edge's partials stay until their tile fills
    assert store.named_under(PREFIX + "tile/0/002.p") == [PREFIX + "tile/0/002.p/38"]


def first_root(sessions, size: int) -> bytes:
    from marketplace.transparency import log_for

    with sessions() as s:
        return log_for(s, size).root()


def test_the_new_paths_of_a_growing_log():
    assert new_tile_paths(0, 0) == []
    assert new_tile_paths(0, 1) == ["tile/entries/000.p/1", "tile/0/000.p/1"]
    assert new_tile_paths(0, 256) == ["tile/entries/000", "tile/0/000", "tile/1/000.p/1"]
    assert new_tile_paths(256, 257) == ["tile/entries/001.p/1", "tile/0/001.p/1"]
    # at 70,000 leaves: 273 full level-0 tiles, one level-1 tile of 273 hashes... 256 full
    paths = new_tile_paths(0, 70_000)
    assert "tile/0/272" in paths and "tile/0/273.p/112" in paths
    assert "tile/1/000" in paths and "tile/1/001.p/17" in paths and "tile/2/000.p/1" in paths


def test_a_checkpoint_from_another_key_is_not_taken_for_the_published_size(sessions, store):
    grow(sessions, 3)
    publish_log(sessions, store, NoteSigner.generate(ORIGIN))
    other = NoteSigner.generate(ORIGIN)
    assert publish_log(sessions, store, other).previous_size == 0
    with pytest.raises(BlobNotFound):
        store.get_named(PREFIX + "tile/0/000")  # still partial: no full tile yet
