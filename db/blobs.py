"""Content-addressed storage for image bytes, and a few named objects beside them.

The database keeps only keys (the SHA-256 of the bytes). `LocalBlobStore` keeps files in a
folder (the embedded default); `S3BlobStore` keeps objects in an S3-compatible store, shared by
every process of a cluster. `open_blob_store` picks one from a URL (`ATELIER_BLOB_URL`).

Named objects (`put_named`/`get_named`) hold derived data that every replica should share
rather than each make again, such as previews and the log's tiles. They are written once: the
first writer wins. `replace_named` is for the one kind of object that changes, a pointer
such as the log's checkpoint: a whole new object replaces the old one atomically.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Protocol

_KEY = re.compile(r"[0-9a-f]{64}")
# a named object: folders and names of lower-case letters, digits, dots, dashes, underscores
_NAME = re.compile(r"[a-z0-9_-][a-z0-9._-]*(/[a-z0-9_-][a-z0-9._-]*)*")


class BlobNotFound(KeyError):
    """No blob is stored under this key."""


class BlobStoreUnavailable(OSError):
    """The object store could not be reached or refused the request; try again later."""


class BlobStore(Protocol):
    #: True when other processes, on other machines too, see what this store holds
    shared: bool

    def put(self, data: bytes) -> str: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def put_named(self, name: str, data: bytes) -> bool: ...
    def get_named(self, name: str) -> bytes: ...
    def replace_named(self, name: str, data: bytes) -> None: ...
    def delete_named(self, name: str) -> None: ...
    def named_under(self, folder: str) -> list[str]: ...
    def keys(self) -> Iterator[str]: ...


def blob_key(data: bytes) -> str:
    """The key a blob store files `data` under: its SHA-256 in hex."""
    return hashlib.sha256(data).hexdigest()


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError(f"`key` must be 64 lower-case hex digits, got {key!r}")
    return key


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name) or len(name) > 512:
        raise ValueError(
            "`name` must be folders and a file name of lower-case letters, digits, '.', '-' "
            f"and '_', got {name!r}"
        )
    return name


def _check_data(data: object) -> bytes:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"`data` must be bytes, got {type(data).__name__}")
    return bytes(data)


def _blob_path(key: str) -> str:
    """Where a blob sits under a store's root: `ab/cd/<key>` (a folder never grows huge)."""
    _check_key(key)
    return f"{key[:2]}/{key[2:4]}/{key}"


def _write_once(path: Path, data: bytes) -> bool:
    """Write `data` to `path` atomically unless it exists; True if this call wrote it."""
    if path.exists():
        return False
    _write_atomically(path, data)
    return True


def _write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a flushed temporary file renamed into place, so a
    reader sees the old file or the new one, never part of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class LocalBlobStore:
    """Blobs as files under `root/ab/cd/<key>`, written atomically and stored once; named
    objects under `root/named/`.

    A write goes to a temporary file in the same folder, is flushed to disk and then renamed
    into place, so a reader never sees a half-written blob and a crash leaves no partial file
    under a real key.
    """

    shared = False

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / _blob_path(key)

    def put(self, data: bytes) -> str:
        data = _check_data(data)
        key = blob_key(data)
        _write_once(self._path(key), data)
        return key

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def put_named(self, name: str, data: bytes) -> bool:
        return _write_once(self.root / "named" / _check_name(name), _check_data(data))

    def get_named(self, name: str) -> bytes:
        try:
            return (self.root / "named" / _check_name(name)).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(name) from None

    def replace_named(self, name: str, data: bytes) -> None:
        _write_atomically(self.root / "named" / _check_name(name), _check_data(data))

    def delete_named(self, name: str) -> None:
        """Remove a named object (nothing happens if there is none)."""
        (self.root / "named" / _check_name(name)).unlink(missing_ok=True)

    def named_under(self, folder: str) -> list[str]:
        """The names of the named objects in `folder` (not in its sub-folders), sorted."""
        base = self.root / "named" / _check_name(folder)
        if not base.is_dir():
            return []
        return sorted(f"{folder}/{p.name}" for p in base.iterdir() if p.is_file())

    def keys(self) -> Iterator[str]:
        """Every blob's key (not the named objects), in no particular order."""
        for path in self.root.glob("??/??/*"):
            if _KEY.fullmatch(path.name) and path.is_file():
                yield path.name

    def path(self, key: str) -> Path:
        """The file holding `key`, for callers that serve files directly."""
        path = self._path(key)
        if not path.exists():
            raise BlobNotFound(key)
        return path

    def __repr__(self) -> str:
        return f"LocalBlobStore({str(self.root)!r})"


