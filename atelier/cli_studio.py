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
import sys
from pathlib import Path

from atelier.cli_common import CommandError, check_range, emit, parse_number, write_files


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
    p.add_argument(
        "--gene",
        action="append",
        default=[],
        metavar="NAME=AMOUNT",
        help="move every picture along a gene, -3 to 3 (repeat; `atelier genes` lists them): "
        "--gene person=2 --gene 'big hair=-1'",
    )

    p = add(
        "project",
        cmd_project,
        "your picture in the model (GAN inversion): atelier project photo.png --out proj",
        needs_db=False,
    )
    p.add_argument("picture", help="the picture to project")
    p.add_argument("--out", required=True, help="folder for the PNG and its recipe")
    p.add_argument("--steps", type=int, default=150, help="search steps, 10-400 (default 150)")
    p.add_argument("--seed", type=int, default=0, help="seeds the starting candidates")
    p.add_argument("--size", type=int, default=512, help="display size in pixels (default 512)")
    p.add_argument("--model", default=None, help="model folder (default: the bundled emoji64)")
    p.add_argument(
        "--gene", action="append", default=[], metavar="NAME=AMOUNT", help="as for generate"
    )

    p = add(
        "genes",
        cmd_genes,
        "list a GAN model's genes (named latent directions): atelier genes",
        needs_db=False,
    )
    p.add_argument("--model", default=None, help="model folder (default: the bundled emoji64)")

    p = add(
        "breed",
        cmd_breed,
        "children of two GAN pictures by latent crossover: "
        "atelier breed a.json b.json --children 4 --mutation 0.2 --seed 7 --out kids",
        needs_db=False,
    )
    p.add_argument("parent_a", help="recipe .json (or a studio PNG) of the first parent")
    p.add_argument("parent_b", help="recipe .json (or a studio PNG) of the second parent")
    p.add_argument("--children", type=int, default=4, help="children to make, 1-64 (default 4)")
    p.add_argument(
        "--mutation",
        type=float,
        default=0.1,
        help="strength of the random change added to each child, 0-1 (default 0.1)",
    )
    p.add_argument("--seed", type=int, default=0, help="crossover seed (default 0)")
    p.add_argument("--out", required=True, help="folder for the children and their recipes")
    p.add_argument("--model", default=None, help="model folder, if not the bundled one")
    p.add_argument("--size", type=int, default=None, help="display size (default: parent A's)")
    p.add_argument("--grid", action="store_true", help="also write grid.png of all children")

    p = add(
        "morph",
        cmd_morph,
        "an animated morph between two GAN pictures: "
        "atelier morph --seeds 1 2 --frames 24 --out morph.gif",
        needs_db=False,
    )
    ends = p.add_mutually_exclusive_group(required=True)
    ends.add_argument("--seeds", nargs=2, type=int, metavar=("A", "B"), help="two seeds")
    ends.add_argument(
        "--recipes", nargs=2, metavar=("A.json", "B.json"), help="two recipes (or studio PNGs)"
    )
    p.add_argument("--frames", type=int, required=True, help="number of frames, 2-120")
    p.add_argument("--out", required=True, help="the animation: FILE.gif or FILE.webp")
    p.add_argument("--model", default=None, help="model folder (default: the bundled emoji64)")
    p.add_argument(
        "--truncation",
        type=float,
        default=DEFAULT_TRUNCATION,
        help=f"psi for --seeds, in [0, 1] (default {DEFAULT_TRUNCATION})",
    )
    p.add_argument(
        "--size", type=int, default=None, help="display size (default 512, or recipe A's)"
    )
    p.add_argument("--upscale", default=None, choices=UPSCALE_METHODS)
    p.add_argument(
        "--frame-ms", type=int, default=80, help="milliseconds per frame, 20-1000 (default 80)"
    )

    p = add(
        "train",
        cmd_train,
        "train a GAN on a folder of images: "
        "atelier train my_images/ --out runs/mine --steps 5000 --batch-size 32 --as ada",
    )
    p.add_argument("data_dir", help="folder of at least 20 images (and nothing else)")
    p.add_argument(
        "--as",
        dest="as_user",
        default=None,
        metavar="NAME",
        help="who trains: images that are registered artworks must be theirs or licensed "
        "to them (without --as, no registered artwork may be among the images)",
    )
    p.add_argument(
        "--out", required=True, help="run folder: checkpoint, samples/, loss_curve.png, model/"
    )
    p.add_argument("--steps", type=int, default=20_000, help="steps to reach (default 20000)")
    p.add_argument("--batch-size", type=int, default=64, help="images per step (default 64)")
    p.add_argument(
        "--image-size", type=int, default=64, choices=(64, 128, 256), help="256: fastgan only"
    )
    p.add_argument(
        "--architecture",
        choices=("dcgan", "fastgan"),
        default="dcgan",
        help="dcgan (default: small and quick on a CPU) or fastgan (skip-layer excitation "
        "and a self-supervised discriminator: sharper, for a GPU)",
    )
    p.add_argument(
        "--device",
        default="auto",
        help="cpu, cuda, cuda:N or auto (default: a GPU when there is one); "
        "a checkpoint resumes on any device",
    )
    p.add_argument(
        "--precision",
        choices=("auto", "fp32", "bf16"),
        default="auto",
        help="bf16 autocast (default on a GPU that supports it) or fp32",
    )
    p.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its checkpoint"
    )
    p.add_argument(
        "--sample-every", type=int, default=500, help="steps between sample grids (0: never)"
    )
    p.add_argument(
        "--checkpoint-every",
        type=int,
        default=300,
        help="seconds between checkpoints (default 300; one is always written at the end)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the whole run (default 0)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    p.add_argument("--no-progress-bar", action="store_true", help="no progress bar on stderr")


# --- helpers ------------------------------------------------------------------------------


def _check_training_rights(ctx, data_dir: Path, as_user: str | None) -> None:
    """Refuse images that are registered artworks `as_user` may not train on (all of them
    when no user is named). Unreadable files are left to the training's own checks."""
    from marketplace.accounts import find_user
    from marketplace.errors import InvalidInput, NotOwner
    from marketplace.training_jobs import check_training_rights

    images = [
        (path.name, path.read_bytes())
        for path in sorted(data_dir.iterdir())
        if path.is_file() and not path.name.startswith(".")
    ]
    with ctx.sessions() as s:
        user_id = find_user(s, as_user).id if as_user else None
        try:
            check_training_rights(s, user_id, images, blobs=ctx.blobs)
        except InvalidInput:
            return  # a non-image: `train` names every such file
        except NotOwner as exc:
            if user_id is None:
                raise NotOwner(f"{exc}; to train on your own works, pass --as NAME") from None
            raise


def _out_dir(value: str) -> Path:
    out = Path(value)
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out must be a folder, but {out} is a file")
    return out


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

    from generation.parameters import PNG_COMPRESS_LEVEL

    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


def _picture_entries(names: list[str], out: Path, images, recipes, extra) -> tuple[dict, list]:
    """PNG + recipe files for each picture, and their descriptions for --json."""
    from generation.recipe_kinds import png_with_recipe
    from generation.recipes import describe

    files: dict[Path, bytes] = {}
    entries = []
    for name, image, recipe, more in zip(names, images, recipes, extra, strict=True):
        png, js = out / f"{name}.png", out / f"{name}.json"
        files[png] = png_with_recipe(image, recipe)
        files[js] = _recipe_json(recipe)
        entries.append({**more, "png": str(png), "recipe": str(js), **describe(recipe)})
    return files, entries


def _read_recipe(value: str) -> dict:
    """A GAN recipe from a .json file, or from the `atelier_recipe` chunk of a studio PNG."""
    from generation.errors import GenerationError
    from generation.parameters import PNG_SIGNATURE, read_recipe
    from generation.recipes import validate_recipe

    path = Path(value)
    if not path.is_file():
        raise CommandError(f"no such recipe file: {path}")
    data = path.read_bytes()
    if data.startswith(PNG_SIGNATURE):
        recipe = read_recipe(data)
        if recipe is None:
            raise CommandError(f"{path} is a PNG without an Atelier recipe in it")
    else:
        try:
            recipe = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"cannot read the recipe {path}: not JSON ({exc})") from None
    try:
        return validate_recipe(recipe)
    except GenerationError as exc:
        raise CommandError(f"{path}: {exc}") from None


