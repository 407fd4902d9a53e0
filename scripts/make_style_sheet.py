"""Build the preset preview sheet: one content picture in all 26 presets, numbered and named.

Each tile is made by `generation.style.StylePipeline` with one preset at strength 1, the way
`atelier style CONTENT --preset N` makes it (at a small size).

Example:
    python scripts/make_style_sheet.py --content docs/style/china.jpg --out docs/style_presets.png
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

COLUMNS = 7
LABEL_HEIGHT = 24
PAD = 6


def build_sheet(content: bytes, tile: int, threads: int = 1):
    """The sheet as a PIL image: the original first, then presets 0-25, each labelled.

    Args:
        content: The content picture's file bytes.
        tile: The longer side of each tile in pixels.
        threads: onnxruntime threads.

    Returns:
        An RGB `PIL.Image.Image`.
    """
    from PIL import Image, ImageDraw, ImageFont

    from generation.style import StylePipeline
    from generation.style_presets import PRESET_COUNT, PRESET_NAMES

    pipeline = StylePipeline(threads=threads)
    original = pipeline(content, presets=0, strength=0.0, size=tile).image  # the content itself
    cells = [("original", original)]
    for number in range(PRESET_COUNT):
        image = pipeline(content, presets=number, size=tile).image
        cells.append((f"{number}  {PRESET_NAMES[number]}", image))
    width, height = original.size
    rows = -(-len(cells) // COLUMNS)
    sheet = Image.new(
        "RGB",
        (COLUMNS * (width + PAD) + PAD, rows * (height + LABEL_HEIGHT + PAD) + PAD),
        "white",
    )
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=15)
    for index, (label, image) in enumerate(cells):
        row, column = divmod(index, COLUMNS)
        x, y = PAD + column * (width + PAD), PAD + row * (height + LABEL_HEIGHT + PAD)
        sheet.paste(image, (x, y))
        draw.text((x + 2, y + height + 4), label, fill="black", font=font)
    return sheet


def main() -> None:
    from PIL import Image

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--content", default="docs/style/china.jpg")
    parser.add_argument("--out", default="docs/style_presets.png")
    parser.add_argument("--tile", type=int, default=216, help="longer side of a tile (px)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    sheet = build_sheet(Path(args.content).read_bytes(), args.tile, args.threads)
    # 256 colours keep the sheet small enough for the docs without visible banding
    sheet.quantize(colors=256, dither=Image.Dither.NONE).save(args.out, optimize=True)
    print(
        f"wrote {args.out} ({sheet.width}x{sheet.height}, {Path(args.out).stat().st_size:,} bytes)"
        f" in {time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
