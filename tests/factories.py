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
