"""GAN recipes: JSON-serialisable descriptions that regenerate a picture exactly.

Every recipe names the model (`model_sha256`, the SHA-256 of its `model.safetensors`),
the code version that interprets it (`code_version`) and how the output is resized for
display (`size`, `upscale`). The latent vector a recipe stands for is computed here, from
seeds alone, without the model:

- `gan_sample`: z ~ N(0, I) drawn from `torch.Generator().manual_seed(seed)` (exactly
  `Generator.sample_latents(1, ...)`), then truncated: z' = psi * z. A DCGAN has no
  mapping network (no W space and no mean W to pull toward), so the truncation trick
  scales the latent toward the mean of its prior, 0: psi = 1 is the untruncated model,
  smaller psi gives more typical, less varied pictures, psi = 0 gives the one "average"
  picture G(0).
- `gan_breed`: two parent recipes (samples or children themselves) of the same model.
  Child k's latent is a per-dimension crossover of the parents' latents plus mutation:
  z = where(mask, z_a, z_b) + mutation * n, with mask ~ Bernoulli(0.5) and n ~ N(0, I)
  drawn from a generator seeded by (crossover_seed, child_index). Parents are embedded in
  full (and named by their `recipe_sha256`), so a child regenerates without a database;
  nesting stops at `MAX_BREED_DEPTH` generations, which also keeps the JSON small.
- `gan_morph`: an animation of `frames` pictures along the spherical interpolation
  (slerp) between the latents of two recipes, `start` and `end`, of the same model.
- `gan_projection`: a latent found by optimisation to remake a picture
  (`generation.projection`); the recipe holds the latent itself (float32 values written
  exactly) and names its source picture by hash, so it renders without re-running the search.

Latent recipes (sample, breed, projection) may carry gene edits (`generation.genes`).

`recipe_sha256` is the SHA-256 of a recipe's canonical JSON (keys sorted, no spaces).
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from generation.errors import GenerationError
from generation.upscale import DEFAULT_UPSCALE, check_display_size, check_upscale

# Bump when the meaning of a recipe changes (latent derivation, truncation, encoding).
RECIPE_CODE_VERSION = 1
KIND_SAMPLE = "gan_sample"
KIND_BREED = "gan_breed"
KIND_MORPH = "gan_morph"
KIND_PROJECTION = "gan_projection"
GAN_RECIPE_KINDS = (KIND_SAMPLE, KIND_BREED, KIND_MORPH, KIND_PROJECTION)
LATENT_KINDS = (KIND_SAMPLE, KIND_BREED, KIND_PROJECTION)
MAX_LATENT_DIM = 1024
MAX_LATENT_VALUE = 20.0

MAX_SEED = 2**63 - 1
DEFAULT_TRUNCATION = 0.7
MAX_MUTATION = 1.0
CROSSOVER_METHODS = ("uniform",)
# 5 generations keep a morph between two deepest children under 64 KiB of JSON (the
# marketplace's recipe limit): a depth-5 child is about 20 KB, a depth-6 one 41 KB.
MAX_BREED_DEPTH = 5
MAX_CHILDREN = 64
MIN_FRAMES, MAX_FRAMES = 2, 120
DEFAULT_FRAME_MS = 80
MIN_FRAME_MS, MAX_FRAME_MS = 20, 1000
ANIMATION_FORMATS = ("gif", "webp")
INTERPOLATIONS = ("slerp",)
MAX_MODEL_NAME = 64


# --- field checks -------------------------------------------------------------------------


def check_int(value: object, name: str, low: int, high: int) -> int:
    """Return `value` if it is an int (not a bool) in [low, high], else raise naming it.

    Raises:
        GenerationError: If it is not.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise GenerationError(f"`{name}` must be an integer, got {value!r}")
    if not low <= value <= high:
        raise GenerationError(f"`{name}` must be in [{low}, {high}], got {value}")
    return value


