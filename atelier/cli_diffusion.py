"""`atelier` commands for text-to-image and image-to-image through diffusers.

    atelier txt2img "a lighthouse at dusk, oil painting" --seed 1 --steps 20 --out light.png
    atelier img2img photo.png "the same, as a watercolour" --strength 0.6 --seed 1 \\
        --steps 30 --out watercolour.png

The model is `--model DIR_OR_ID`, else `ATELIER_DIFFUSION_MODEL` (docs/DIFFUSION.md). The PNG
carries the recipe as an A1111 `parameters` chunk and as JSON (`atelier_recipe`).
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

from atelier.cli_common import CommandError, emit, write_files

_SIZE = re.compile(r"\s*(\d{1,5})\s*[xX]\s*(\d{1,5})\s*")


def add_commands(add, group) -> None:
    """Add this module's commands with `atelier.cli.build_parser`'s `add` and `group` helpers."""
    p = add(
        "txt2img",
        cmd_txt2img,
        "make an image from text with a diffusers model: atelier txt2img "
        "'a lighthouse at dusk' --seed 1 --steps 20 --out lighthouse.png",
        needs_db=False,
    )
    p.add_argument("prompt", help="what to draw")
    _add_generation_options(p)

    p = add(
        "img2img",
        cmd_img2img,
        "repaint an image guided by text: atelier img2img photo.png 'as a watercolour' "
        "--strength 0.6 --seed 1 --steps 30 --out watercolour.png",
        needs_db=False,
    )
    p.add_argument("init_image", metavar="INIT_IMAGE", help="the image to start from")
    p.add_argument("prompt", help="what to draw")
    p.add_argument(
        "--strength",
        type=float,
        default=0.75,
        help="how much to repaint, in (0, 1]; runs int(steps * strength) steps (default 0.75)",
    )
    _add_generation_options(p, size_help="WIDTHxHEIGHT (default: INIT_IMAGE's, rounded to 8)")


def _add_generation_options(p, size_help: str = "WIDTHxHEIGHT (default: the model's)") -> None:
    p.add_argument("--seed", type=int, required=True, help="0 to 4294967295")
    p.add_argument("--steps", type=int, required=True, help="denoising steps, 1 to 150")
    p.add_argument("--guidance", type=float, default=7.5, help="CFG scale, 0 to 30 (default 7.5)")
    p.add_argument("--size", default=None, metavar="WxH", help=f"multiples of 8; {size_help}")
    p.add_argument("--negative", default="", metavar="TEXT", help="negative prompt")
    p.add_argument(
        "--model",
        default=None,
        metavar="DIR_OR_ID",
        help="a diffusers pipeline folder or hub id (default: $ATELIER_DIFFUSION_MODEL)",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="CLASS",
        help="a diffusers scheduler class, e.g. EulerDiscreteScheduler (default: the model's)",
    )
    p.add_argument("--out", required=True, metavar="FILE", help="the PNG to write")


def cmd_txt2img(args, settings) -> None:
    _generate(args, settings, init_image=None, strength=None)


def cmd_img2img(args, settings) -> None:
    from provenance.errors import InvalidImage
    from provenance.images import decode_image

    path = Path(args.init_image)
    if not path.is_file():
        raise CommandError(f"INIT_IMAGE: no such file: {path}")
    try:
        decoded = decode_image(path.read_bytes())
    except InvalidImage as exc:
        raise CommandError(f"INIT_IMAGE {path} cannot be used: {exc}") from None
    _generate(args, settings, init_image=decoded.rgb, strength=args.strength)


def _parse_size(text: str | None) -> tuple[int | None, int | None]:

    if text is None:
        return None, None
    match = _SIZE.fullmatch(text)
    if not match:
        raise CommandError(f"--size must look like WIDTHxHEIGHT (e.g. 512x512), got {text!r}")
    return int(match.group(1)), int(match.group(2))


def _generate(args, settings, *, init_image, strength) -> None:
    from generation.diffusion import DiffusionImagePipeline, check_request
    from generation.recipe_kinds import png_with_recipe

    width, height = _parse_size(args.size)
    out = Path(args.out)
    if not out.parent.is_dir():
        raise CommandError(f"--out: the folder {out.parent} does not exist")
    if out.is_dir():
        raise CommandError(f"--out: {out} is a folder; give a file name such as {out}/image.png")
    # refuse bad values before spending seconds on loading a model
    check_request(
        args.prompt,
        seed=args.seed,
        steps=args.steps,
        guidance=args.guidance,
        width=width,
        height=height,
        negative_prompt=args.negative,
        strength=strength,
        img2img=init_image is not None,
    )
    started = time.perf_counter()
    pipeline = DiffusionImagePipeline.from_pretrained(args.model or settings.diffusion_model)
    loaded = time.perf_counter()
    show_progress = not args.json and sys.stderr.isatty()

    def progress(fraction: float, message: str) -> None:
        if show_progress:
            print(f"\r{message}", end="" if fraction < 1 else "\n", file=sys.stderr)

    result = pipeline(
        args.prompt,
        seed=args.seed,
        steps=args.steps,
        guidance=args.guidance,
        width=width,
        height=height,
        negative_prompt=args.negative,
        init_image=init_image,
        strength=strength,
        scheduler=args.scheduler,
        progress=progress,
    )
    finished = time.perf_counter()
    data = png_with_recipe(result.image, result.recipe)
    write_files({out: data})
    recipe = result.recipe
    flagged = bool(result.nsfw_content_detected and result.nsfw_content_detected[0])
    summary = {
        "path": str(out),
        "bytes": len(data),
        "load_seconds": round(loaded - started, 3),
        "generate_seconds": round(finished - loaded, 3),
        "nsfw_content_detected": flagged if recipe["safety_checker"] else None,
        "recipe": recipe,
    }
    text = (
        f"wrote {out} ({recipe['width']}x{recipe['height']}, seed {recipe['seed']}, "
        f"{recipe['steps']} steps, {recipe['scheduler']}, model {recipe['model']} "
        f"{recipe['model_sha256'][:10]}) in {finished - loaded:.1f} s "
        f"(+{loaded - started:.1f} s loading)"
    )
    if not recipe["safety_checker"]:
        text += "; the model has no safety checker"
    elif flagged:
        text += "; the safety checker flagged it and blacked it out"
    emit(args, summary, text)
