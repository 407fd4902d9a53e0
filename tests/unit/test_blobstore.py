import hashlib

import pytest

from db.blobs import BlobNotFound, LocalBlobStore


def test_a_blob_is_stored_once_under_its_sha256(tmp_path):
    store = LocalBlobStore(tmp_path)
    key = store.put(b"hello")
    assert key == hashlib.sha256(b"hello").hexdigest()
    assert store.put(b"hello") == key
    assert store.get(key) == b"hello"
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 1


def test_no_temporary_file_is_left_behind_after_a_write(tmp_path):
    store = LocalBlobStore(tmp_path)
    store.put(b"x" * 10_000)
    assert not [p for p in tmp_path.rglob(".tmp-*")]


def test_a_failed_write_leaves_no_blob_under_the_key(tmp_path, monkeypatch):
    store = LocalBlobStore(tmp_path)

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("db.blobs.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        store.put(b"data")
    assert not store.exists(hashlib.sha256(b"data").hexdigest())
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_unknown_and_malformed_keys_are_refused(tmp_path):
    store = LocalBlobStore(tmp_path)
    with pytest.raises(BlobNotFound):
        store.get("0" * 64)
    with pytest.raises(ValueError, match="64 lower-case hex"):
        store.get("../../etc/passwd")