def check_float(value: object, name: str, low: float, high: float) -> float:
    """Return `value` as a float if it is a finite number in [low, high], else raise naming it.

    Raises:
        GenerationError: If it is not.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise GenerationError(f"`{name}` must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or not low <= value <= high:
        raise GenerationError(f"`{name}` must be in [{low:g}, {high:g}], got {value}")
    return value


def check_seed(seed: object, name: str = "seed") -> int:
    """Return `seed` if it is an integer in [0, 2**63 - 1].

    Raises:
        GenerationError: If it is not.
    """
    return check_int(seed, name, 0, MAX_SEED)


def check_truncation(truncation: object) -> float:
    """Return truncation psi as a float if it is in [0, 1].

    Raises:
        GenerationError: If it is not a number in [0, 1].
    """
    return check_float(truncation, "truncation", 0.0, 1.0)


def is_sha256(value: object) -> bool:
    """Whether `value` is a hex SHA-256 as recipes write them: 64 lowercase hex digits."""
    return isinstance(value, str) and len(value) == 64 and not value.strip("0123456789abcdef")


def check_model_sha256(value: object) -> str:
    """Return `value` if it is 64 lowercase hex digits (a model id).

    Raises:
        GenerationError: If it is not.
    """
    if not is_sha256(value):
        raise GenerationError(f"`model_sha256` must be 64 lowercase hex digits, got {value!r}")
    return value


def _check_model_name(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_MODEL_NAME:
        raise GenerationError(f"`model_name` must be 1-{MAX_MODEL_NAME} characters, got {value!r}")
    if any(not (ch.isalnum() or ch in "-_.") for ch in value):
        raise GenerationError(
            f"`model_name` may hold only letters, digits, '-', '_' and '.', got {value!r}"
        )
    return value


# --- building recipes ---------------------------------------------------------------------


def _common(model_sha256: str, model_name: str | None, size: int, upscale: str) -> dict:
    return {
        "code_version": RECIPE_CODE_VERSION,
        "model_sha256": check_model_sha256(model_sha256),
        "model_name": _check_model_name(model_name),
        "size": check_display_size(size),
        "upscale": check_upscale(upscale),
    }


def sample_recipe(
    model_sha256: str,
    seed: int,
    truncation: float = DEFAULT_TRUNCATION,
    size: int = 512,
    upscale: str = DEFAULT_UPSCALE,
    model_name: str | None = None,
    genes: dict | None = None,
    genes_sha256: str | None = None,
) -> dict:
    """The recipe of one seeded GAN sample.

    Args:
        model_sha256: The model id.
        seed: Latent seed, 0 to 2**63 - 1.
        truncation: psi in [0, 1]; the latent is psi * z.
        size: Display side length in pixels (16 to 2048; the model's own size means no resize).
        upscale: Resampling filter, one of `generation.upscale.UPSCALE_METHODS`.
        model_name: A short human name of the model ("emoji64"), informational.
        genes: Gene edits {name: amount in [-3, 3]} (`generation.genes`); the latent moves
            by amount x the gene's direction after truncation.
        genes_sha256: The SHA-256 of the model's genes file, required with `genes`.

    Returns:
        The recipe dict (with `genes` and `genes_sha256` only when a gene is edited).

    Raises:
        GenerationError: If an argument is out of range.
    """
    return {
        "kind": KIND_SAMPLE,
        **_common(model_sha256, model_name, size, upscale),
        "seed": check_seed(seed),
        "truncation": check_truncation(truncation),
        **_gene_fields(genes, genes_sha256),
    }


def _gene_fields(genes: object, genes_sha256: object) -> dict:
    """A recipe's gene keys: none when nothing is edited, so older recipes keep their hash."""
    from generation.genes import check_edits

    if genes is None:
        return {}
    edits = check_edits(genes)
    if not edits:
        return {}
    if not is_sha256(genes_sha256):
        raise GenerationError(
            f"`genes_sha256` must be 64 lowercase hex digits with genes, got {genes_sha256!r}"
        )
    return {"genes": edits, "genes_sha256": genes_sha256}


def breed_recipe(
    parent_a: dict,
    parent_b: dict,
    crossover_seed: int,
    child_index: int,
    mutation: float,
    size: int | None = None,
    upscale: str | None = None,
    genes: dict | None = None,
    genes_sha256: str | None = None,
) -> dict:
    """The recipe of child `child_index` of two parent recipes made by the same model.

    Args:
        parent_a: A `gan_sample` or `gan_breed` recipe.
        parent_b: Another one, of the same model.
        crossover_seed: Seed of the crossover masks and mutation noise, 0 to 2**63 - 1.
        child_index: Which child, 0 to `MAX_CHILDREN` - 1.
        mutation: Standard deviation of the gaussian noise added to the child's latent, 0 to 1.
        size: Display size; defaults to `parent_a`'s.
        upscale: Resampling filter; defaults to `parent_a`'s.
        genes, genes_sha256: The child's own gene edits, as for `sample_recipe` (the
            parents' edits are in their latents, which the crossover mixes).

    Returns:
        The recipe dict, embedding both parents.

    Raises:
        GenerationError: If a parent is invalid, the parents come from different models,
            the child would be more than `MAX_BREED_DEPTH` generations deep, or an argument
            is out of range.
    """
    parents = [_check_parent(p, label) for p, label in ((parent_a, "A"), (parent_b, "B"))]
    if parents[0]["model_sha256"] != parents[1]["model_sha256"]:
        raise GenerationError(
            "the parents were made by different models "
            f"({parents[0]['model_sha256'][:12]}... and {parents[1]['model_sha256'][:12]}...); "
            "breeding needs two pictures of the same model"
        )
    depth = 1 + max(recipe_depth(p) for p in parents)
    if depth > MAX_BREED_DEPTH:
        raise GenerationError(
            f"a child of these parents would be {depth} generations deep; "
            f"the limit is {MAX_BREED_DEPTH}"
        )
    first = parents[0]
    recipe = {
        "kind": KIND_BREED,
        **_common(
            first["model_sha256"],
            first.get("model_name"),
            first["size"] if size is None else size,
            first["upscale"] if upscale is None else upscale,
        ),
        "parents": parents,
        "parent_recipe_sha256": [recipe_sha256(p) for p in parents],
        "crossover": CROSSOVER_METHODS[0],
        "crossover_seed": check_seed(crossover_seed, "crossover_seed"),
        "child_index": check_int(child_index, "child_index", 0, MAX_CHILDREN - 1),
        "mutation": check_float(mutation, "mutation", 0.0, MAX_MUTATION),
        **_gene_fields(genes, genes_sha256),
    }
    return recipe


def projection_recipe(
    model_sha256: str,
    latent,
    source: dict,
    search: dict,
    size: int = 512,
    upscale: str = DEFAULT_UPSCALE,
    model_name: str | None = None,
    genes: dict | None = None,
    genes_sha256: str | None = None,
) -> dict:
    """The recipe of a picture projected into a model's latent space.

    Args:
        model_sha256: The model id.
        latent: The latent found, a sequence of finite numbers (float32 values).
        source: {"sha256", "hash_of"} of the picture it was projected from.
        search: How it was found (steps, seed, candidates, loss): informational.
        size, upscale, model_name, genes, genes_sha256: as for `sample_recipe`.

    Raises:
        GenerationError: If an argument is malformed.
    """
    return {
        "kind": KIND_PROJECTION,
        **_common(model_sha256, model_name, size, upscale),
        "latent": _check_latent(latent),
        "source": _check_source(source),
        "search": _check_search(search),
        **_gene_fields(genes, genes_sha256),
    }


def _check_latent(latent: object) -> list[float]:
    if not isinstance(latent, list | tuple) or not 1 <= len(latent) <= MAX_LATENT_DIM:
        raise GenerationError(f"`latent` must be a list of 1-{MAX_LATENT_DIM} numbers")
    values = []
    for x in latent:
        if isinstance(x, bool) or not isinstance(x, int | float):
            raise GenerationError(f"`latent` must hold numbers, got {x!r:.40}")
        value = float(x)
        if not math.isfinite(value) or abs(value) > MAX_LATENT_VALUE:
            raise GenerationError(
                f"`latent` values must be finite and within ±{MAX_LATENT_VALUE:g}, got {value}"
            )
        values.append(value)
    return values


def _check_source(source: object) -> dict:
    if (
        not isinstance(source, dict)
        or source.get("hash_of") not in ("file", "png")
        or not is_sha256(source.get("sha256"))
    ):
        raise GenerationError(f"`source` must be {{sha256, hash_of}}, got {source!r:.80}")
    return {"sha256": source["sha256"], "hash_of": source["hash_of"]}


def _check_search(search: object) -> dict:
    if not isinstance(search, dict) or len(canonical_json(search)) > 1024:
        raise GenerationError("`search` must be a small JSON object")
    return dict(search)


def _check_parent(parent: object, label: str) -> dict:
    if not isinstance(parent, dict) or parent.get("kind") not in LATENT_KINDS:
        kind = parent.get("kind") if isinstance(parent, dict) else type(parent).__name__
        raise GenerationError(
            f"parent {label} must be a {', '.join(LATENT_KINDS)} recipe, got {kind!r}"
        )
    return validate_recipe(parent)


def morph_recipe(
    start: dict,
    end: dict,
    frames: int,
    fmt: str = "gif",
    frame_ms: int = DEFAULT_FRAME_MS,
    size: int | None = None,
    upscale: str | None = None,
) -> dict:
    """The recipe of an animated morph between two recipes of the same model.

    Args:
        start: A `gan_sample` or `gan_breed` recipe: the first frame.
        end: Another one, of the same model: the last frame.
        frames: Number of frames, 2 to 120.
        fmt: "gif" or "webp".
        frame_ms: Display time of each frame in milliseconds, a multiple of 10 in [20, 1000].
        size: Display size; defaults to `start`'s.
        upscale: Resampling filter; defaults to `start`'s.

    Returns:
        The recipe dict, embedding both ends.

    Raises:
        GenerationError: If an end is invalid, they come from different models, or an
            argument is out of range.
    """
    ends = [_check_end(r, label) for r, label in ((start, "start"), (end, "end"))]
    if ends[0]["model_sha256"] != ends[1]["model_sha256"]:
        raise GenerationError(
            "the two recipes were made by different models "
            f"({ends[0]['model_sha256'][:12]}... and {ends[1]['model_sha256'][:12]}...); "
            "a morph needs two pictures of the same model"
        )
    first = ends[0]
    return {
        "kind": KIND_MORPH,
        **_common(
            first["model_sha256"],
            first.get("model_name"),
            first["size"] if size is None else size,
            first["upscale"] if upscale is None else upscale,
        ),
        "start": ends[0],
        "end": ends[1],
        "frames": check_int(frames, "frames", MIN_FRAMES, MAX_FRAMES),
        "interpolation": INTERPOLATIONS[0],
        "format": _check_format(fmt),
        "frame_ms": _check_frame_ms(frame_ms),
    }


def _check_end(recipe: object, label: str) -> dict:
    if not isinstance(recipe, dict) or recipe.get("kind") not in LATENT_KINDS:
        kind = recipe.get("kind") if isinstance(recipe, dict) else type(recipe).__name__
        raise GenerationError(
            f"the morph's {label} must be a {', '.join(LATENT_KINDS)} recipe, got {kind!r}"
        )
    return validate_recipe(recipe)


def _check_format(fmt: object) -> str:
    if fmt not in ANIMATION_FORMATS:
        raise GenerationError(
            f"`format` must be one of {', '.join(ANIMATION_FORMATS)}, got {fmt!r}"
        )
    return fmt  # type: ignore[return-value]


def _check_frame_ms(frame_ms: object) -> int:
    value = check_int(frame_ms, "frame_ms", MIN_FRAME_MS, MAX_FRAME_MS)
    if value % 10:
        # GIF stores durations in hundredths of a second
        raise GenerationError(f"`frame_ms` must be a multiple of 10, got {value}")
    return value


# --- validating and identifying -----------------------------------------------------------


def validate_recipe(recipe: object, _depth: int = 0) -> dict:
    """Check a GAN recipe read from JSON and return it in normal form (floats as floats).

    Unknown extra keys are kept and ignored; missing or malformed keys are refused.

    Args:
        recipe: A dict, e.g. from `json.load`.

    Returns:
        A new dict equal to the recipe rebuilt by `sample_recipe`, `breed_recipe` or
        `morph_recipe`.

    Raises:
        GenerationError: If it is not a GAN recipe this code version can render; the
            message names the field and its value.
    """
    if not isinstance(recipe, dict):
        raise GenerationError(f"a recipe must be a JSON object, got {type(recipe).__name__}")
    kind = recipe.get("kind")
    if kind not in GAN_RECIPE_KINDS:
        raise GenerationError(
            f"`kind` must be one of {', '.join(GAN_RECIPE_KINDS)} for a GAN recipe, got {kind!r}"
        )
    version = recipe.get("code_version")
    if version != RECIPE_CODE_VERSION:
        raise GenerationError(
            f"`code_version` {version!r} is not this code's recipe version {RECIPE_CODE_VERSION}"
        )
    if _depth > MAX_BREED_DEPTH + 1:
        # a guard against absurd nesting before recursing; `breed_recipe` applies the real limit
        raise GenerationError(f"the recipe nests more than {MAX_BREED_DEPTH} generations deep")
    missing = [k for k in _REQUIRED[kind] if k not in recipe]
    if missing:
        raise GenerationError(f"the {kind} recipe lacks {', '.join(missing)}")
    r = recipe
    if kind == KIND_SAMPLE:
        clean = sample_recipe(
            r["model_sha256"],
            r["seed"],
            r["truncation"],
            r["size"],
            r["upscale"],
            r.get("model_name"),
            r.get("genes"),
            r.get("genes_sha256"),
        )
    elif kind == KIND_PROJECTION:
        clean = projection_recipe(
            r["model_sha256"],
            r["latent"],
            r["source"],
            r["search"],
            r["size"],
            r["upscale"],
            r.get("model_name"),
            r.get("genes"),
            r.get("genes_sha256"),
        )
    elif kind == KIND_BREED:
        parents = r["parents"]
        if not isinstance(parents, list) or len(parents) != 2:
            raise GenerationError(f"`parents` must be a list of two recipes, got {parents!r:.80}")
        checked = [validate_recipe(p, _depth + 1) for p in parents]
        clean = breed_recipe(
            checked[0],
            checked[1],
            r["crossover_seed"],
            r["child_index"],
            r["mutation"],
            r["size"],
            r["upscale"],
            r.get("genes"),
            r.get("genes_sha256"),
        )
        if r["model_sha256"] != clean["model_sha256"]:
            raise GenerationError("the child's `model_sha256` differs from its parents'")
        if r["parent_recipe_sha256"] != clean["parent_recipe_sha256"]:
            raise GenerationError("`parent_recipe_sha256` does not match the embedded parents")
        if r["crossover"] not in CROSSOVER_METHODS:
            raise GenerationError(
                f"`crossover` must be one of {', '.join(CROSSOVER_METHODS)}, got {r['crossover']!r}"
            )
    else:
        ends = [validate_recipe(r[k], _depth + 1) for k in ("start", "end")]
        clean = morph_recipe(
            ends[0], ends[1], r["frames"], r["format"], r["frame_ms"], r["size"], r["upscale"]
        )
        if r["model_sha256"] != clean["model_sha256"]:
            raise GenerationError("the morph's `model_sha256` differs from its two ends'")
        if r["interpolation"] not in INTERPOLATIONS:
            raise GenerationError(
                f"`interpolation` must be one of {', '.join(INTERPOLATIONS)}, "
                f"got {r['interpolation']!r}"
            )
    clean["model_name"] = _check_model_name(r.get("model_name"))
    extra = {k: v for k, v in recipe.items() if k not in clean}
    return {**clean, **extra}


_REQUIRED = {
    KIND_SAMPLE: ("model_sha256", "seed", "truncation", "size", "upscale"),
    KIND_PROJECTION: ("model_sha256", "latent", "source", "search", "size", "upscale"),
    KIND_BREED: (
        "model_sha256",
        "parents",
        "parent_recipe_sha256",
        "crossover",
        "crossover_seed",
        "child_index",
        "mutation",
        "size",
        "upscale",
    ),
    KIND_MORPH: (
        "model_sha256",
        "start",
        "end",
        "frames",
        "interpolation",
        "format",
        "frame_ms",
        "size",
        "upscale",
    ),
}


def canonical_json(recipe: dict) -> bytes:
    """A recipe's canonical bytes: JSON, keys sorted, no spaces, UTF-8, no NaN."""
    return json.dumps(
        recipe, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def recipe_sha256(recipe: dict) -> str:
    """The hex SHA-256 of a recipe's canonical JSON: a stable name for the recipe."""
    return hashlib.sha256(canonical_json(recipe)).hexdigest()


def recipe_depth(recipe: dict) -> int:
    """Generations of breeding behind a latent recipe: 0 for a sample, 1 + the deeper parent's."""
    if recipe.get("kind") != KIND_BREED:
        return 0
    return 1 + max(recipe_depth(p) for p in recipe["parents"])


def describe(recipe: dict) -> dict[str, Any]:
    """A short summary of a recipe for CLI output: kind, model, seed(s), recipe sha256."""
    out: dict[str, Any] = {
        "kind": recipe["kind"],
        "model_sha256": recipe["model_sha256"],
        "recipe_sha256": recipe_sha256(recipe),
    }
    if recipe["kind"] == KIND_SAMPLE:
        out.update(seed=recipe["seed"], truncation=recipe["truncation"])
    elif recipe["kind"] == KIND_BREED:
        out.update(
            crossover_seed=recipe["crossover_seed"],
            child_index=recipe["child_index"],
            mutation=recipe["mutation"],
            parents=recipe["parent_recipe_sha256"],
            depth=recipe_depth(recipe),
        )
    return out
