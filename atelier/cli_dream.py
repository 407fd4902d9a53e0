"""`atelier dream`: DeepDream a picture (octave gradient ascent on a layer of MobileNetV2).

The PNG is written with its recipe inside and beside it (`NAME.json`, ready for
`atelier register --recipe`). Bad input is refused before anything is written.

Examples:
    atelier dream photo.jpg --out dream.png
    atelier dream photo.jpg --layer block5 --octaves 5 --steps 12 --strength 1.5 --out d.png
    atelier dream --list-layers
"""

from __future__ import annotations

import json
from pathlib import Path

from atelier.cli_common import CommandError, emit, existing_file, parse_number, write_files


def add_commands(add, group) -> None:
    """Add this module's commands with `atelier.cli.build_parser`'s `add` and `group` helpers."""
    from generation import dream

    p = add(
        "dream",
        cmd_dream,
        "DeepDream: atelier dream photo.jpg --layer block10 --out dream.png",
        needs_db=False,
    )
    p.add_argument("content", nargs="?", help="the picture to dream on")
    p.add_argument(
        "--layer",
        default=dream.DEFAULT_LAYER,
        help=f"the network layer whose patterns grow, {dream.DREAM_LAYERS[0]} (strokes) to "
        f"{dream.DREAM_LAYERS[-1]} (shapes); default {dream.DEFAULT_LAYER}",
    )
    p.add_argument(
        "--octaves",
        default=str(dream.DEFAULT_OCTAVES),
        help=f"scales to work at, {dream.MIN_OCTAVES}-{dream.MAX_OCTAVES} "
        f"(default {dream.DEFAULT_OCTAVES})",
    )
    p.add_argument(
        "--steps",
        default=str(dream.DEFAULT_STEPS),
        help=f"steps per octave, {dream.MIN_STEPS}-{dream.MAX_STEPS} "
        f"(default {dream.DEFAULT_STEPS})",
    )
    p.add_argument(
        "--strength",
        default=str(dream.DEFAULT_STRENGTH),
        help=f"how far each step moves the pixels, 0-{dream.MAX_STRENGTH:g} "
        f"(default {dream.DEFAULT_STRENGTH:g})",
    )
    p.add_argument(
        "--size",
        default=str(dream.DEFAULT_SIZE),
        help=f"longer side of the output, {dream.MIN_SIZE}-{dream.MAX_SIZE} px "
        f"(default {dream.DEFAULT_SIZE})",
    )
    p.add_argument("--seed", default="0", help="seeds the random shifts (default 0)")
    p.add_argument("--out", default=None, help="the PNG to write (its recipe goes to NAME.json)")
    p.add_argument(
        "--list-layers", action="store_true", help="print the layers one may dream with, then stop"
    )


def cmd_dream(args, settings) -> None:
    from generation import dream

    if args.list_layers:
        emit(args, {"layers": list(dream.DREAM_LAYERS)}, "\n".join(dream.DREAM_LAYERS))
        return
    if args.content is None:
        raise CommandError("give the picture to dream on")
    if args.out is None:
        raise CommandError("give the output PNG with --out FILE.png")
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise CommandError(f"--out must name a .png file, got {args.out!r}")
    if out.is_dir():
        raise CommandError(f"--out must be a file, but {out} is a folder")
    content = existing_file(args.content, "content")
    result = dream.dream(
        content.read_bytes(),
        layer=args.layer,
        octaves=parse_number(args.octaves, "--octaves", int),
        steps=parse_number(args.steps, "--steps", int),
        strength=parse_number(args.strength, "--strength"),
        size=parse_number(args.size, "--size", int),
        seed=parse_number(args.seed, "--seed", int),
    )
    recipe = result.recipe
    width, height = result.image.size
    recipe_path = out.with_suffix(".json")
    recipe_json = json.dumps(recipe, indent=2, sort_keys=True) + "\n"
    write_files({out: result.png(), recipe_path: recipe_json.encode("utf-8")})
    emit(
        args,
        {"out": str(out), "recipe_file": str(recipe_path), "recipe": recipe},
        f"wrote {out} ({width}x{height}), dreamed with {recipe['layer']}, "
        f"{recipe['octaves']} octaves of {recipe['steps']} steps, strength "
        f"{recipe['strength']:g}; recipe in {recipe_path}",
    )
