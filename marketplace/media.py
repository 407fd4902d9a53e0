"""Display copies of stored images: thumbnails cached on disk beside the blob store.

The cache is derived data (keyed by blob key and size): deleting it loses nothing.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PIL import Image

from db.blobs import BlobStore
from provenance.images import decode_image


def thumbnail_path(blobs: BlobStore, key: str, cache_dir: Path, size: int = 256) -> Path:
    """A WebP copy of blob `key` no larger than `size` px, made once and reused."""
    if not 16 <= size <= 2048:
        raise ValueError(f"`size` must be in [16, 2048], got {size}")
    path = Path(cache_dir) / f"{key}_{size}.webp"
    if path.exists():
        return path
    image = decode_image(blobs.get(key)).rgb
    image.thumbnail((size, size), Image.Resampling.LANCZOS)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".webp")
    with os.fdopen(fd, "wb") as f:
        image.save(f, "WEBP", quality=85)
    os.replace(tmp, path)
    return path
