"""Caches of style embeddings (the 100 numbers the style predictor makes from a style image).

Keys are strings made by `generation.style` from the SHA-256 of the style image's bytes and
the predictor model's hash, so a cached vector is never used with another model. Two
implementations share one small interface, `StyleEmbeddingCache`:

- `MemoryEmbeddingCache`: a bounded, thread-safe LRU in process memory (the default);
- `DirectoryEmbeddingCache`: one `.npy` file per key under a directory (e.g. the app's data
  dir), so the cache survives restarts and is shared by every process using that directory.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

EMBEDDING_SIZE = 100
_KEY = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.-]{0,159}")


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError(
            f"`key` must be 1-160 letters, digits, '_', '.' or '-' (not leading), got {key!r}"
        )
    return key


def _check_embedding(embedding: np.ndarray) -> np.ndarray:
    array = np.asarray(embedding)
    if array.shape != (EMBEDDING_SIZE,) or not np.isfinite(array).all():
        raise ValueError(
            f"`embedding` must be {EMBEDDING_SIZE} finite numbers, got shape {array.shape}"
        )
    return array.astype(np.float32, copy=True)


@runtime_checkable
class StyleEmbeddingCache(Protocol):
    """Where `StylePipeline` keeps style embeddings it has computed."""

    def get(self, key: str) -> np.ndarray | None:
        """The float32 (100,) embedding stored under `key`, or None."""

    def put(self, key: str, embedding: np.ndarray) -> None:
        """Store a float32 (100,) embedding under `key`."""


class MemoryEmbeddingCache:
    """A bounded least-recently-used cache in process memory, safe to share between threads.

    Args:
        max_items: How many embeddings to keep (each is 400 bytes), >= 1.

    Attributes:
        hits, misses: Counts of `get` calls that found / did not find their key.
    """

    def __init__(self, max_items: int = 1024) -> None:
        if isinstance(max_items, bool) or not isinstance(max_items, int) or max_items < 1:
            raise ValueError(f"`max_items` must be an integer >= 1, got {max_items!r}")
        self.max_items = max_items
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> np.ndarray | None:
        """The embedding under `key` (a copy), or None; marks it most recently used."""
        _check_key(key)
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return found.copy()

    def put(self, key: str, embedding: np.ndarray) -> None:
        """Store `embedding` under `key`, dropping the least recently used beyond `max_items`."""
        _check_key(key)
        value = _check_embedding(embedding)
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)


class DirectoryEmbeddingCache:
    """Embeddings as `<key>.npy` files in one directory, written atomically (temp file + rename).

    A file that cannot be read as a (100,) float array counts as missing and is rewritten on
    the next `put`. Nothing is ever evicted: each file is 528 bytes.

    Args:
        directory: Where the files live; created if missing.

    Attributes:
        hits, misses: Counts of `get` calls that found / did not find their key.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        if self.directory.exists() and not self.directory.is_dir():
            raise ValueError(f"`directory` must be a directory, got the file {self.directory}")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        return self.directory / f"{_check_key(key)}.npy"

    def get(self, key: str) -> np.ndarray | None:
        """The embedding stored under `key`, or None when absent or unreadable."""
        path = self._path(key)
        try:
            array = np.load(path, allow_pickle=False)
            value = _check_embedding(array)
        except (OSError, ValueError, EOFError):
            self.misses += 1
            return None
        self.hits += 1
        return value

    def put(self, key: str, embedding: np.ndarray) -> None:
        """Write `embedding` to `<key>.npy`, replacing any earlier file in one rename."""
        path = self._path(key)
        value = _check_embedding(embedding)
        fd, temp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".npy")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.save(handle, value, allow_pickle=False)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
