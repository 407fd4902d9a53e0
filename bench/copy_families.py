"""The edits people make to a picture they copy, as functions from a PIL image to file bytes.

Every family of issue #14's list, each applied to every source by bench/identify_bench.py:
crops keeping 90, 70 and 50% of the area (centred and off-centre), rotations of 5, 15 and 90
degrees, a mirror, padding of 25% (white and a colour), meme captions top and bottom, a
sticker covering 10%, a social-media chain (resize 50%, JPEG q60, crop 4%, WebP), JPEG q30,
blur, brightness, contrast and saturation +-20%, and greyscale. The screenshot family (the
picture in a Chromium page at 80% zoom) needs a browser and lives in bench/screenshots.py.

Every family is deterministic: the same source gives the same bytes.
"""

from __future__ import annotations

import io
import math
import zlib

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps


def encode(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, fmt, **kw)
    return buf.getvalue()


def jpeg(img: Image.Image, quality: int = 90) -> bytes:
    return encode(img, "JPEG", quality=quality)


def crop_area(img: Image.Image, keep: float, *, anchor: tuple[float, float]) -> Image.Image:
    """Keep `keep` of the area at the picture's aspect ratio; `anchor` (0..1, 0..1) places the
    window: (0.5, 0.5) centred, (0, 0) top-left."""
    w, h = img.size
    side = math.sqrt(keep)
    cw, ch = max(1, round(w * side)), max(1, round(h * side))
    x, y = round((w - cw) * anchor[0]), round((h - ch) * anchor[1])
    return img.crop((x, y, x + cw, y + ch))


def rotate(img: Image.Image, degrees: float) -> Image.Image:
    return img.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor="white")


def pad(img: Image.Image, share: float, colour) -> Image.Image:
    """Add `share` of the width and height as a frame around the picture."""
    bx, by = round(img.width * share / 2), round(img.height * share / 2)
    return ImageOps.expand(img, border=(bx, by, bx, by), fill=colour)


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # an old Pillow without scalable default font
        return ImageFont.load_default()


