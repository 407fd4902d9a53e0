"""Loading a folder of training images, with a SHA-256 (and a PDQ hash if available) per image."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

MIN_IMAGES = 20


@dataclass(frozen=True)
class TrainingImage:
    """One training image's identity: file name, SHA-256 of its bytes and optional PDQ hash."""

    file: str
    sha256: str
    pdq: str | None = None
    pdq_quality: int | None = None

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "sha256": self.sha256,
            "pdq": self.pdq,
            "pdq_quality": self.pdq_quality,
        }


@dataclass(frozen=True)
class ImageFolder:
    """A folder of images decoded into memory.

    Attributes:
        pixels: uint8 tensor `(N, 3, S, S)`, images in file-name order.
        images: Per-image identity records, same order.
    """

    pixels: torch.Tensor
    images: tuple[TrainingImage, ...]

    def __len__(self) -> int:
        return self.pixels.shape[0]


def pdq_hash(image) -> tuple[str, int] | None:
    """Return (PDQ hash as 64 hex chars, quality 0..100) of a PIL image.

    The hex is `provenance.fingerprint.perceptual_hash`'s, the encoding the marketplace
    stores, so training records compare directly with registered artworks. (Models
    exported before this wrote bit 0 first; their `training_data.json` says
    `"perceptual_hash": "pdq"` and `generation.training_data.training_pdq_to_provenance_hex`
    converts them.)
    """
    from provenance.fingerprint import perceptual_hash

    phash = perceptual_hash(image.convert("RGB"), dihedral=False)
    return phash.hex, phash.quality


def load_image_folder(
    data_dir: str | Path,
    image_size: int,
    min_images: int = MIN_IMAGES,
    perceptual_hasher: Callable | None = pdq_hash,
) -> ImageFolder:
    """Decode every image in `data_dir` (not recursive) to RGB `image_size` squares.

    Transparent images are composited on white; non-square images are centre-
    cropped; other sizes are resized with Lanczos. Hidden files are ignored.

    Args:
        data_dir: Directory of images.
        image_size: Side length to bring every image to.
        min_images: Fewest images accepted.
        perceptual_hasher: Function PIL image -> (hash, quality) or None; None disables it.

    Returns:
        The decoded `ImageFolder`.

    Raises:
        FileNotFoundError: If `data_dir` is not a directory.
        ValueError: If the folder holds no images, holds files that are not
            decodable images, or holds fewer than `min_images` images.
    """
    from PIL import Image, UnidentifiedImageError

    folder = Path(data_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"`data_dir` must be a directory, got {str(folder)!r}")
    if image_size < 1:
        raise ValueError(f"`image_size` must be >= 1, got {image_size}")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise ValueError(f"`data_dir` contains no images: {str(folder)!r}")

    tensors, records, bad = [], [], []
    for path in files:
        data = path.read_bytes()
        try:
            with Image.open(path) as opened:
                opened.load()
                image = _to_rgb_square(opened, image_size)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            bad.append(path.name)
            continue
        pdq = perceptual_hasher(image) if perceptual_hasher is not None else None
        records.append(
            TrainingImage(
                file=path.name,
                sha256=hashlib.sha256(data).hexdigest(),
                pdq=pdq[0] if pdq else None,
                pdq_quality=pdq[1] if pdq else None,
            )
        )
        tensors.append(
            torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8).view(
                image_size, image_size, 3
            )
        )
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise ValueError(f"`data_dir` contains files that are not images: {shown}")
    if len(records) < min_images:
        raise ValueError(
            f"`data_dir` must contain at least {min_images} images, got {len(records)}"
        )
    pixels = torch.stack(tensors).permute(0, 3, 1, 2).contiguous()  # (N, 3, S, S)
    return ImageFolder(pixels=pixels, images=tuple(records))


def _to_rgb_square(image, size: int):
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        background.alpha_composite(rgba)
        image = background
    image = image.convert("RGB")
    if image.width != image.height:
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        image = image.crop((left, top, left + side, top + side))
    if image.size != (size, size):
        image = image.resize((size, size), Image.Resampling.LANCZOS)
    return image
