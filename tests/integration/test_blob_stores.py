"""Both blob stores keep one contract: the local folder (the embedded default) and an
S3-compatible bucket on a real SeaweedFS server (scripts/seaweedfs.sh), never a mock."""

from __future__ import annotations

import hashlib
import threading
import uuid

import pytest

from db.blobs import (
    BlobNotFound,
    BlobStoreUnavailable,
    LocalBlobStore,
    S3BlobStore,
    open_blob_store,
    parse_s3_url,
)
from marketplace.media import preview_path
from tests import scripts
from tests.factories import art_image, encode


def s3_store(seaweedfs, prefix: str | None = None) -> S3BlobStore:
    return scripts.s3_store(seaweedfs, f"s3://atelier/{prefix or 'test-' + uuid.uuid4().hex}")


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    return s3_store(request.getfixturevalue("seaweedfs"))


def test_a_blob_is_stored_once_under_its_sha256_and_read_back(store):
    data = b"\x89PNG" + bytes(range(256)) * 2000  # 0.5 MB
    key = store.put(data)
    assert key == hashlib.sha256(data).hexdigest()
    assert store.put(data) == key
    assert store.get(key) == data
    assert store.exists(key)
    assert list(store.keys()) == [key]


def test_unknown_deleted_and_malformed_keys(store):
    key = store.put(b"short-lived")
    store.delete(key)
    assert not store.exists(key)
    with pytest.raises(BlobNotFound):
        store.get(key)
    store.delete(key)  # deleting twice is no error
    with pytest.raises(ValueError, match="64 lower-case hex"):
        store.get("../../etc/passwd")
    with pytest.raises(ValueError, match="lower-case letters"):
        store.get_named("../keys/preview.key")
    with pytest.raises(TypeError, match="must be bytes"):
        store.put("text")


def test_a_named_object_is_written_once_and_the_first_writer_wins(store):
    assert store.put_named("previews/a.webp", b"first")
    assert not store.put_named("previews/a.webp", b"second")
    assert store.get_named("previews/a.webp") == b"first"
    with pytest.raises(BlobNotFound):
        store.get_named("previews/b.webp")
    assert list(store.keys()) == []  # named objects are not blobs


def test_named_objects_are_listed_by_folder_and_deleted(store):
    for name in ("log/tile/0/001.p/44", "log/tile/0/001.p/7", "log/tile/0/001", "log/other"):
        store.put_named(name, name.encode())
    # the folder's own objects only, sorted; not the folder beside it or above it
    assert store.named_under("log/tile/0/001.p") == ["log/tile/0/001.p/44", "log/tile/0/001.p/7"]
    assert store.named_under("log/tile/9") == []
    store.delete_named("log/tile/0/001.p/44")
    store.delete_named("log/tile/0/001.p/44")  # already gone: nothing happens
    assert store.named_under("log/tile/0/001.p") == ["log/tile/0/001.p/7"]
    assert store.get_named("log/tile/0/001") == b"log/tile/0/001"
    with pytest.raises(ValueError, match="lower-case letters"):
        store.named_under("../keys")


def test_two_replicas_racing_for_one_name_never_clobber_each_other(seaweedfs):
    """The writes are conditional (If-None-Match: *): of eight processes' worth of clients
    writing different bytes under one name at once, exactly one wins, and all read its bytes."""
    prefix = "race-" + uuid.uuid4().hex
    replicas = [s3_store(seaweedfs, prefix) for _ in range(8)]
    won, start = [], threading.Barrier(len(replicas))

    def write(i: int) -> None:
        start.wait()
        if replicas[i].put_named("previews/one.webp", f"replica {i}".encode()):
            won.append(i)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(len(replicas))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1
    for replica in replicas:
        assert replica.get_named("previews/one.webp") == f"replica {won[0]}".encode()


def test_a_large_object_goes_through_whole(seaweedfs):
    store = s3_store(seaweedfs)
    data = bytes(range(256)) * (20 * 4096)  # 20 MB, as a trained model can be
    assert store.get(store.put(data)) == data


def test_a_store_that_cannot_be_reached_says_so_without_its_address(seaweedfs):
    store = S3BlobStore(
        "s3://atelier/x", endpoint="http://127.0.0.1:9", access_key_id="a", secret_access_key="b"
    )
    with pytest.raises(BlobStoreUnavailable, match="could not read an object") as caught:
        store.get("0" * 64)
    assert "127.0.0.1" not in str(caught.value) and ":9" not in str(caught.value)
    with pytest.raises(BlobStoreUnavailable, match="could not list objects"):
        list(store.keys())  # the listing fails as it is read, page by page


def test_wrong_keys_are_refused_and_nothing_is_stored(seaweedfs):
    prefix = "keys-" + uuid.uuid4().hex
    wrong = S3BlobStore(
        f"s3://atelier/{prefix}",
        endpoint=seaweedfs["AWS_ENDPOINT_URL"],
        access_key_id=seaweedfs["AWS_ACCESS_KEY_ID"],
        secret_access_key="not-the-secret",
    )
    with pytest.raises(BlobStoreUnavailable, match="could not store"):
        wrong.put(b"data")
    assert list(s3_store(seaweedfs, prefix).keys()) == []


def test_a_preview_made_by_one_replica_is_reused_by_another(seaweedfs, tmp_path):
    prefix = "pv-" + uuid.uuid4().hex
    a, b = s3_store(seaweedfs, prefix), s3_store(seaweedfs, prefix)
    key = a.put(encode(art_image(3).resize((600, 600)), "PNG"))
    made = preview_path(a, key, tmp_path / "cache-a", b"s" * 32, 256)
    # replica B has its own cache folder and no way to decode the original: it must read the
    # preview replica A stored rather than make its own
    b.get = None
    reused = preview_path(b, key, tmp_path / "cache-b", b"s" * 32, 256)
    assert reused.read_bytes() == made.read_bytes()
    assert reused.parent != made.parent


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("s3://atelier", ("atelier", "")),
        ("s3://atelier/blobs/", ("atelier", "blobs")),
        ("s3://my.bucket-1/a/b", ("my.bucket-1", "a/b")),
    ],
)
def test_s3_urls(url, expected):
    assert parse_s3_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("s3://", "3-63 lower-case"),
        ("s3://Bucket/x", "3-63 lower-case"),
        ("s3://bucket/../x", "plain folder names"),
        ("gs://bucket/x", "s3://bucket/prefix or a folder"),
    ],
)
def test_bad_blob_urls_are_refused_with_the_setting_named(tmp_path, url, message):
    with pytest.raises(ValueError, match=message):
        open_blob_store(url, tmp_path)


def test_the_embedded_default_is_the_data_folder(tmp_path):
    assert isinstance(open_blob_store(None, tmp_path / "blobs"), LocalBlobStore)
    assert open_blob_store(f"file://{tmp_path}/x", tmp_path).root == tmp_path / "x"