def meme(img: Image.Image) -> Image.Image:
    """White capital words with a black outline over the top and the bottom of the picture."""
    out = img.convert("RGB").copy()
    draw = ImageDraw.Draw(out)
    size = max(10, out.height // 9)
    font = _font(size)
    for text, y in (
        ("WHEN YOU SEE IT", out.height // 30),
        ("NOBODY: ME:", out.height - size * 1.3),
    ):
        draw.text(
            (out.width // 20, y),
            text,
            fill="white",
            font=font,
            stroke_width=max(1, size // 10),
            stroke_fill="black",
        )
    return out


def caption_bars(img: Image.Image) -> Image.Image:
    """A white bar with black text above and below the picture (a captioned repost)."""
    bar = max(18, img.height // 6)
    out = ImageOps.expand(img.convert("RGB"), border=(0, bar, 0, bar), fill="white")
    draw = ImageDraw.Draw(out)
    font = _font(max(10, bar // 2))
    draw.text((6, bar // 4), "look what I found", fill="black", font=font)
    draw.text((6, img.height + bar + bar // 4), "#art #mood", fill="black", font=font)
    return out


def sticker(img: Image.Image, seed: str = "") -> Image.Image:
    """A round coloured sticker with a star covering about 10% of the picture, placed by a
    hash of `seed` so it does not always sit in the same spot."""
    out = img.convert("RGB").copy()
    w, h = out.size
    r = math.sqrt(0.10 * w * h / math.pi)
    spot = zlib.crc32(seed.encode()) % 4
    cx = w * (0.3 if spot % 2 == 0 else 0.7)
    cy = h * (0.3 if spot < 2 else 0.7)
    draw = ImageDraw.Draw(out)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(250, 200, 30), outline="black", width=2)
    star = [
        (
            cx + (r * 0.8 if k % 2 == 0 else r * 0.35) * math.sin(k * math.pi / 5),
            cy - (r * 0.8 if k % 2 == 0 else r * 0.35) * math.cos(k * math.pi / 5),
        )
        for k in range(10)
    ]
    draw.polygon(star, fill=(220, 40, 60))
    return out


def social_chain(img: Image.Image) -> bytes:
    """Resize to 50%, JPEG q60, crop 4% off the sides, WebP: a repost through two sites."""
    small = img.convert("RGB").resize(
        (max(1, img.width // 2), max(1, img.height // 2)), Image.Resampling.BILINEAR
    )
    once = Image.open(io.BytesIO(jpeg(small, 60))).convert("RGB")
    w, h = once.size
    dx, dy = round(w * 0.02), round(h * 0.02)
    cropped = once.crop((dx, dy, w - dx, h - dy))
    return encode(cropped, "WEBP", quality=80)


def families() -> dict[str, callable]:
    """Family name -> f(image, seed) -> bytes."""
    return {
        "crop 90% centred": lambda im, s: jpeg(crop_area(im, 0.9, anchor=(0.5, 0.5))),
        "crop 90% off-centre": lambda im, s: jpeg(crop_area(im, 0.9, anchor=(0.0, 1.0))),
        "crop 70% centred": lambda im, s: jpeg(crop_area(im, 0.7, anchor=(0.5, 0.5))),
        "crop 70% off-centre": lambda im, s: jpeg(crop_area(im, 0.7, anchor=(1.0, 0.0))),
        "crop 50% centred": lambda im, s: jpeg(crop_area(im, 0.5, anchor=(0.5, 0.5))),
        "crop 50% off-centre": lambda im, s: jpeg(crop_area(im, 0.5, anchor=(0.0, 0.2))),
        "rotate 5": lambda im, s: jpeg(rotate(im, 5)),
        "rotate 15": lambda im, s: jpeg(rotate(im, -15)),
        "rotate 90": lambda im, s: encode(im.rotate(90, expand=True)),
        "mirror": lambda im, s: encode(ImageOps.mirror(im)),
        "pad 25% white": lambda im, s: encode(pad(im, 0.25, "white")),
        "pad 25% colour": lambda im, s: jpeg(pad(im, 0.25, (40, 90, 160))),
        "meme text": lambda im, s: jpeg(meme(im), 85),
        "caption bars": lambda im, s: jpeg(caption_bars(im), 85),
        "sticker 10%": lambda im, s: jpeg(sticker(im, s)),
        "social chain": lambda im, s: social_chain(im),
        "jpeg q30": lambda im, s: jpeg(im, 30),
        "blur": lambda im, s: jpeg(im.filter(ImageFilter.GaussianBlur(max(1.0, im.width / 256)))),
        "brightness +20%": lambda im, s: jpeg(ImageEnhance.Brightness(im).enhance(1.2)),
        "brightness -20%": lambda im, s: jpeg(ImageEnhance.Brightness(im).enhance(0.8)),
        "contrast +20%": lambda im, s: jpeg(ImageEnhance.Contrast(im).enhance(1.2)),
        "contrast -20%": lambda im, s: jpeg(ImageEnhance.Contrast(im).enhance(0.8)),
        "saturation +20%": lambda im, s: jpeg(ImageEnhance.Color(im).enhance(1.2)),
        "saturation -20%": lambda im, s: jpeg(ImageEnhance.Color(im).enhance(0.8)),
        "greyscale": lambda im, s: jpeg(ImageOps.grayscale(im)),
    }


def print_family_table(count, kinds: list[str], names: list[str]) -> None:
    """Print a markdown table of copies named: a row per copy family (`names`), a column
    per kind, all kinds and the wrong names; then a row over every family.
    `count(kind, name)` -> that cell's counts: "copies", "named" and "wrong"."""

    def named(rows) -> float:
        return sum(r["named"] for r in rows) / max(1, sum(r["copies"] for r in rows))

    print("| copy | " + " | ".join(kinds) + " | all | wrong |")
    print("|---|" + "---|" * (len(kinds) + 2))
    for name in names:
        rows = [count(kind, name) for kind in kinds]
        cells = " | ".join(f"{named([r]):.0%}" for r in rows)
        print(f"| {name} | {cells} | **{named(rows):.0%}** | {sum(r['wrong'] for r in rows)} |")
    every = [count(kind, name) for kind in kinds for name in names]
    cells = " | ".join(f"{named([count(kind, n) for n in names]):.0%}" for kind in kinds)
    print(f"| **all** | {cells} | **{named(every):.1%}** | {sum(r['wrong'] for r in every)} |")