def _pipeline_for(recipes: list[dict], names: list[str], model: str | None):
    """The pipeline of the model that made all `recipes`, refusing a mix of models."""
    from generation.gan_pipeline import default_model_resolver, load_model

    shas = [r["model_sha256"] for r in recipes]
    if len(set(shas)) > 1:
        raise CommandError(
            f"{names[0]} and {names[1]} were made by different models "
            f"({shas[0][:12]} and {shas[1][:12]}); use two pictures of the same model"
        )
    if model is None:
        return load_model(default_model_resolver(shas[0]))
    pipeline = load_model(model)
    if pipeline.model_sha256 != shas[0]:
        raise CommandError(
            f"the recipes were made by model {shas[0][:12]}, "
            f"but --model {model} is model {pipeline.model_sha256[:12]}"
        )
    return pipeline


# --- generate -----------------------------------------------------------------------------


def _gene_edits(specs: list[str]) -> dict[str, float]:
    """`--gene NAME=AMOUNT` values as {name: amount}, naming a malformed one."""
    edits: dict[str, float] = {}
    for spec in specs:
        name, equals, amount = spec.rpartition("=")
        if not equals or not name.strip():
            raise CommandError(f"--gene must look like NAME=AMOUNT, got {spec!r}")
        edits[name.strip()] = parse_number(amount, f"--gene {name.strip()}")
    return edits


