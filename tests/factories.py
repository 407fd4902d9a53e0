"""Small builders shared by the tests: images with distinct fingerprints, users, artworks."""

from __future__ import annotations

import io

import numpy as np
from argon2 import PasswordHasher
from PIL import Image, ImageDraw

# argon2id with tiny costs: the same code path, a thousand times faster
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PASSWORD = "correct horse battery"


def art_image(seed: int, size: int = 96) -> Image.Image:
    """A structured picture (blocks and stripes) whose PDQ hash is strong and seed-specific."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    img = Image.fromarray(blocks).resize((size, size), Image.Resampling.BICUBIC)
    arr = np.asarray(img).astype(np.int16)
    stripes = (np.sin(np.arange(size) / (2 + seed % 5)) * 40).astype(np.int16)
    arr = np.clip(arr + stripes[None, :, None], 0, 255).astype(np.uint8)
    return Image.fromarray(arr)


def png_bytes(seed: int, size: int = 96) -> bytes:
    buf = io.BytesIO()
    art_image(seed, size).save(buf, "PNG")
    return buf.getvalue()


def encode(img: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kwargs)
    return buf.getvalue()


def detailed(seed: int, size: int = 320) -> Image.Image:
    """A picture with corners and edges for keypoints: shapes over the block pattern."""
    img = art_image(seed, size)
    draw = ImageDraw.Draw(img)
    for i in range(14):
        x, y = (seed * 37 + i * 53) % (size - 60), (seed * 91 + i * 29) % (size - 60)
        draw.rectangle(
            (x, y, x + 20 + i * 2, y + 14 + i),
            fill=((i * 40) % 256, 255 - i * 9, (seed * 13) % 256),
        )
        draw.ellipse((y, x, y + 18, x + 26), outline=(0, 0, 0), width=2)
    return img


def soft(seed: int, size: int = 256, contrast: float = 8.0) -> Image.Image:
    """A soft picture, like a misty photograph: smooth colour clouds whose grey levels
    spread only `contrast` either side of mid-grey, so few corners are sharp."""
    rng = np.random.default_rng(seed)
    clouds = np.uint8(np.clip(128 + rng.normal(0, 40, (size // 8, size // 8, 3)), 0, 255))
    img = np.asarray(Image.fromarray(clouds).resize((size, size), Image.Resampling.BICUBIC))
    img = 128 + (img - img.mean()) / img.std() * contrast
    return Image.fromarray(np.uint8(np.clip(img, 0, 255)))


def save_tiny_generator(directory, seed: int = 0):
    """Save a 16 px GAN generator (8-d latents, 4 base channels) with `save_pretrained`, its
    weights scaled up so that its pictures have contrast; returns `directory`."""
    import torch

    from generation.gan import Generator

    generator = Generator(image_size=16, latent_dim=8, base_channels=4, seed=seed)
    with torch.no_grad():  # an untrained generator is nearly flat grey; give it contrast
        for module in generator.modules():
            if isinstance(module, torch.nn.ConvTranspose2d):
                module.weight.mul_(12)
    generator.save_pretrained(directory)
    return directory


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    import struct
    import zlib

    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def hostile_files() -> list[tuple[str, bytes]]:
    """Thirty-odd files an attacker or a careless user uploads where an image is expected:
    junk, damaged and hostile images, odd modes and formats, polyglots and bombs. Each
    entry point must refuse each with its own message or store it byte for byte."""
    import struct
    import zipfile
    import zlib

    png = png_bytes(70, 128)
    jpeg = encode(art_image(71, 128), "JPEG", quality=90)
    rgba = art_image(72, 128).convert("RGBA")
    rgba.putalpha(Image.new("L", (128, 128), 0).point(lambda _: 0))  # all transparent...
    hidden = np.asarray(rgba).copy()
    hidden[:, :64, 3] = 255  # ...but the left half
    zip_buf = io.BytesIO()
    with zipfile.ZipFile(zip_buf, "w") as z:
        z.writestr("a.txt", "hello")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° on display
    bomb_header = b"\x89PNG\r\n\x1a\n" + _png_chunk(
        b"IHDR", struct.pack(">IIBBBBB", 60_000, 60_000, 8, 2, 0, 0, 0)
    )
    bomb = bomb_header + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 1_000_000, 9))
    bad_crc = bytearray(png)
    bad_crc[30] ^= 0xFF
    sixteen = Image.fromarray((np.arange(128 * 128).reshape(128, 128) * 3).astype(np.uint16))
    frames = [art_image(73 + i, 64) for i in range(3)]
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:], duration=100)
    apng = io.BytesIO()
    frames[0].save(apng, "PNG", save_all=True, append_images=frames[1:], duration=100)
    palette = art_image(76, 96).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    palette.info["transparency"] = 0
    big_text = _png_chunk(b"tEXt", b"Comment\x00" + b"A" * 2_000_000)
    return [
        ("empty.png", b""),
        ("text.png", b"this is not an image\n" * 10),
        ("random.bin", np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes()),
        ("truncated.png", png[: len(png) // 2]),
        ("truncated.jpg", jpeg[: len(jpeg) // 2]),
        ("header-only.png", png[:8]),
        ("bad-crc.png", bytes(bad_crc)),
        ("bomb.png", bomb),
        ("script.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("page.html", b"<html><script>alert(1)</script></html>"),
        ("doc.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"),
        ("archive.zip", zip_buf.getvalue()),
        ("polyglot.png", png + zip_buf.getvalue()),
        ("trailing-garbage.jpg", jpeg + b"\x00GARBAGE" * 1000),
        ("huge-text-chunk.png", png[:33] + big_text + png[33:]),
        ("gif-named.png", gif.getvalue()),
        ("heic-like.heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64),
        ("tiny-1x1.png", encode(Image.new("RGB", (1, 1), (200, 10, 10)))),
        ("wide-4000x2.png", encode(Image.new("RGB", (4000, 2), (10, 200, 10)))),
        ("rgba-hidden.png", encode(Image.fromarray(hidden, "RGBA"))),
        ("grey-16bit.png", encode(sixteen)),
        ("grey-alpha.png", encode(art_image(77, 96).convert("LA"))),
        ("palette-transparent.png", encode(palette)),
        ("cmyk.jpg", encode(art_image(78, 96).convert("CMYK"), "JPEG")),
        ("exif-rotated.jpg", encode(art_image(79, 96), "JPEG", exif=exif.tobytes())),
        ("animated.gif", gif.getvalue()),
        ("animated.png", apng.getvalue()),
        ("image.bmp", encode(art_image(80, 96), "BMP")),
        ("image.tiff", encode(art_image(81, 96), "TIFF")),
        ("image.webp", encode(art_image(82, 96), "WEBP", lossless=True)),
        ("image.ico", encode(art_image(83, 64), "ICO")),
        ("image.tga", encode(art_image(84, 64), "TGA")),
        ("progressive.jpg", encode(art_image(85, 96), "JPEG", progressive=True)),
    ]


def features_as_format_1(features) -> bytes:
    """Local features as format 1 stored them (a NumPy .npz archive), for the tests of
    reading and upgrading old blobs."""
    png = io.BytesIO()
    Image.fromarray(features.align).save(png, "PNG")
    buf = io.BytesIO()
    np.savez(
        buf,
        format=np.int32(1),
        points=features.points.astype(np.float32),
        descriptors=features.descriptors.astype(np.uint8),
        size=np.int32(features.size),
        scale=np.float64(features.scale),
        align_png=np.frombuffer(png.getvalue(), np.uint8),
    )
    return buf.getvalue()


def alike_but_for_a_part(seed: int):
    """A drawing, and the same drawing with a small part (20 x 25 px of 320) recoloured."""
    original = Image.new("RGB", (320, 320), "white")
    original.paste(detailed(seed, 200), (60, 60))
    pixels = np.asarray(original).copy()
    pixels[110:130, 110:135] = pixels[110:130, 110:135][..., [2, 0, 1]]
    return original, Image.fromarray(pixels)


def jpeg_copy(picture, box=(10, 10, 310, 310)):
    buf = io.BytesIO()
    picture.crop(box).save(buf, "JPEG", quality=80)
    return Image.open(buf).convert("RGB")
