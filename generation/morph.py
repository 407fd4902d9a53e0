"""Encoding morph frames as an animated GIF or WebP, with deterministic bytes."""

from __future__ import annotations

import io

from generation.errors import GenerationError
from generation.recipes import ANIMATION_FORMATS

WEBP_QUALITY = 90


def encode_animation(frames: list, fmt: str, frame_ms: int, comment: str | None = None) -> bytes:
    """Encode RGB frames as a looping animation.

    GIF frames get an adaptive 256-colour palette each (Pillow's default); WebP frames are
    lossy at quality 90. Both loop forever. The same frames and settings give the same
    bytes on the same Pillow build. Encoders store a frame that equals the one before (for
    lossy WebP: that is indistinguishable from it at this quality) as a longer showing of
    that frame, so such a file holds fewer frames than given; it looks the same.

    Args:
        frames: Two or more `PIL.Image.Image`s of one size.
        fmt: "gif" or "webp".
        frame_ms: Display time of every frame, in milliseconds.
        comment: Text for the GIF comment extension (ignored for WebP).

    Returns:
        The file's bytes.

    Raises:
        GenerationError: If there are fewer than two frames, sizes differ or `fmt` is unknown.
    """
    if fmt not in ANIMATION_FORMATS:
        raise GenerationError(
            f"`format` must be one of {', '.join(ANIMATION_FORMATS)}, got {fmt!r}"
        )
    if len(frames) < 2:
        raise GenerationError(f"an animation needs at least 2 frames, got {len(frames)}")
    if len({f.size for f in frames}) != 1:
        raise GenerationError("all frames of an animation must have the same size")
    buffer = io.BytesIO()
    first, rest = frames[0], list(frames[1:])
    if fmt == "gif":
        options = {"comment": comment.encode("utf-8")} if comment else {}
        first.save(
            buffer,
            format="GIF",
            save_all=True,
            append_images=rest,
            duration=frame_ms,
            loop=0,
            optimize=False,
            **options,
        )
    else:
        first.save(
            buffer,
            format="WEBP",
            save_all=True,
            append_images=rest,
            duration=frame_ms,
            loop=0,
            lossless=False,
            quality=WEBP_QUALITY,
            method=4,
        )
    return buffer.getvalue()


def frame_count(data: bytes) -> int:
    """Number of frames in an image file's bytes (1 for a still image).

    Raises:
        GenerationError: If the bytes are not an image Pillow can open.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return int(getattr(image, "n_frames", 1))
    except (UnidentifiedImageError, OSError) as exc:
        raise GenerationError(f"not an image: {exc}") from None