def cmd_project(args, settings) -> None:
    """Project a picture into a model and write the model's picture with its recipe."""
    from generation.gan_pipeline import load_model
    from generation.projection import MAX_STEPS, MIN_STEPS, project
    from generation.recipes import MAX_SEED
    from generation.upscale import MAX_DISPLAY_SIZE, MIN_DISPLAY_SIZE

    check_range(args.steps, "--steps", MIN_STEPS, MAX_STEPS)
    check_range(args.seed, "--seed", 0, MAX_SEED)
    check_range(args.size, "--size", MIN_DISPLAY_SIZE, MAX_DISPLAY_SIZE)
    picture = Path(args.picture)
    if not picture.is_file():
        raise CommandError(f"no such picture: {args.picture}")
    edits = _gene_edits(args.gene)
    pipeline = load_model(args.model)
    result = project(
        pipeline,
        picture.read_bytes(),
        steps=args.steps,
        seed=args.seed,
        size=args.size,
        genes=edits,
    )
    out = _out_dir(args.out)
    name = f"{picture.stem[:60]}-projected"
    files, entries = _picture_entries([name], out, [result.image], [result.recipe], [{}])
    write_files(files)
    emit(
        args,
        {
            "model_sha256": pipeline.model_sha256,
            "images": entries,
            "search": result.recipe["search"],
        },
        f"wrote {entries[0]['png']}: {picture.name} projected into {pipeline.model_name} in "
        f"{args.steps} steps (loss {result.recipe['search']['loss']:g})",
    )


def cmd_genes(args, settings) -> None:
    """List a model's genes with what each does."""
    from generation.gan_pipeline import load_model

    pipeline = load_model(args.model)
    genes = pipeline.genes
    if genes is None:
        emit(args, {"model_sha256": pipeline.model_sha256, "genes": []}, "this model has no genes")
        return
    rows = [{"name": n, "note": genes.notes.get(n, "")} for n in genes.names]
    emit(
        args,
        {"model_sha256": pipeline.model_sha256, "genes_sha256": genes.sha256, "genes": rows},
        "\n".join(f"{r['name']:<12} {r['note']}" for r in rows)
        + "\n(amounts -3 to 3: atelier generate --gene NAME=AMOUNT)",
    )