class S3BlobStore:
    """Blobs as objects `<prefix>/ab/cd/<key>` in an S3-compatible bucket; named objects under
    `<prefix>/named/`. Shared by every replica and worker of a cluster.

    Every write is conditional (`If-None-Match: *`): the store refuses to replace an object
    that exists, so two replicas storing the same content, or racing to store one preview,
    never clobber each other, and no write can change a blob the database already points at.
    The client is obstore (measured against boto3 in bench/blob_bench.py).

    Args:
        url: `s3://bucket` or `s3://bucket/prefix`.
        endpoint: the S3 endpoint (e.g. `http://127.0.0.1:8333`); default: the standard
            `AWS_ENDPOINT_URL_S3`/`AWS_ENDPOINT_URL` variable, else AWS itself.
        access_key_id / secret_access_key / region: default: the standard `AWS_*` variables.
    """

    shared = True

    def __init__(
        self,
        url: str,
        *,
        endpoint: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        region: str | None = None,
    ) -> None:
        from obstore.store import S3Store

        bucket, prefix = parse_s3_url(url)
        endpoint = (
            endpoint
            or os.environ.get("AWS_ENDPOINT_URL_S3")
            or os.environ.get("AWS_ENDPOINT_URL")
            or None
        )
        region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        options = {}
        for name, value in (
            ("endpoint", endpoint),
            ("access_key_id", access_key_id),
            ("secret_access_key", secret_access_key),
            ("region", region or "us-east-1"),
        ):
            if value:
                options[name] = value
        self.url, self.bucket, self.prefix = url, bucket, prefix
        # a slow store fails a request in seconds rather than minutes (obstore's default
        # retries for 3 minutes); a 20 MB model still has two minutes to arrive
        client_options = {"connect_timeout": "3 seconds", "timeout": "120 seconds"}
        # a plain-HTTP endpoint is a store on this machine or a private network (SeaweedFS)
        if (endpoint or "").startswith("http://"):
            client_options["allow_http"] = True
        self._store = S3Store(
            bucket,
            prefix=prefix or None,
            client_options=client_options,
            retry_config={"max_retries": 3, "retry_timeout": timedelta(seconds=10)},
            **options,
        )

    def _call(self, what: str, call, *args, **kwargs):
        """Run one obstore call, its failures as this module's errors (`_unavailable`)."""
        from obstore.exceptions import AlreadyExistsError, BaseError

        try:
            return call(self._store, *args, **kwargs)
        except (FileNotFoundError, AlreadyExistsError):
            raise
        except (BaseError, OSError) as error:
            raise _unavailable(what, error) from error

    def _put_once(self, path: str, data: bytes) -> bool:
        import obstore
        from obstore.exceptions import AlreadyExistsError

        try:
            self._call("store an object", obstore.put, path, data, mode="create")
        except AlreadyExistsError:
            return False
        return True

    def _get(self, path: str, missing: str) -> bytes:
        import obstore

        try:
            result = self._call("read an object", obstore.get, path)
            return bytes(result.bytes())
        except FileNotFoundError:
            raise BlobNotFound(missing) from None

    def put(self, data: bytes) -> str:
        data = _check_data(data)
        key = blob_key(data)
        # content-addressed: an object already under this key holds these very bytes
        self._put_once(_blob_path(key), data)
        return key

    def get(self, key: str) -> bytes:
        return self._get(_blob_path(key), key)

    def exists(self, key: str) -> bool:
        import obstore

        try:
            self._call("look up an object", obstore.head, _blob_path(key))
        except FileNotFoundError:
            return False
        return True

    def delete(self, key: str) -> None:
        import obstore

        self._call("delete an object", obstore.delete, _blob_path(key))

    def put_named(self, name: str, data: bytes) -> bool:
        return self._put_once("named/" + _check_name(name), _check_data(data))

    def get_named(self, name: str) -> bytes:
        return self._get("named/" + _check_name(name), name)

    def replace_named(self, name: str, data: bytes) -> None:
        import obstore

        path = "named/" + _check_name(name)
        self._call("store an object", obstore.put, path, _check_data(data), mode="overwrite")

    def delete_named(self, name: str) -> None:
        """Remove a named object (nothing happens if there is none)."""
        import obstore

        self._call("delete an object", obstore.delete, "named/" + _check_name(name))

    def named_under(self, folder: str) -> list[str]:
        """The names of the named objects in `folder` (not in its sub-folders), sorted."""
        import obstore

        prefix = "named/" + _check_name(folder) + "/"
        result = self._call("list objects", obstore.list_with_delimiter, prefix)
        return sorted(
            entry["path"].removeprefix("named/")
            for entry in result["objects"]
            if entry["path"].startswith(prefix)
        )

    def keys(self) -> Iterator[str]:
        """Every blob's key (not the named objects), in no particular order."""
        import obstore
        from obstore.exceptions import BaseError

        # the listing is fetched page by page as it is read, so reading it can fail too
        try:
            for page in obstore.list(self._store, None, chunk_size=1000):
                for entry in page:
                    name = entry["path"].rsplit("/", 1)[-1]
                    if _KEY.fullmatch(name) and not entry["path"].startswith("named/"):
                        yield name
        except (BaseError, OSError) as error:
            raise _unavailable("list objects", error) from error

    def __repr__(self) -> str:
        return f"S3BlobStore({self.url!r})"


