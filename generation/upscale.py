"""Resizing GAN outputs (64 or 128 px) for display, with Pillow's resampling filters.

Lanczos is the default: on emoji-like pictures it keeps edges sharper than bicubic
without nearest's blocks; `bench/gan_bench.py --upscale` measures the three on training
images (downscale, upscale back, compare with the original).
"""

from __future__ import annotations

from generation.errors import GenerationError

UPSCALE_METHODS = ("lanczos", "bicubic", "bilinear", "nearest")
DEFAULT_UPSCALE = "lanczos"
MIN_DISPLAY_SIZE = 16
MAX_DISPLAY_SIZE = 2048


def check_upscale(method: object) -> str:
    """Return `method` if it names a resampling filter, else raise naming the value.

    Raises:
        GenerationError: If `method` is not one of `UPSCALE_METHODS`.
    """
    if method not in UPSCALE_METHODS:
        raise GenerationError(
            f"`upscale` must be one of {', '.join(UPSCALE_METHODS)}, got {method!r}"
        )
    return method  # type: ignore[return-value]


def check_display_size(size: object) -> int:
    """Return `size` if it is an integer side length in [16, 2048], else raise naming the value.

    Raises:
        GenerationError: If `size` is not an int (bools refused) or out of range.
    """
    if isinstance(size, bool) or not isinstance(size, int):
        raise GenerationError(f"`size` must be an integer number of pixels, got {size!r}")
    if not MIN_DISPLAY_SIZE <= size <= MAX_DISPLAY_SIZE:
        raise GenerationError(
            f"`size` must be in [{MIN_DISPLAY_SIZE}, {MAX_DISPLAY_SIZE}] pixels, got {size}"
        )
    return size


def upscale(image, size: int, method: str = DEFAULT_UPSCALE):
    """Resize a square image to `size` x `size` with the named filter (a no-op at its own size).

    Args:
        image: A square `PIL.Image.Image`.
        size: Output side length, 16 to 2048.
        method: One of `UPSCALE_METHODS`.

    Returns:
        The resized image (the same object when no resize is needed).

    Raises:
        GenerationError: If `size` or `method` is out of range.
    """
    from PIL import Image

    check_display_size(size)
    check_upscale(method)
    if image.size == (size, size):
        return image
    filters = {
        "lanczos": Image.Resampling.LANCZOS,
        "bicubic": Image.Resampling.BICUBIC,
        "bilinear": Image.Resampling.BILINEAR,
        "nearest": Image.Resampling.NEAREST,
    }
    return image.resize((size, size), filters[method])
