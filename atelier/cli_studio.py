"""`atelier` commands for GAN studio work: generate, morph, breed, train.

Every picture is written with its recipe beside it (`NAME.json`) and inside it (the PNG's
`atelier_recipe` chunk, next to an AUTOMATIC1111 `parameters` chunk), so it can be made
again byte for byte. Bad input is refused before anything is written.

Examples:
    atelier generate --seed 1 --count 16 --truncation 0.7 --out pics --grid
    atelier breed pics/seed_1.json pics/seed_2.json --children 4 --mutation 0.2 --seed 7 --out kids
    atelier morph --seeds 1 2 --frames 24 --out morph.gif
    atelier train my_images/ --out runs/mine --steps 5000 --batch-size 32
"""

from __future__ import annotations

import json
import math
from pathlib import Path


def add_commands(add, group) -> None:
    """Add this module's commands with `atelier.cli.build_parser`'s `add` and `group` helpers."""
    from generation.recipes import DEFAULT_TRUNCATION
    from generation.upscale import UPSCALE_METHODS

    p = add(
        "generate",
        cmd_generate,
        "make GAN pictures from seeds: atelier generate --seed 1 --count 4 --out pics --grid",
        needs_db=False,
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the first picture (default 0)")
    p.add_argument("--count", type=int, default=1, help="pictures to make, 1-256 (default 1)")
    p.add_argument(
        "--truncation",
        type=float,
        default=DEFAULT_TRUNCATION,
        help=f"psi in [0, 1]: lower is more typical, less varied (default {DEFAULT_TRUNCATION})",
    )
    p.add_argument("--out", required=True, help="folder for the PNGs and their recipes")
    p.add_argument("--model", default=None, help="model folder (default: the bundled emoji64)")
    p.add_argument("--size", type=int, default=512, help="display size in pixels (default 512)")
    p.add_argument("--upscale", default="lanczos", choices=UPSCALE_METHODS)
    p.add_argument("--grid", action="store_true", help="also write grid.png of all pictures")


# --- helpers ------------------------------------------------------------------------------


def _command_error(message: str) -> Exception:
    from atelier.cli import CommandError

    return CommandError(message)


def _check_range(value, flag: str, low, high) -> None:
    """Refuse a flag's value outside [low, high] (NaN included), naming the flag."""
    if not (low <= value <= high):
        raise _command_error(f"{flag} must be in [{low}, {high}], got {value}")


def _out_dir(value: str) -> Path:
    out = Path(value)
    if out.exists() and not out.is_dir():
        raise _command_error(f"--out must be a folder, but {out} is a file")
    return out


def _write_files(files: dict[Path, bytes]) -> None:
    """Write every file only after all of them were made, so a refusal writes nothing."""
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)


def _recipe_json(recipe: dict) -> bytes:
    return (json.dumps(recipe, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _grid(images: list, tile: int, padding: int = 4):
    """Tile display images (resized to `tile` px with Lanczos) with grey gaps."""
    from PIL import Image

    columns = math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / columns)
    step = tile + padding
    # a light grey gap: the pictures themselves are mostly white
    size = (columns * step + padding, rows * step + padding)
    grid = Image.new("RGB", size, (224, 224, 224))
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        if image.size != (tile, tile):
            image = image.resize((tile, tile), Image.Resampling.LANCZOS)
        grid.paste(image, (padding + c * step, padding + r * step))
    return grid


def _png(image) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def _picture_entries(names: list[str], out: Path, images, recipes, extra) -> tuple[dict, list]:
    """PNG + recipe files for each picture, and their descriptions for --json."""
    from generation.gan_pipeline import encode_png
    from generation.recipes import describe

    files: dict[Path, bytes] = {}
    entries = []
    for name, image, recipe, more in zip(names, images, recipes, extra, strict=True):
        png, js = out / f"{name}.png", out / f"{name}.json"
        files[png] = encode_png(image, recipe)
        files[js] = _recipe_json(recipe)
        entries.append({**more, "png": str(png), "recipe": str(js), **describe(recipe)})
    return files, entries


# --- generate -----------------------------------------------------------------------------


def cmd_generate(args, settings) -> None:
    """Make `--count` pictures from seeds `--seed`, `--seed + 1`, ... with their recipes."""
    from atelier.cli import _emit
    from generation.gan_pipeline import MAX_IMAGES, load_model
    from generation.recipes import MAX_SEED
    from generation.upscale import MAX_DISPLAY_SIZE, MIN_DISPLAY_SIZE

    _check_range(args.count, "--count", 1, MAX_IMAGES)
    _check_range(args.seed, "--seed", 0, MAX_SEED - args.count + 1)
    _check_range(args.truncation, "--truncation", 0, 1)
    _check_range(args.size, "--size", MIN_DISPLAY_SIZE, MAX_DISPLAY_SIZE)
    out = _out_dir(args.out)
    pipeline = load_model(args.model)
    result = pipeline(
        num_images=args.count,
        seed=args.seed,
        truncation=args.truncation,
        size=args.size,
        upscale=args.upscale,
    )
    names = [f"seed_{s}" for s in result.seeds]
    files, entries = _picture_entries(
        names, out, result.images, result.recipes, [{"seed": s} for s in result.seeds]
    )
    grid_path = None
    if args.grid:
        grid_path = out / "grid.png"
        files[grid_path] = _png(_grid(result.images, min(args.size, 256)))
    _write_files(files)
    data = {
        "model_sha256": pipeline.model_sha256,
        "model_name": pipeline.model_name,
        "count": len(entries),
        "truncation": float(args.truncation),
        "size": args.size,
        "upscale": args.upscale,
        "images": entries,
        "grid": str(grid_path) if grid_path else None,
    }
    last = result.seeds[-1]
    seeds = f"seed {args.seed}" if last == args.seed else f"seeds {args.seed}-{last}"
    lines = [
        f"wrote {len(entries)} picture(s) ({seeds}, truncation {args.truncation:g}, "
        f"{args.size} px) to {out} with model {pipeline.model_name} "
        f"({pipeline.model_sha256[:12]})"
    ]
    lines += [f"  {e['png']}" for e in entries]
    if grid_path:
        lines.append(f"  {grid_path}")
    _emit(args, data, "\n".join(lines))
