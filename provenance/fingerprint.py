"""Fingerprints of an image: exact hashes of its bytes and pixels, and Meta's PDQ hash.

PDQ facts used here (ThreatExchange's rules): a Hamming distance <= 31 between two hashes
is a match, and a hash whose quality is below 50 (flat or nearly flat images) is too weak to
match on alone. Hashes are written as 64 hex digits in the order of Meta's reference
implementation (bit 255 first).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from PIL import Image

PDQ_MATCH_DISTANCE = 31
PDQ_MIN_QUALITY = 50
# PDQ works on a 64x64 summary of the image; hashing a 512 px copy gives the same hash to a
# few bits at a fraction of the cost for large images.
PDQ_WORKING_SIZE = 512


def content_hash(data: bytes) -> str:
    """SHA-256 of a file's bytes, in hex."""
    return hashlib.sha256(bytes(data)).hexdigest()


def pixel_hash(rgb: Image.Image) -> str:
    """SHA-256 of decoded RGB pixels (with the size), so re-saves that keep pixels agree."""
    if rgb.mode != "RGB":
        raise ValueError(f"`rgb` must be an RGB image, got mode {rgb.mode}")
    digest = hashlib.sha256(f"{rgb.width}x{rgb.height}:".encode())
    digest.update(rgb.tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class PerceptualHash:
    """A PDQ hash with its quality score (0-100).

    Attributes:
        hex: 64 hex digits.
        quality: PDQ's quality; below PDQ_MIN_QUALITY the hash is too weak to match alone.
        dihedral: the hashes of the 8 rotations/mirrors of the image (the first is `hex`).
    """

    hex: str
    quality: int
    dihedral: tuple[str, ...] = ()

    @property
    def strong(self) -> bool:
        return self.quality >= PDQ_MIN_QUALITY


def _bits_to_hex(bits: np.ndarray) -> str:
    return np.packbits(bits[::-1].astype(np.uint8)).tobytes().hex()


def _pdq_input(rgb: Image.Image) -> np.ndarray:
    if rgb.mode != "RGB":
        raise ValueError(f"`rgb` must be an RGB image, got mode {rgb.mode}")
    if max(rgb.size) > PDQ_WORKING_SIZE:
        rgb = rgb.copy()
        rgb.thumbnail((PDQ_WORKING_SIZE, PDQ_WORKING_SIZE), Image.Resampling.BILINEAR)
    return np.asarray(rgb, dtype=np.uint8)


_DIHEDRAL_OPS = ("rot90", "rot180", "rot270", "flip_lr", "flip_ud", "transpose", "transverse")


def _transpose(array: np.ndarray, op: str) -> np.ndarray:
    return {
        "rot90": lambda a: np.rot90(a, 1),
        "rot180": lambda a: np.rot90(a, 2),
        "rot270": lambda a: np.rot90(a, 3),
        "flip_lr": lambda a: a[:, ::-1],
        "flip_ud": lambda a: a[::-1, :],
        "transpose": lambda a: np.transpose(a, (1, 0, 2)),
        "transverse": lambda a: np.rot90(a, 2).transpose(1, 0, 2),
    }[op](array)


def perceptual_hash(rgb: Image.Image, *, dihedral: bool = True) -> PerceptualHash:
    """PDQ hash of an RGB image, with the 8 dihedral variants when `dihedral` is true.

    Args:
        rgb: an RGB image (see `provenance.images.normalise_to_rgb`).
        dihedral: also compute the hashes of the rotated and mirrored image.

    Raises:
        ValueError: if `rgb` is not RGB.
    """
    import pdqhash

    array = _pdq_input(rgb)
    bits, quality = pdqhash.compute(array)
    first = _bits_to_hex(bits)
    if not dihedral:
        return PerceptualHash(hex=first, quality=int(quality))
    # hash the really transposed pixels: PDQ's DCT-domain dihedral variants differ from
    # them by up to ~56 bits on small images (measured on 128 px emoji), which would miss
    # mirrored copies
    hexes = [first]
    for op in _DIHEDRAL_OPS:
        variant_bits, _ = pdqhash.compute(np.ascontiguousarray(_transpose(array, op)))
        hexes.append(_bits_to_hex(variant_bits))
    return PerceptualHash(hex=first, quality=int(quality), dihedral=tuple(hexes))


def hamming_distance(a: str, b: str) -> int:
    """Number of differing bits between two 64-hex-digit hashes."""
    if len(a) != 64 or len(b) != 64:
        raise ValueError(f"PDQ hashes must be 64 hex digits, got {len(a)} and {len(b)}")
    return (int(a, 16) ^ int(b, 16)).bit_count()


def hashes_to_array(hexes: list[str]) -> np.ndarray:
    """Pack hex hashes into an (N, 32) uint8 array for vectorised distance search."""
    if not hexes:
        return np.zeros((0, 32), dtype=np.uint8)
    return np.frombuffer(bytes.fromhex("".join(hexes)), dtype=np.uint8).reshape(-1, 32)


_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint16)


