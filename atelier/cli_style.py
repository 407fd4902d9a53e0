"""`atelier style`: paint a picture in the style of others, or of the 26 presets.

The PNG is written with its recipe inside (the `atelier_recipe` chunk, beside an
AUTOMATIC1111 `parameters` chunk) and beside it (`NAME.json`, ready for
`atelier register --recipe`). Bad input is refused before anything is written.

Examples:
    atelier style photo.jpg painting.png --size 2048 --out photo-painted.png
    atelier style photo.jpg a.png b.png --blend 0.7,0.3 --strength 0.8 --out mix.png
    atelier style photo.jpg --preset 19 --preset 4:0.5 --preserve-colour --out p.png --json
"""

from __future__ import annotations

import json
from pathlib import Path

from atelier.cli_common import CommandError, emit, existing_file, parse_number, write_files


def add_commands(add, group) -> None:
    """Add this module's commands with `atelier.cli.build_parser`'s `add` and `group` helpers."""
    from generation.style_limits import DEFAULT_SIZE, MAX_SIZE, MIN_SIZE

    p = add(
        "style",
        cmd_style,
        "style transfer: atelier style photo.jpg painting.png --size 2048 --out out.png "
        "(or --preset N[:W] ..., see `--list-presets`)",
        needs_db=False,
    )
    p.add_argument("content", nargs="?", help="the picture to paint")
    p.add_argument("styles", nargs="*", metavar="STYLE_IMAGE", help="style pictures (up to 8)")
    p.add_argument(
        "--preset",
        action="append",
        default=[],
        metavar="N[:W]",
        help="a preset 0-25 with an optional weight; repeat to blend: --preset 19 --preset 4:0.5",
    )
    p.add_argument(
        "--blend",
        default=None,
        metavar="W1,W2,...",
        help="weights for the style pictures (or for --preset numbers given without weights)",
    )
    p.add_argument(
        "--strength",
        default="1",
        help="0..1: style pictures interpolate the style embedding from the content's own, "
        "presets blend pixels with the content (default 1)",
    )
    p.add_argument(
        "--preserve-colour",
        "--preserve-color",
        action="store_true",
        help="keep the content's colours and take only the stylised brightness",
    )
    p.add_argument(
        "--size",
        default=str(DEFAULT_SIZE),
        help=f"longer side of the output, {MIN_SIZE}-{MAX_SIZE} px (default {DEFAULT_SIZE})",
    )
    p.add_argument("--out", default=None, help="the PNG to write (its recipe goes to NAME.json)")
    p.add_argument("--threads", default="1", help="onnxruntime threads (default 1)")
    p.add_argument(
        "--cache-dir",
        default=None,
        help="keep style embeddings as .npy files in this folder across runs",
    )
    p.add_argument(
        "--list-presets", action="store_true", help="print the preset numbers and names, then stop"
    )


def _parse_presets(specs: list[str]) -> tuple[list[int], list[float] | None]:
    """`--preset` values as numbers and weights (None when no weight was given at all)."""
    numbers: list[int] = []
    weights: list[float | None] = []
    for spec in specs:
        for part in spec.split(","):
            number, colon, weight = part.strip().partition(":")
            if not number.strip().isdigit():
                raise CommandError(f"--preset must look like N or N:W with N in 0-25, got {spec!r}")
            numbers.append(int(number))
            weights.append(parse_number(weight, "--preset weight") if colon else None)
    if all(w is None for w in weights):
        return numbers, None
    return numbers, [1.0 if w is None else w for w in weights]


def cmd_style(args, settings) -> None:
    from generation.recipe_kinds import png_with_recipe
    from generation.style import PRESET_NAMES, StylePipeline
    from generation.style_cache import DirectoryEmbeddingCache, MemoryEmbeddingCache

    if args.list_presets:
        presets = [{"number": i, "name": name} for i, name in enumerate(PRESET_NAMES)]
        emit(
            args,
            {"presets": presets},
            "\n".join(f"{p['number']:2d}  {p['name']}" for p in presets),
        )
        return
    if args.content is None:
        raise CommandError("give the CONTENT picture to stylise")
    if bool(args.styles) == bool(args.preset):
        raise CommandError("give style pictures or --preset, not both and not neither")
    if args.out is None:
        raise CommandError("give the output PNG with --out FILE.png")
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise CommandError(f"--out must name a .png file, got {args.out!r}")
    if out.is_dir():
        raise CommandError(f"--out must be a file, but {out} is a folder")
    content = existing_file(args.content, "content")
    strength = parse_number(args.strength, "--strength")
    if not 0.0 <= strength <= 1.0:
        raise CommandError(f"--strength must be in [0, 1], got {args.strength}")
    size = parse_number(args.size, "--size", int)
    threads = parse_number(args.threads, "--threads", int)
    blend = None
    if args.blend is not None:
        blend = [parse_number(w, "--blend weight") for w in args.blend.split(",")]

    kwargs: dict = {}
    if args.styles:
        kwargs["style"] = [existing_file(s, "style").read_bytes() for s in args.styles]
        kwargs["blend"] = blend
        names = [Path(s).name for s in args.styles]
    else:
        numbers, weights = _parse_presets(args.preset)
        if weights is not None and blend is not None:
            raise CommandError("give preset weights as --preset N:W or with --blend, not both")
        kwargs["presets"] = numbers
        kwargs["blend"] = weights if weights is not None else blend
        names = [
            f"{n} {PRESET_NAMES[n]}" if 0 <= n < len(PRESET_NAMES) else str(n) for n in numbers
        ]
    cache = DirectoryEmbeddingCache(args.cache_dir) if args.cache_dir else MemoryEmbeddingCache()
    result = StylePipeline(threads=threads, cache=cache)(
        content.read_bytes(),
        strength=strength,
        preserve_colour=args.preserve_colour,
        size=size,
        **kwargs,
    )

    recipe = result.recipe
    width, height = result.image.size
    recipe_json = json.dumps(recipe, indent=2, sort_keys=True) + "\n"
    png = png_with_recipe(result.image, recipe)
    recipe_path = out.with_suffix(".json")
    write_files({out: png, recipe_path: recipe_json.encode("utf-8")})
    emit(
        args,
        {"out": str(out), "recipe_file": str(recipe_path), "recipe": recipe},
        f"wrote {out} ({width}x{height}) in the style of {' + '.join(names)}, "
        f"strength {recipe['strength']:g}{', content colours' if args.preserve_colour else ''}; "
        f"recipe in {recipe_path}",
    )