def _unavailable(what: str, error: BaseException) -> BlobStoreUnavailable:
    """An object-store failure in words: no endpoint, bucket or credential in the message
    (it reaches logs and, through callers, people)."""
    return BlobStoreUnavailable(
        f"The object store could not {what} ({type(error).__name__}); try again."
    )


def parse_s3_url(url: str) -> tuple[str, str]:
    """The bucket and the prefix (no slashes at either end) of `s3://bucket[/prefix]`."""
    if not isinstance(url, str) or not url.startswith("s3://"):
        raise ValueError(f"an S3 blob URL looks like s3://bucket/prefix, got {url!r}")
    bucket, _, prefix = url[len("s3://") :].partition("/")
    prefix = prefix.strip("/")
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
        raise ValueError(
            f"the bucket in {url!r} must be 3-63 lower-case letters, digits, '.' and '-'"
        )
    if prefix and not _NAME.fullmatch(prefix.lower()):
        raise ValueError(f"the prefix in {url!r} must be plain folder names")
    return bucket, prefix


def open_blob_store(url: str | None, default_dir: str | os.PathLike[str]) -> BlobStore:
    """The blob store `url` names: `s3://bucket/prefix` (S3BlobStore), a `file://` path or a
    folder (LocalBlobStore); empty or None: `default_dir`, the embedded default."""
    url = (url or "").strip()
    if not url:
        return LocalBlobStore(default_dir)
    if url.startswith("s3://"):
        return S3BlobStore(url)
    if url.startswith("file://"):
        return LocalBlobStore(url[len("file://") :])
    if "://" in url:
        raise ValueError(f"`ATELIER_BLOB_URL` must be s3://bucket/prefix or a folder, got {url!r}")
    return LocalBlobStore(url)