def distances(query: str, packed: np.ndarray) -> np.ndarray:
    """Hamming distances from one hex hash to every row of a packed (N, 32) array."""
    q = hashes_to_array([query])[0]
    return _POPCOUNT[np.bitwise_xor(packed, q)].sum(axis=1)


COLOUR_BINS = 8  # per channel: 512 bins


def colour_histogram(rgb: Image.Image) -> np.ndarray:
    """A normalised 512-bin RGB colour histogram of an image (64x64 bilinear thumbnail).

    PDQ hashes luminance only, so works that differ only in colour (an emoji's skin-tone
    variants) hash alike; this tells them apart. Each pixel is shared between its 8 nearest
    bin centres (trilinear soft binning), so re-encoding noise near a bin edge moves little
    weight: on JPEG copies it halved the distance to the source against hard bins
    (measured in docs/BENCHMARKS.md). It ignores geometry: every rotation and mirror of an
    image has the same histogram.
    """
    if rgb.mode != "RGB":
        raise ValueError(f"`rgb` must be an RGB image, got mode {rgb.mode}")
    pixels = np.asarray(rgb.resize((64, 64), Image.Resampling.BILINEAR)).reshape(-1, 3)
    position = pixels.astype(np.float64) / 256 * COLOUR_BINS - 0.5  # bin centres at integers
    low = np.floor(position).astype(np.int64)  # (4096, 3)
    frac = position - low
    counts = np.zeros(COLOUR_BINS**3)
    for corner in range(8):
        step = np.array([(corner >> 2) & 1, (corner >> 1) & 1, corner & 1])
        index = np.clip(low + step, 0, COLOUR_BINS - 1)
        weight = np.where(step == 1, frac, 1 - frac).prod(axis=1)
        codes = (index[:, 0] * COLOUR_BINS + index[:, 1]) * COLOUR_BINS + index[:, 2]
        counts += np.bincount(codes, weights=weight, minlength=COLOUR_BINS**3)
    return counts / counts.sum()


def colour_distance(a: np.ndarray, b: np.ndarray) -> float:
    """L1 distance between two `colour_histogram`s: 0 (same colours) to 2 (none shared)."""
    return float(np.abs(a - b).sum())


def iscc_image_code(rgb: Image.Image) -> str:
    """The ISCC Content-Code Image (ISO 24138) of an RGB image, e.g. "ISCC:EEA...".

    Normalisation as the ISCC SDK does it: the (already orientation-fixed, white-backed)
    image to greyscale, resized to 32x32 with bicubic filtering, then `gen_image_code_v0`.
    It is the value of our C2PA soft-binding assertion (alg `io.iscc.v0`).
    """
    import iscc_core

    if rgb.mode != "RGB":
        raise ValueError(f"`rgb` must be an RGB image, got mode {rgb.mode}")
    grey = rgb.convert("L").resize((32, 32), Image.Resampling.BICUBIC)
    return iscc_core.gen_image_code_v0(np.asarray(grey).ravel().tolist(), bits=64)["iscc"]
