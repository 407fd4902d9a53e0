"""Decoding untrusted image bytes, and the one normalisation every fingerprint starts from.

Normalisation (the same for hashing, matching and display):
- EXIF orientation is applied, so a phone photo and its rotated re-save agree.
- Transparency is composited over white: most viewers, web pages and screenshots show a
  transparent clip-art image on a light background, so a screenshot of it hashes close to it.
- Palette images are expanded first (so palette transparency is honoured).
- 16- and 32-bit greyscale is scaled to 8 bits by its full range (I;16 → >> 8).
- CMYK and other modes go through Pillow's conversion to RGB.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from provenance.errors import InvalidImage

MAX_IMAGE_BYTES = 50 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")


@dataclass(frozen=True)
class DecodedImage:
    """An image that decoded fully, in Atelier's normalised RGB form.

    Attributes:
        rgb: the orientation-normalised RGB image.
        format: the container format Pillow detected (`PNG`, `JPEG`, ...).
        width, height: the size of `rgb`.
    """

    rgb: Image.Image
    format: str

    @property
    def width(self) -> int:
        return self.rgb.width

    @property
    def height(self) -> int:
        return self.rgb.height


def decode_image(
    data: bytes, *, max_bytes: int = MAX_IMAGE_BYTES, max_pixels: int = MAX_IMAGE_PIXELS
) -> DecodedImage:
    """Decode untrusted bytes into a normalised RGB image, refusing anything doubtful.

    Args:
        data: the file's bytes.
        max_bytes: refuse larger files.
        max_pixels: refuse images with more pixels (decompression bombs).

    Returns:
        the decoded image.

    Raises:
        InvalidImage: empty, oversized, not an image, an unsupported format, a decompression
            bomb or a truncated file; the message says which.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidImage(f"image data must be bytes, got {type(data).__name__}")
    if len(data) == 0:
        raise InvalidImage("the file is empty")
    if len(data) > max_bytes:
        raise InvalidImage(f"the file is {len(data):,} bytes; the limit is {max_bytes:,}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(bytes(data)))
            fmt = img.format or "UNKNOWN"
            if fmt not in ACCEPTED_FORMATS:
                raise InvalidImage(
                    f"unsupported image format {fmt}; use one of {', '.join(ACCEPTED_FORMATS)}"
                )
            width, height = img.size
            if width <= 0 or height <= 0:
                raise InvalidImage(f"the image has no pixels ({width}x{height})")
            if width * height > max_pixels:
                raise InvalidImage(
                    f"the image is {width}x{height} = {width * height:,} pixels; "
                    f"the limit is {max_pixels:,}"
                )
            img.load()
            rgb = normalise_to_rgb(img)
    except InvalidImage:
        raise
    except UnidentifiedImageError:
        raise InvalidImage("the file is not an image Atelier can read") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidImage("the image is too large to decode safely (decompression bomb)") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidImage(f"the image is damaged or truncated ({exc})") from None
    return DecodedImage(rgb=rgb, format=fmt)


def _deep_grey_to_l(img: Image.Image) -> Image.Image:
    values = np.asarray(img, dtype=np.float64)
    # 16-bit data (I;16 modes, or 32-bit I holding 16-bit PNG values) spans 0..65535
    if img.mode != "I" or values.max(initial=0) > 255:
        values = values / 257.0
    return Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8), mode="L")


def normalise_to_rgb(img: Image.Image) -> Image.Image:
    """Apply EXIF orientation and bring any mode to 8-bit RGB (see the module docstring)."""
    img = ImageOps.exif_transpose(img)
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif img.mode == "PA":
        img = img.convert("RGBA")
    if img.mode.startswith("I") or img.mode == "F":
        img = _deep_grey_to_l(img)
    if img.mode in ("LA", "La", "RGBa"):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, img).convert("RGB")
    if img.mode != "RGB":
        img = img.convert("RGB")
    return img


def trim_borders(rgb: Image.Image, *, tolerance: int = 12, min_keep: float = 0.3) -> Image.Image:
    """The image without uniform margins (a border, a letterbox, a blank caption bar).

    The background colour is the median of the four corners; rows and columns whose pixels
    all stay within `tolerance` of it are cut from each side. Returns the image itself when
    nothing is cut or the rest would be under `min_keep` of either side.
    """
    pixels = np.asarray(rgb, dtype=np.int16)
    corners = np.stack([pixels[0, 0], pixels[0, -1], pixels[-1, 0], pixels[-1, -1]])
    background = np.median(corners, axis=0)
    content = (np.abs(pixels - background) > tolerance).any(axis=2)
    rows, cols = np.flatnonzero(content.any(axis=1)), np.flatnonzero(content.any(axis=0))
    if not len(rows) or not len(cols):
        return rgb
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    h, w = content.shape
    if (top, bottom, left, right) == (0, h, 0, w):
        return rgb
    if (bottom - top) < min_keep * h or (right - left) < min_keep * w:
        return rgb
    return rgb.crop((int(left), int(top), int(right), int(bottom)))
