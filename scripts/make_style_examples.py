"""Make the style-transfer examples in docs/STYLE.md (2048 px results, crops, a strength strip).

Draws the painting-like style picture (docs/style/swirl-painting.png) itself, then:

1. docs/style/china.jpg (a photo) in the style of that painting, 2048 px;
2. docs/style/flower.jpg (a photo) in a 60/40 blend of presets 19 and 4, 2048 px;
3. a strip of china.jpg at strengths 0, 0.25, 0.5, 0.75, 1 and with its colours preserved.

The full 2048 px PNGs go to --full-dir (too large for the docs); the docs get a 1024 px view
and a 1:1 crop across tile seams of each, and the recipes. Prints the seam gradient ratios.

Example:
    python scripts/make_style_examples.py --full-dir /tmp/style-examples
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DOCS = ROOT / "docs" / "style"


def swirl_painting(size: int = 512, seed: int = 7) -> Image.Image:
    """A painting-like picture: 4,500 curved strokes in night-sky colours along a flow field.

    Args:
        size: The side of the square picture.
        seed: Seeds the stroke positions, colours and widths.

    Returns:
        An RGB `PIL.Image.Image`.
    """
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (size, size), (20, 30, 70))
    draw = ImageDraw.Draw(image)
    palette = np.array(
        [
            (28, 52, 120),
            (40, 90, 170),
            (90, 140, 200),
            (230, 200, 70),
            (250, 230, 140),
            (20, 40, 60),
            (200, 120, 40),
        ]
    )

    def angle(x: float, y: float) -> float:
        u, v = x / size, y / size
        return 2.5 * np.sin(6 * u + 3 * np.cos(4 * v)) + 2.0 * np.cos(5 * v - 2 * u)

    for _ in range(4500):
        x, y = rng.uniform(0, size, 2)
        u, v = x / size, y / size
        # blues everywhere, two yellow "moons", dark hills along the bottom
        odds = np.array(
            [
                1.2,
                1.5,
                1.0,
                0.3 + 2.5 * np.exp(-((u - 0.75) ** 2 + (v - 0.25) ** 2) / 0.01),
                0.2 + 1.5 * np.exp(-((u - 0.25) ** 2 + (v - 0.3) ** 2) / 0.006),
                3.0 * (v > 0.7 + 0.1 * np.sin(8 * u)),
                0.4 * (v > 0.75),
            ]
        )
        colour = palette[rng.choice(len(palette), p=odds / odds.sum())] + rng.integers(-25, 25, 3)
        points = [(x, y)]
        for _ in range(rng.integers(4, 10)):
            a = angle(x, y)
            x, y = x + 6 * np.cos(a), y + 6 * np.sin(a)
            points.append((x, y))
        fill = tuple(int(c) for c in np.clip(colour, 0, 255))
        draw.line(points, fill=fill, width=int(rng.integers(3, 8)), joint="curve")
    return image.filter(ImageFilter.SMOOTH)


def seam_ratios(image: Image.Image, tile: int) -> dict[str, float]:
    """The seam gradient ratios across tile columns and tile rows of a result."""
    from generation.style import TILE_OVERLAP
    from generation.style_tiling import seam_columns, seam_gradient_ratio

    array = np.asarray(image, dtype=np.float64) / 255.0
    height, width = array.shape[:2]
    return {
        "columns": round(seam_gradient_ratio(array, seam_columns(width, tile, TILE_OVERLAP)), 3),
        "rows": round(
            seam_gradient_ratio(array.transpose(1, 0, 2), seam_columns(height, tile, TILE_OVERLAP)),
            3,
        ),
    }


def save_views(name: str, image: Image.Image, recipe: dict, full_dir: Path, crop_box) -> None:
    """Write the full PNG to `full_dir`, and a 1024 px view, a 1:1 crop and the recipe to docs."""
    image.save(full_dir / f"{name}-2048.png")
    view = image.resize((1024, round(1024 * image.height / image.width)), Image.LANCZOS)
    view.save(DOCS / f"{name}-1024.jpg", quality=85, optimize=True)
    image.crop(crop_box).save(DOCS / f"{name}-crop.jpg", quality=90, optimize=True)
    (DOCS / f"{name}.json").write_text(json.dumps(recipe, indent=2, sort_keys=True) + "\n")


def strength_strip(pipeline, content: bytes, style: bytes, tile: int = 256) -> Image.Image:
    """China at strengths 0, 0.25, 0.5, 0.75, 1, then at 1 with the content's colours kept."""
    runs = [(f"strength {s:g}", {"strength": s}) for s in (0.0, 0.25, 0.5, 0.75, 1.0)]
    runs.append(("1, colours kept", {"preserve_colour": True}))
    cells = [(label, pipeline(content, style=style, size=tile, **kw).image) for label, kw in runs]
    width, height = cells[0][1].size
    strip = Image.new("RGB", (len(cells) * (width + 4) + 4, height + 28), "white")
    draw = ImageDraw.Draw(strip)
    font = ImageFont.load_default(size=15)
    for i, (label, image) in enumerate(cells):
        strip.paste(image, (4 + i * (width + 4), 4))
        draw.text((6 + i * (width + 4), height + 8), label, fill="black", font=font)
    return strip


def main() -> None:
    from generation.style import PRESET_TILE, TRANSFORM_SIZE, StylePipeline

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full-dir", type=Path, required=True, help="for the full 2048 px PNGs")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    args.full_dir.mkdir(parents=True, exist_ok=True)
    pipeline = StylePipeline(threads=args.threads)

    painting = swirl_painting()
    painting.save(DOCS / "swirl-painting.png", optimize=True)
    painting_bytes = (DOCS / "swirl-painting.png").read_bytes()
    china = (DOCS / "china.jpg").read_bytes()
    flower = (DOCS / "flower.jpg").read_bytes()

    started = time.perf_counter()
    result = pipeline(china, style=painting_bytes, size=2048)
    seconds = time.perf_counter() - started
    # the crop spans two tile columns' overlaps and a tile row's overlap
    save_views("china-swirl", result.image, result.recipe, args.full_dir, (540, 330, 1308, 842))
    print(
        f"china + swirl painting: {result.image.size} in {seconds:.1f} s, "
        f"seams {seam_ratios(result.image, TRANSFORM_SIZE)}"
    )

    started = time.perf_counter()
    result = pipeline(flower, presets={19: 0.6, 4: 0.4}, size=2048)
    seconds = time.perf_counter() - started
    save_views("flower-presets", result.image, result.recipe, args.full_dir, (640, 300, 1408, 812))
    print(
        f"flower + presets 19/4: {result.image.size} in {seconds:.1f} s, "
        f"seams {seam_ratios(result.image, PRESET_TILE)}"
    )

    strip = strength_strip(pipeline, china, painting_bytes)
    strip.save(DOCS / "strength-strip.jpg", quality=88, optimize=True)
    for path in sorted(DOCS.iterdir()):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
