import io

import numpy as np
import pytest
from PIL import Image

from provenance.errors import InvalidImage
from provenance.fingerprint import (
    PDQ_MATCH_DISTANCE,
    content_hash,
    hamming_distance,
    perceptual_hash,
    pixel_hash,
)
from provenance.images import decode_image
from tests.factories import art_image, encode, png_bytes


def test_decoding_refuses_what_is_not_an_image():
    with pytest.raises(InvalidImage, match="not an image"):
        decode_image(b"hello, I am text")
    with pytest.raises(InvalidImage, match="empty"):
        decode_image(b"")


def test_decoding_refuses_a_truncated_file():
    data = encode(art_image(1, 256), "JPEG", quality=90)
    with pytest.raises(InvalidImage, match="damaged or truncated"):
        decode_image(data[: len(data) // 2])


def test_decoding_refuses_a_decompression_bomb():
    # under Pillow's own bomb threshold (89 M pixels) but over Atelier's (40 M)
    bomb = encode(Image.new("L", (7_000, 7_000)), "PNG")
    assert len(bomb) < 200_000
    with pytest.raises(InvalidImage, match="49,000,000 pixels; the limit"):
        decode_image(bomb)
    huge = encode(Image.new("L", (10_000, 10_000)), "PNG")
    with pytest.raises(InvalidImage, match="decompression bomb"):
        decode_image(huge)


def test_decoding_refuses_an_oversized_file():
    with pytest.raises(InvalidImage, match="the limit is 10"):
        decode_image(png_bytes(1), max_bytes=10)


def test_transparency_is_composited_over_white():
    img = Image.new("RGBA", (8, 8), (255, 0, 0, 0))
    rgb = decode_image(encode(img)).rgb
    assert rgb.getpixel((0, 0)) == (255, 255, 255)


def test_palette_greyscale_sixteen_bit_and_cmyk_all_decode_to_rgb():
    base = art_image(3, 64)
    variants = [
        encode(base.convert("P")),
        encode(base.convert("L")),
        encode(Image.fromarray(np.asarray(base.convert("L")).astype(np.uint16) * 257)),
        encode(base.convert("CMYK"), "JPEG", quality=95),
    ]
    for data in variants:
        decoded = decode_image(data)
        assert decoded.rgb.mode == "RGB"
        assert decoded.rgb.size == (64, 64)


def test_sixteen_bit_grey_hashes_like_its_eight_bit_version():
    grey = art_image(4, 128).convert("L")
    deep = Image.fromarray(np.asarray(grey).astype(np.uint16) * 257)
    a = perceptual_hash(decode_image(encode(grey)).rgb)
    b = perceptual_hash(decode_image(encode(deep)).rgb)
    assert hamming_distance(a.hex, b.hex) <= 2


def test_exif_orientation_is_applied_before_hashing():
    img = art_image(5, 96).resize((96, 64))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    rotated_file = encode(img, "JPEG", quality=95, exif=exif)
    decoded = decode_image(rotated_file)
    assert decoded.rgb.size == (64, 96)


def test_pixel_hash_ignores_the_container_but_content_hash_does_not():
    img = art_image(6)
    png, bmp = encode(img, "PNG"), encode(img, "BMP")
    assert content_hash(png) != content_hash(bmp)
    assert pixel_hash(decode_image(png).rgb) == pixel_hash(decode_image(bmp).rgb)


def test_pdq_matches_a_jpeg_resized_copy_and_separates_different_images():
    original = perceptual_hash(decode_image(png_bytes(7, 256)).rgb)
    copy = art_image(7, 256).resize((128, 128))
    copied = perceptual_hash(decode_image(encode(copy, "JPEG", quality=60)).rgb)
    other = perceptual_hash(decode_image(png_bytes(8, 256)).rgb)
    assert original.strong
    assert hamming_distance(original.hex, copied.hex) <= PDQ_MATCH_DISTANCE
    assert hamming_distance(original.hex, other.hex) > 3 * PDQ_MATCH_DISTANCE


def test_a_mirrored_copy_matches_one_of_the_dihedral_hashes():
    original = perceptual_hash(art_image(9, 128))
    mirrored = perceptual_hash(art_image(9, 128).transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    assert hamming_distance(original.hex, mirrored.hex) > PDQ_MATCH_DISTANCE
    assert min(hamming_distance(mirrored.hex, h) for h in original.dihedral) <= PDQ_MATCH_DISTANCE


def test_a_flat_image_has_a_weak_hash():
    assert not perceptual_hash(Image.new("RGB", (64, 64), (120, 30, 200))).strong


def test_hamming_distance_refuses_malformed_hashes():
    with pytest.raises(ValueError, match="64 hex digits"):
        hamming_distance("ab", "cd")


def test_decoding_accepts_bytes_like_and_refuses_other_types():
    assert decode_image(bytearray(png_bytes(1))).width == 96
    with pytest.raises(InvalidImage, match="must be bytes"):
        decode_image(io.BytesIO(png_bytes(1)))  # type: ignore[arg-type]


def test_colour_histograms_tell_recolourings_apart_but_not_re_encodings():
    from PIL import ImageOps

    from provenance.fingerprint import colour_distance, colour_histogram
    from tests.factories import art_image, encode

    img = art_image(3, 128)
    hist = colour_histogram(img)
    assert hist.shape == (512,) and abs(hist.sum() - 1) < 1e-9
    assert colour_distance(hist, colour_histogram(ImageOps.mirror(img))) < 1e-9
    jpeg = Image.open(io.BytesIO(encode(img, "JPEG", quality=75))).convert("RGB")
    swapped = Image.merge("RGB", img.split()[::-1])  # red and blue exchanged
    assert colour_distance(hist, colour_histogram(jpeg)) < 0.2
    assert colour_distance(hist, colour_histogram(swapped)) > 0.5
    with pytest.raises(ValueError, match="RGB"):
        colour_histogram(img.convert("L"))
