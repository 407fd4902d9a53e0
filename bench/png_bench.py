"""Time and size of the PNGs the studio writes, by zlib compression level.

    python bench/png_bench.py [--levels 1 3 4 6 9] [--repeats 3]

Pictures: 16 bundled-GAN samples upscaled to 512 px (seeds 0-15, psi 0.7), and
docs/style/china.jpg stylised at 2048 px by docs/style/flower.jpg and by preset 19. Each is
written with `PIL.Image.save(format="PNG", compress_level=L)`; the time is the median over
`--repeats` runs. Pixels never depend on the level. Writes bench/results/png.json.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def pictures() -> dict[str, list]:
    import torch

    from generation.gan_pipeline import load_model
    from generation.style import StyleModels, StylePipeline

    torch.set_num_threads(1)
    content = (ROOT / "docs/style/china.jpg").read_bytes()
    style = (ROOT / "docs/style/flower.jpg").read_bytes()
    pipeline = StylePipeline(models=StyleModels(threads=1))
    return {
        "gan 512 px (16 pictures)": load_model()(
            num_images=16, seed=0, truncation=0.7, size=512
        ).images,
        "style picture 2048 px": [pipeline(content, style=style, size=2048).image],
        "preset 19 2048 px": [pipeline(content, presets=19, size=2048).image],
    }


def measure(images: list, level: int, repeats: int) -> dict:
    times, size = [], 0
    for _ in range(repeats):
        size = 0
        start = time.perf_counter()
        for image in images:
            buffer = io.BytesIO()
            image.save(buffer, format="PNG", compress_level=level)
            size += buffer.tell()
        times.append((time.perf_counter() - start) / len(images))
    return {
        "ms_per_picture": statistics.median(times) * 1e3,
        "kb_per_picture": size / len(images) / 1e3,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 3, 4, 6, 9])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/png.json")
    args = parser.parse_args()
    results = {}
    for name, images in pictures().items():
        rows = {}
        for level in args.levels:
            rows[level] = row = measure(images, level, args.repeats)
            print(
                f"{name:26s} level {level}: {row['ms_per_picture']:8.1f} ms, "
                f"{row['kb_per_picture']:8.0f} KB per picture",
                flush=True,
            )
        results[name] = rows
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
