"""Content-addressed storage for image bytes.

The database keeps only keys (the SHA-256 of the bytes). `LocalBlobStore` keeps files in a
folder; another store (S3-compatible, say) only has to provide the same four methods.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

_KEY = re.compile(r"[0-9a-f]{64}")


class BlobNotFound(KeyError):
    """No blob is stored under this key."""


class BlobStore(Protocol):
    def put(self, data: bytes) -> str: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...


def blob_key(data: bytes) -> str:
    """The key a blob store files `data` under: its SHA-256 in hex."""
    return hashlib.sha256(data).hexdigest()


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError(f"`key` must be 64 lower-case hex digits, got {key!r}")
    return key


class LocalBlobStore:
    """Blobs as files under `root/ab/cd/<key>`, written atomically and stored once.

    A write goes to a temporary file in the same folder, is flushed to disk and then renamed
    into place, so a reader never sees a half-written blob and a crash leaves no partial file
    under a real key.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        _check_key(key)
        return self.root / key[:2] / key[2:4] / key

    def put(self, data: bytes) -> str:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"`data` must be bytes, got {type(data).__name__}")
        data = bytes(data)
        key = blob_key(data)
        path = self._path(key)
        if path.exists():
            return key
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

    def path(self, key: str) -> Path:
        """The file holding `key`, for callers that serve files directly."""
        path = self._path(key)
        if not path.exists():
            raise BlobNotFound(key)
        return path