def cmd_generate(args, settings) -> None:
    """Make `--count` pictures from seeds `--seed`, `--seed + 1`, ... with their recipes."""
    from generation.gan_pipeline import MAX_IMAGES, load_model
    from generation.recipes import MAX_SEED
    from generation.upscale import MAX_DISPLAY_SIZE, MIN_DISPLAY_SIZE

    check_range(args.count, "--count", 1, MAX_IMAGES)
    check_range(args.seed, "--seed", 0, MAX_SEED - args.count + 1)
    check_range(args.truncation, "--truncation", 0, 1)
    check_range(args.size, "--size", MIN_DISPLAY_SIZE, MAX_DISPLAY_SIZE)
    edits = _gene_edits(args.gene)
    pipeline = load_model(args.model)
    pipeline.gene_fields(edits)  # refuses unknown genes before a folder is made
    out = _out_dir(args.out)
    result = pipeline(
        num_images=args.count,
        seed=args.seed,
        truncation=args.truncation,
        size=args.size,
        upscale=args.upscale,
        genes=edits,
    )
    names = [f"seed_{s}" for s in result.seeds]
    files, entries = _picture_entries(
        names, out, result.images, result.recipes, [{"seed": s} for s in result.seeds]
    )
    grid_path = None
    if args.grid:
        grid_path = out / "grid.png"
        files[grid_path] = _png(_grid(result.images, min(args.size, 256)))
    write_files(files)
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
    moved = "".join(f", {name} {amount:+g}" for name, amount in edits.items())
    lines = [
        f"wrote {len(entries)} picture(s) ({seeds}, truncation {args.truncation:g}{moved}, "
        f"{args.size} px) to {out} with model {pipeline.model_name} "
        f"({pipeline.model_sha256[:12]})"
    ]
    lines += [f"  {e['png']}" for e in entries]
    if grid_path:
        lines.append(f"  {grid_path}")
    emit(args, data, "\n".join(lines))


# --- breed --------------------------------------------------------------------------------


def cmd_breed(args, settings) -> None:
    """Make `--children` children of two parent recipes and write them with their recipes."""
    from generation.recipes import MAX_CHILDREN, MAX_MUTATION, MAX_SEED
    from generation.upscale import MAX_DISPLAY_SIZE, MIN_DISPLAY_SIZE

    check_range(args.children, "--children", 1, MAX_CHILDREN)
    check_range(args.mutation, "--mutation", 0, MAX_MUTATION)
    check_range(args.seed, "--seed", 0, MAX_SEED)
    if args.size is not None:
        check_range(args.size, "--size", MIN_DISPLAY_SIZE, MAX_DISPLAY_SIZE)
    out = _out_dir(args.out)
    from generation.recipe_kinds import BREEDABLE_KINDS

    parents = [_read_recipe(args.parent_a), _read_recipe(args.parent_b)]
    for name, recipe in zip((args.parent_a, args.parent_b), parents, strict=True):
        if recipe["kind"] not in BREEDABLE_KINDS:
            raise CommandError(f"{name} is a {recipe['kind']} recipe, not a picture to breed")
    pipeline = _pipeline_for(parents, [args.parent_a, args.parent_b], args.model)
    result = pipeline.breed(
        parents[0], parents[1], args.children, args.mutation, args.seed, size=args.size
    )
    names = [f"child_{args.seed}_{k:02d}" for k in range(args.children)]
    files, entries = _picture_entries(
        names, out, result.images, result.recipes, [{"child": k} for k in range(args.children)]
    )
    grid_path = None
    if args.grid:
        grid_path = out / "grid.png"
        files[grid_path] = _png(_grid(result.images, min(result.recipes[0]["size"], 256)))
    write_files(files)
    data = {
        "model_sha256": pipeline.model_sha256,
        "model_name": pipeline.model_name,
        "parents": [args.parent_a, args.parent_b],
        "parent_recipe_sha256": result.recipes[0]["parent_recipe_sha256"],
        "crossover_seed": args.seed,
        "mutation": float(args.mutation),
        "children": entries,
        "grid": str(grid_path) if grid_path else None,
    }
    lines = [
        f"wrote {len(entries)} child(ren) of {args.parent_a} and {args.parent_b} "
        f"(crossover seed {args.seed}, mutation {args.mutation:g}) to {out}"
    ]
    lines += [f"  {e['png']}" for e in entries]
    if grid_path:
        lines.append(f"  {grid_path}")
    emit(args, data, "\n".join(lines))


