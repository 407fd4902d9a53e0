"""GAN sampling speed through the library (recipes, PNG) against a raw generator forward pass.

Everything runs on one torch thread, as the pipeline does. Calls being compared are timed in
alternation (median per call), so a busy machine slows them alike. For batch sizes 1 and 64
it times:
- raw: `generator(z)` under `torch.no_grad()` on latents made beforehand;
- library, native: `GANPipeline.__call__` at the model's own size (recipes built, latents
  drawn per seed, truncation, uint8 PIL images) with PNG encoding off;
- library, 512 px: the same with Lanczos upscaling to 512, PNG off;
- library, 512 px + PNG: plus `generation.recipe_kinds.png_with_recipe` (A1111 parameters
  and recipe chunks).

With `--upscale` it also compares the resampling filters on training images: each is
shrunk 4x with a box filter, enlarged back with the filter, and compared with the original
(PSNR, sharpness = mean gradient magnitude relative to the original's, and overshoot =
mean amount by which a pixel leaves the range of its four nearest source pixels, i.e.
ringing), plus the time to enlarge a 64 px picture to 512 px.

Example:
    python bench/gan_bench.py --upscale /work/atelier-data/emoji64/images
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def interleaved_rates(fns: dict, images_per_call: int, seconds: float) -> dict:
    """Images per second of each function, timed in alternation so they share the same load.

    Each round calls every function once (after one warm-up round); rounds continue until
    `seconds` have passed (at least 5). Returns, per function, the rate from the median
    call time and from the fastest call (the machine's best case: less noise from the
    training job sharing the CPU).
    """
    for fn in fns.values():
        fn()
    times: dict = {name: [] for name in fns}
    start = time.perf_counter()
    while len(times[next(iter(fns))]) < 5 or time.perf_counter() - start < seconds:
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {
        name: {
            "median": images_per_call / statistics.median(ts),
            "best": images_per_call / min(ts),
            "calls": len(ts),
        }
        for name, ts in times.items()
    }


def sampling(model_dir: Path | None, seconds: float) -> dict:
    import torch

    from generation.gan_pipeline import load_model
    from generation.recipe_kinds import png_with_recipe

    pipe = load_model(model_dir)
    g = pipe.generator
    results = {}
    for batch in (1, 64):
        z = torch.randn(batch, g.latent_dim, generator=torch.Generator().manual_seed(0))

        def raw(z=z):
            with torch.no_grad():
                g(z)

        def native(batch=batch):
            pipe(num_images=batch, seed=1000, truncation=0.7)

        def display(batch=batch):
            pipe(num_images=batch, seed=1000, truncation=0.7, size=512)

        def with_png(batch=batch):
            out = pipe(num_images=batch, seed=1000, truncation=0.7, size=512)
            for image, recipe in zip(out.images, out.recipes, strict=True):
                png_with_recipe(image, recipe)

        torch.set_num_threads(1)
        fast = interleaved_rates(
            {"raw_forward": raw, "library_native_png_off": native}, batch, seconds
        )
        slow = interleaved_rates(
            {"library_512_png_off": display, "library_512_png_on": with_png}, batch, seconds
        )
        row = {**fast, **slow}
        for kind in ("native_png_off", "512_png_off", "512_png_on"):
            for stat in ("median", "best"):
                row[f"ratio_{kind}_{stat}"] = (
                    row["raw_forward"][stat] / row[f"library_{kind}"][stat]
                )
        results[f"batch_{batch}"] = row
    return {"model_sha256": pipe.model_sha256, "model_name": pipe.model_name, **results}


def upscalers(folder: Path, count: int) -> dict:
    import numpy as np
    from PIL import Image

    from generation.upscale import UPSCALE_METHODS, upscale

    files = sorted(folder.glob("*.png"))[:count]
    originals = [np.asarray(Image.open(f).convert("RGB"), dtype=np.float64) for f in files]
    side = originals[0].shape[0]
    small_side = side // 4

    def gradient(a: np.ndarray) -> float:
        grey = a.mean(axis=2)
        return float(
            np.mean(np.abs(np.diff(grey, axis=0))) + np.mean(np.abs(np.diff(grey, axis=1)))
        )

    out = {}
    for method in UPSCALE_METHODS:
        psnrs, sharp, over = [], [], []
        for original in originals:
            small_image = Image.fromarray(original.astype(np.uint8)).resize(
                (small_side, small_side), Image.Resampling.BOX
            )
            small = np.asarray(small_image, dtype=np.float64)
            big = np.asarray(upscale(small_image, side, method), dtype=np.float64)
            mse = float(np.mean((big - original) ** 2))
            psnrs.append(10 * np.log10(255**2 / mse) if mse > 0 else 99.0)
            sharp.append(gradient(big) / max(gradient(original), 1e-9))
            # range of the 2x2 nearest source pixels around each output pixel
            centres = (np.arange(side) + 0.5) / 4 - 0.5
            lo_i = np.clip(np.floor(centres).astype(int), 0, small_side - 1)
            hi_i = np.clip(lo_i + 1, 0, small_side - 1)
            corners = np.stack(
                [small[np.ix_(r, c)] for r in (lo_i, hi_i) for c in (lo_i, hi_i)]
            )  # (4, side, side, 3)
            lo, hi = corners.min(axis=0), corners.max(axis=0)
            over.append(float(np.mean(np.maximum(big - hi, 0) + np.maximum(lo - big, 0))))
        tiny = Image.fromarray(originals[0].astype(np.uint8))
        seconds = min(
            _time(lambda tiny=tiny, method=method: upscale(tiny, 512, method)) for _ in range(5)
        )
        out[method] = {
            "psnr_db": float(np.mean(psnrs)),
            "sharpness_vs_original": float(np.mean(sharp)),
            "overshoot_levels": float(np.mean(over)),
            "ms_64_to_512": seconds * 1000,
        }
    return {"images": len(originals), "factor": 4, "source_size": side, "methods": out}


def _time(fn, n: int = 20) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=None, help="default: the bundled model")
    parser.add_argument("--seconds", type=float, default=10.0, help="time per comparison")
    parser.add_argument(
        "--upscale", type=Path, default=None, help="folder of training PNGs to compare filters on"
    )
    parser.add_argument("--upscale-images", type=int, default=300)
    parser.add_argument("--out", type=Path, default=Path("bench/results/gan.json"))
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    result = {
        "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "machine": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "cpu_count": __import__("os").cpu_count(),
            "torch_threads": 1,
        },
        "sampling": sampling(args.model, args.seconds),
    }
    s = result["sampling"]
    print(f"model {s['model_name']} ({s['model_sha256'][:12]}), 1 thread, images/s:")
    for batch in ("batch_1", "batch_64"):
        r = s[batch]
        for stat in ("median", "best"):
            print(
                f"  {batch} ({stat} call): raw {r['raw_forward'][stat]:.0f} | "
                f"library native, PNG off {r['library_native_png_off'][stat]:.0f} "
                f"(library/raw time {r[f'ratio_native_png_off_{stat}']:.2f}x) | "
                f"512 px, PNG off {r['library_512_png_off'][stat]:.0f} "
                f"({r[f'ratio_512_png_off_{stat}']:.2f}x) | "
                f"512 px, PNG on {r['library_512_png_on'][stat]:.1f} "
                f"({r[f'ratio_512_png_on_{stat}']:.1f}x)"
            )
    if args.upscale:
        result["upscale"] = upscalers(args.upscale, args.upscale_images)
        u = result["upscale"]
        print(
            f"upscalers on {u['images']} training images ({u['source_size']} px shrunk "
            f"{u['factor']}x and enlarged back):"
        )
        for name, m in u["methods"].items():
            print(
                f"  {name:8s} PSNR {m['psnr_db']:.2f} dB, "
                f"sharpness {m['sharpness_vs_original']:.3f} of the original's, "
                f"overshoot {m['overshoot_levels']:.3f} levels, "
                f"{m['ms_64_to_512']:.2f} ms for 64->512 px"
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
