"""Fingerprints of a training folder, for checking training-data rights before training.

`training_fingerprints(folder)` computes, for every image a training run would read, the
same fingerprints the marketplace registers for an artwork (`marketplace.artworks`):
the SHA-256 of the file bytes, the SHA-256 of the decoded pixels and the PDQ hash (with
its quality and 8 rotation/mirror variants) of the normalised full-size picture, all
through `provenance`. A rights check can then refuse training on someone else's
registered works by exact bytes, exact pixels or PDQ distance <= 31.

Note on PDQ encodings: a saved model's `training_data.json` records the PDQ of each
*training-size copy* (`generation.image_folder.pdq_hash`) in provenance's hex when it says
`"perceptual_hash": "pdq-provenance"`. Models exported earlier say `"pdq"`: their hex is
the bit reversal (bit 0 first), and `training_pdq_to_provenance_hex` converts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TrainingFingerprint:
    """The identity of one training image, as the marketplace fingerprints artworks.

    Attributes:
        file: File name inside the folder.
        sha256: SHA-256 of the file bytes (compare with an artwork's `content_sha256`).
        pixel_sha256: SHA-256 of the normalised RGB pixels (`provenance.fingerprint.pixel_hash`).
        pdq: PDQ hash, 64 hex digits in `provenance.fingerprint`'s encoding.
        pdq_quality: PDQ quality 0-100; below 50 the hash is too weak to match alone.
        pdq_dihedral: The 8 PDQ hashes of the picture's rotations and mirrors.
        width: Pixel width of the decoded picture.
        height: Pixel height.
    """

    file: str
    sha256: str
    pixel_sha256: str
    pdq: str
    pdq_quality: int
    pdq_dihedral: tuple[str, ...]
    width: int
    height: int

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "sha256": self.sha256,
            "pixel_sha256": self.pixel_sha256,
            "pdq": self.pdq,
            "pdq_quality": self.pdq_quality,
            "pdq_dihedral": list(self.pdq_dihedral),
            "width": self.width,
            "height": self.height,
        }


def training_fingerprints(folder: str | Path) -> list[TrainingFingerprint]:
    """Fingerprint every image a training run on `folder` would use, without training.

    The files are the ones `generation.image_folder.load_image_folder` reads: every
    non-hidden file directly inside `folder`, in name order.

    Args:
        folder: The training folder.

    Returns:
        One `TrainingFingerprint` per image, in file-name order.

    Raises:
        FileNotFoundError: If `folder` is not a directory.
        ValueError: If it holds no files, or files that are not decodable images (named,
            up to five).
    """
    from provenance.errors import InvalidImage
    from provenance.fingerprint import content_hash, perceptual_hash, pixel_hash
    from provenance.images import decode_image

    path = Path(folder)
    if not path.is_dir():
        raise FileNotFoundError(f"`data_dir` must be a directory, got {str(path)!r}")
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise ValueError(f"`data_dir` contains no images: {str(path)!r}")
    out, bad = [], []
    for file in files:
        data = file.read_bytes()
        try:
            rgb = decode_image(data).rgb
        except InvalidImage:
            bad.append(file.name)
            continue
        phash = perceptual_hash(rgb)
        out.append(
            TrainingFingerprint(
                file=file.name,
                sha256=content_hash(data),
                pixel_sha256=pixel_hash(rgb),
                pdq=phash.hex,
                pdq_quality=phash.quality,
                pdq_dihedral=phash.dihedral,
                width=rgb.width,
                height=rgb.height,
            )
        )
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise ValueError(f"`data_dir` contains files that are not images: {shown}")
    return out


def training_pdq_to_provenance_hex(hex_hash: str) -> str:
    """Convert a PDQ hex from `training_data.json` (bit 0 first) to provenance's (bit 255 first).

    The conversion is its own inverse.

    Raises:
        ValueError: If `hex_hash` is not 64 hex digits.
    """
    if not isinstance(hex_hash, str) or len(hex_hash) != 64:
        raise ValueError(f"a PDQ hash must be 64 hex digits, got {hex_hash!r}")
    bits = format(int(hex_hash, 16), "0256b")
    return f"{int(bits[::-1], 2):064x}"