# --- morph --------------------------------------------------------------------------------


def cmd_morph(args, settings) -> None:
    """Write an animated slerp morph between two seeds or two recipes, and its recipe."""
    from generation.gan_pipeline import load_model
    from generation.recipes import (
        MAX_FRAME_MS,
        MAX_FRAMES,
        MAX_SEED,
        MIN_FRAME_MS,
        MIN_FRAMES,
        sample_recipe,
    )
    from generation.upscale import MAX_DISPLAY_SIZE, MIN_DISPLAY_SIZE

    out = Path(args.out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("gif", "webp"):
        raise CommandError(f"--out must end in .gif or .webp, got {out.name!r}")
    if out.is_dir():
        raise CommandError(f"--out must be a file name, but {out} is a folder")
    check_range(args.frames, "--frames", MIN_FRAMES, MAX_FRAMES)
    check_range(args.frame_ms, "--frame-ms", MIN_FRAME_MS, MAX_FRAME_MS)
    if args.frame_ms % 10:
        raise CommandError(f"--frame-ms must be a multiple of 10 (GIF timing), got {args.frame_ms}")
    if args.size is not None:
        check_range(args.size, "--size", MIN_DISPLAY_SIZE, MAX_DISPLAY_SIZE)
    if args.seeds:
        for seed in args.seeds:
            check_range(seed, "--seeds", 0, MAX_SEED)
        check_range(args.truncation, "--truncation", 0, 1)
        if args.seeds[0] == args.seeds[1]:
            raise CommandError(f"--seeds must be two different seeds, got {args.seeds[0]} twice")
        pipeline = load_model(args.model)
        size = 512 if args.size is None else args.size
        ends = [
            sample_recipe(
                pipeline.model_sha256,
                seed,
                args.truncation,
                size,
                args.upscale or "lanczos",
                pipeline.model_name,
            )
            for seed in args.seeds
        ]
    else:
        from generation.recipe_kinds import BREEDABLE_KINDS

        ends = [_read_recipe(path) for path in args.recipes]
        for name, recipe in zip(args.recipes, ends, strict=True):
            if recipe["kind"] not in BREEDABLE_KINDS:
                raise CommandError(f"{name} is a {recipe['kind']} recipe, not a picture")
        pipeline = _pipeline_for(ends, list(args.recipes), args.model)
    result = pipeline.morph(
        ends[0], ends[1], args.frames, fmt, args.frame_ms, size=args.size, upscale=args.upscale
    )
    # FILE.gif.json, not FILE.json: a .gif and a .webp of one name must not share a recipe
    recipe_path = out.with_name(out.name + ".json")
    write_files({out: result.data, recipe_path: _recipe_json(result.recipe)})
    from generation.recipes import recipe_sha256

    size = result.recipe["size"]
    data = {
        "path": str(out),
        "recipe": str(recipe_path),
        "format": fmt,
        "frames": args.frames,
        "frame_ms": args.frame_ms,
        "size": size,
        "bytes": len(result.data),
        "model_sha256": pipeline.model_sha256,
        "recipe_sha256": recipe_sha256(result.recipe),
    }
    emit(
        args,
        data,
        f"wrote {out} ({args.frames} frames of {size} px, {fmt.upper()}, "
        f"{len(result.data):,} bytes) and its recipe {recipe_path}",
    )


# --- train --------------------------------------------------------------------------------

MAX_TRAIN_STEPS = 10_000_000
MAX_BATCH_SIZE = 1024


def cmd_train(args, ctx) -> None:
    """Train a GAN on `data_dir` into `--out`; Ctrl-C or SIGTERM stops with a checkpoint.

    Before training, every image is checked against the registered artworks: training on
    another owner's work needs their licence (`marketplace.training_jobs`)."""
    import os

    import torch

    from generation.training import (
        CHECKPOINT_NAME,
        TrainConfig,
        resolve_device,
        stop_on_signals,
        train,
    )

    check_range(args.steps, "--steps", 1, MAX_TRAIN_STEPS)
    check_range(args.batch_size, "--batch-size", 1, MAX_BATCH_SIZE)
    check_range(args.sample_every, "--sample-every", 0, MAX_TRAIN_STEPS)
    check_range(args.checkpoint_every, "--checkpoint-every", 0, 7 * 24 * 3600)
    check_range(args.seed, "--seed", 0, 2**31 - 1)
    check_range(args.threads, "--threads", 1, os.cpu_count() or 1)
    if args.image_size == 256 and args.architecture != "fastgan":
        raise CommandError("--image-size 256 needs --architecture fastgan")
    try:
        resolve_device(args.device, args.precision)
    except ValueError as exc:
        raise CommandError(str(exc).replace("`device`", "--device")) from None
    data_dir, out = Path(args.data_dir), Path(args.out)
    if not data_dir.is_dir():
        raise CommandError(f"DATA_DIR must be a folder of images, got {str(data_dir)!r}")
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out must be a folder, but {out} is a file")
    if (out / CHECKPOINT_NAME).exists() and not args.resume:
        raise CommandError(
            f"{out} already holds a training run; pass --resume to continue it, "
            "or choose another --out"
        )
    _check_training_rights(ctx, data_dir, args.as_user)
    config = TrainConfig(
        image_size=args.image_size,
        batch_size=args.batch_size,
        total_steps=args.steps,
        seed=args.seed,
        sample_every_steps=args.sample_every,
        checkpoint_every_seconds=float(args.checkpoint_every),
        log_every_steps=max(1, min(100, args.steps // 20)),
        num_samples=64,
        architecture=args.architecture,
    )

    def progress(p) -> None:
        if p.event in ("sample", "checkpoint"):
            print(f"[{p.event}] step {p.step}/{p.total_steps}: {p.path}", file=sys.stderr)

    previous_threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        with stop_on_signals() as stop:
            result = train(
                config,
                data_dir,
                out,
                resume=args.resume,
                on_report=progress,
                should_cancel=stop.is_set,
                progress_bar=not args.no_progress_bar,
                device=args.device,
                precision=args.precision,
            )
    finally:
        torch.set_num_threads(previous_threads)
    samples = sorted((out / "samples").glob("step_*.png"))
    data = {
        "step": result.step,
        "total_steps": args.steps,
        "stopped": result.stopped,
        "run_dir": str(out),
        "checkpoint": str(result.checkpoint),
        "model_dir": str(result.model_dir),
        "model_sha256": result.model_sha256,
        "latest_samples": str(samples[-1]) if samples else None,
        "loss_curve": str(out / "loss_curve.png") if (out / "loss_curve.png").exists() else None,
    }
    state = (
        f"stopped at step {result.step} of {args.steps}; continue with --resume"
        if result.stopped
        else f"trained to step {result.step}"
    )
    emit(
        args,
        data,
        f"{state}; model {result.model_dir} ({result.model_sha256[:12]}); "
        f"use it with: atelier generate --model {result.model_dir} --out pics",
    )
