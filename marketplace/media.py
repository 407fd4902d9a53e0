"""Previews of stored images: what the gallery, the artwork page and the derivation grids
show, cached on disk beside the blob store and, when the blob store is shared by a cluster
(S3), kept there too, so each preview is made once for every replica.

A preview is a preview, never the work a buyer pays for:
- it is at most half the original's longer side (and at most the size asked for);
- any preview over MARK_ABOVE px carries a visible "Atelier preview" mark;
- its file name is an HMAC of the blob key under a secret of this installation, so it cannot
  be found from the public content hash (the original goes only to the owner, the creator and
  licensees, as the signed download).

The cache is derived data: deleting it loses nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import os
import secrets
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from db.blobs import BlobNotFound, BlobStore
from provenance.images import decode_image

MARK_ABOVE = 256  # px: a larger preview carries the mark
MARK_TEXT = "Atelier preview"
PREVIEW_FORMAT_VERSION = 2  # part of the file name: a change of look makes new files
SECRET_BYTES = 32


def load_preview_secret(keys_dir: Path) -> bytes:
    """This installation's preview-naming secret (`keys_dir/preview.key`, made on first use,
    readable by the owner only)."""
    path = Path(keys_dir) / "preview.key"
    try:
        secret = path.read_bytes()
        if len(secret) == SECRET_BYTES:
            return secret
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(SECRET_BYTES)
    fd, tmp = tempfile.mkstemp(dir=path.parent)
    with os.fdopen(fd, "wb") as f:
        f.write(secret)
    os.chmod(tmp, 0o600)
    try:
        os.link(tmp, path)  # first writer wins when two processes start at once
    except FileExistsError:
        secret = path.read_bytes()
    finally:
        os.unlink(tmp)
    return secret


def preview_side(width: int, height: int, size: int) -> int:
    """The longest side of the preview of a `width`×`height` image asked for at `size`."""
    return max(1, min(size, max(width, height) // 2))


def preview_name(secret: bytes, key: str, size: int) -> str:
    """The cache file name of a preview: unguessable without the installation's secret."""
    message = f"{key}:{size}:{PREVIEW_FORMAT_VERSION}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:40] + ".webp"


def mark_preview(image: Image.Image) -> Image.Image:
    """The image with MARK_TEXT across it, in rows, light with a dark edge, so it shows on
    any background and cannot be cropped away without losing most of the picture."""
    base = image.convert("RGBA")
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    font = ImageFont.load_default(size=max(12, base.width // 14))
    left, top, right, bottom = draw.textbbox((0, 0), MARK_TEXT, font=font, stroke_width=2)
    step_x, step_y = (right - left) + base.width // 8, (bottom - top) * 3
    for row, y in enumerate(range(-step_y // 2, base.height, step_y)):
        offset = (row % 2) * step_x // 2
        for x in range(-offset, base.width, step_x):
            draw.text(
                (x, y),
                MARK_TEXT,
                font=font,
                fill=(255, 255, 255, 110),
                stroke_width=2,
                stroke_fill=(0, 0, 0, 90),
            )
    return Image.alpha_composite(base, layer).convert("RGB")


def preview_path(
    blobs: BlobStore, key: str, cache_dir: Path, secret: bytes, size: int = 256
) -> Path:
    """A WebP preview of blob `key`, at most `size` px and at most half the original's longer
    side, marked when over MARK_ABOVE px; made once and reused."""
    if not 16 <= size <= 2048:
        raise ValueError(f"`size` must be in [16, 2048], got {size}")
    name = preview_name(secret, key, size)
    path = Path(cache_dir) / name
    if path.exists():
        return path
    # browsers are handed a local file; a shared store gives each replica the preview
    # another made (the first writer's bytes, for every replica)
    shared_name = f"previews/{name}"
    data = None
    if blobs.shared:
        with contextlib.suppress(BlobNotFound):
            data = blobs.get_named(shared_name)
    if data is None:
        image = decode_image(blobs.get(key)).rgb
        side = preview_side(image.width, image.height, size)
        image.thumbnail((side, side), Image.Resampling.LANCZOS)
        if max(image.size) > MARK_ABOVE:
            image = mark_preview(image)
        buffer = io.BytesIO()
        image.save(buffer, "WEBP", quality=85)
        data = buffer.getvalue()
        if blobs.shared and not blobs.put_named(shared_name, data):
            data = blobs.get_named(shared_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".webp")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return path
