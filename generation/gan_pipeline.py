"""Sampling, breeding and morphing with a trained `generation.gan.Generator`, from recipes.

Everything a pipeline makes comes with a recipe (`generation.recipes`) that regenerates it:
`render_recipe(recipe, model_resolver)` is the one dispatcher for every GAN recipe kind, and
`render_recipe_bytes` gives the exact file bytes (PNG with an A1111 `parameters` chunk and
the recipe, or the GIF/WebP animation). Inference runs with one torch thread (set for the
call and restored), so results are reproducible and byte-identical on the same machine.
The generator's output for a latent does not depend on the batch it is in (BatchNorm is in
eval mode; checked by the tests), so batched and single renders agree.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from generation.bundled import DEFAULT_MODEL_NAME, default_model_dir
from generation.errors import GenerationCancelled, GenerationError, ModelUnavailable
from generation.fastgan import FastGenerator, generator_class
from generation.gan import CONFIG_NAME, WEIGHTS_NAME, Generator, weights_sha256
from generation.genes import load_genes
from generation.latents import morph_latents, recipe_latent
from generation.recipes import (
    DEFAULT_FRAME_MS,
    KIND_MORPH,
    LATENT_KINDS,
    MAX_CHILDREN,
    breed_recipe,
    check_int,
    check_seed,
    morph_recipe,
    sample_recipe,
    validate_recipe,
)
from generation.upscale import DEFAULT_UPSCALE, check_display_size, check_upscale, upscale

MAX_IMAGES = 256
# Forward passes are split into chunks of this many latents to bound memory.
CHUNK = 64
# A regenerated picture counts as the same when its pixels are identical or this close.
VERIFY_PSNR_DB = 50.0

ModelResolver = Callable[[str], Path]


@dataclass(frozen=True)
class GANPipelineOutput:
    """Images made by `GANPipeline`.

    Attributes:
        images: RGB `PIL.Image.Image`s, one per seed (or child).
        seeds: The seed of each image (the crossover seed for children).
        model_sha256: Id of the model that made them, when known.
        recipes: One recipe per image that regenerates it, or None when the model id is
            unknown (a pipeline built from an unsaved generator).
    """

    images: list
    seeds: list[int]
    model_sha256: str | None
    recipes: list[dict] | None = None


@dataclass(frozen=True)
class MorphOutput:
    """An animated morph made by `GANPipeline.morph`.

    Attributes:
        frames: The RGB frames, at display size, before encoding.
        data: The encoded GIF or WebP file.
        recipe: The `gan_morph` recipe that regenerates `data` byte for byte.
    """

    frames: list
    data: bytes
    recipe: dict


@contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one CPU thread inside the block, then restore the previous thread count."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def inference_forward(generator: Generator) -> Callable[[torch.Tensor], torch.Tensor]:
    """A forward pass of an eval-mode DCGAN generator as a flat list of torch ops.

    The same kernels with the same arguments as `generator(z)`, so the output is bit-identical
    (a test checks), without `nn.Module.__call__`'s hook handling around each of the 14 layers:
    at batch 1 that handling is ~0.15 ms of a ~2 ms forward (bench/gan_bench.py). A layer of
    any other kind, or a batch norm in training mode, is called as a module.

    Args:
        generator: The generator, in eval mode; the ops hold its parameters, not copies.

    Returns:
        A function from latents `(B, latent_dim)` to images `(B, 3, S, S)` in [-1, 1]; for a
        generator of another architecture (`generation.fastgan`), its own forward.
    """
    if not isinstance(generator, Generator):
        return generator
    ops: list[Callable[[torch.Tensor], torch.Tensor]] = []
    for layer in generator.net:
        kind = type(layer)
        if (
            kind is torch.nn.ConvTranspose2d
            and layer.bias is None
            and layer.groups == 1
            and layer.dilation == (1, 1)
            and layer.output_padding == (0, 0)
            and layer.padding_mode == "zeros"
        ):
            ops.append(
                functools.partial(
                    torch.conv_transpose2d,
                    weight=layer.weight,
                    stride=layer.stride,
                    padding=layer.padding,
                )
            )
        elif kind is torch.nn.BatchNorm2d and not layer.training and layer.track_running_stats:
            ops.append(
                functools.partial(
                    torch.batch_norm,
                    weight=layer.weight,
                    bias=layer.bias,
                    running_mean=layer.running_mean,
                    running_var=layer.running_var,
                    training=False,
                    momentum=0.0,
                    eps=layer.eps,
                    cudnn_enabled=False,
                )
            )
        elif kind is torch.nn.ReLU:
            ops.append(torch.relu_)
        elif kind is torch.nn.Tanh:
            ops.append(torch.tanh_)
        else:
            ops.append(layer)

    def forward(z: torch.Tensor) -> torch.Tensor:
        generator.check_latents(z)
        x = z[:, :, None, None]  # (B, latent_dim, 1, 1)
        for op in ops:
            x = op(x)
        return x  # (B, 3, S, S)

    return forward


class GANPipeline:
    """Turns seeds and recipes into images with a GAN generator, on CPU in float32.

    Args:
        generator: A trained generator (put in eval mode here).
        model_sha256: The generator's model id, recorded in outputs and recipes.
        model_name: A short human name of the model, recorded in recipes.
        genes: The model's genes (`generation.genes.load_genes`), or None.
    """

    def __init__(
        self,
        generator: Generator,
        model_sha256: str | None = None,
        model_name: str | None = None,
        genes=None,
    ) -> None:
        self.generator = generator.eval()
        self._forward = inference_forward(self.generator)
        self.model_sha256 = model_sha256
        self.model_name = model_name
        self.genes = genes

    def gene_fields(self, edits: dict | None) -> dict:
        """`sample_recipe`/`breed_recipe` keyword arguments for gene `edits` of this model.

        Raises:
            GenerationError: edits for a model without genes, or a gene it does not have.
        """
        if not edits or not any(float(v) != 0.0 for v in edits.values()):
            return {}
        if self.genes is None:
            raise GenerationError("this model has no genes; only the bundled model has them")
        unknown = sorted(set(edits) - set(self.genes.names))
        if unknown:
            raise GenerationError(
                f"this model has no gene {unknown[0]!r}; its genes: {', '.join(self.genes.names)}"
            )
        return {"genes": dict(edits), "genes_sha256": self.genes.sha256}

    @classmethod
    def from_pretrained(cls, pretrained_directory: str | Path) -> GANPipeline:
        """Load a generator saved with `save_pretrained` and remember its model id.

        Raises:
            ModelUnavailable: If the directory holds no loadable generator.
        """
        return load_model(pretrained_directory)

    @property
    def image_size(self) -> int:
        return self.generator.image_size

    def __call__(
        self,
        num_images: int = 1,
        seed: int = 0,
        truncation: float = 1.0,
        size: int | None = None,
        upscale: str = DEFAULT_UPSCALE,
        genes: dict | None = None,
    ) -> GANPipelineOutput:
        """Generate `num_images` images from seeds `seed`, `seed + 1`, ...

        Each image's latent comes from its own seeded `torch.Generator`, so an image
        depends only on the model, its seed, the truncation and the display size.

        Args:
            num_images: How many images, 1 to 256.
            seed: Seed of the first image, >= 0.
            truncation: psi in [0, 1]; latents are scaled toward 0 (1 = untruncated).
            size: Display side length (16 to 2048); None keeps the model's own size.
            upscale: Resampling filter for the display size.
            genes: Gene edits {name: amount in [-3, 3]} applied to every image.

        Returns:
            A `GANPipelineOutput` (with recipes when the model id is known).

        Raises:
            GenerationError: If an argument is out of range (it is a ValueError).
        """
        check_int(num_images, "num_images", 1, MAX_IMAGES)
        if isinstance(seed, int) and not isinstance(seed, bool) and seed < 0:
            raise GenerationError(f"`seed` must be >= 0, got {seed}")
        check_seed(seed + num_images - 1, "seed + num_images - 1")
        size = self.image_size if size is None else size
        seeds = list(range(seed, seed + num_images))
        edits = self.gene_fields(genes)
        recipes = [
            sample_recipe(
                self.model_sha256 or "0" * 64,
                s,
                truncation,
                size,
                upscale,
                self.model_name,
                **edits,
            )
            for s in seeds
        ]
        images = self._render_latent_recipes(recipes)
        return GANPipelineOutput(
            images, seeds, self.model_sha256, recipes if self.model_sha256 else None
        )

    def render(self, recipes: list[dict]) -> list:
        """Render `gan_sample` / `gan_breed` recipes of this pipeline's model, batched.

        Args:
            recipes: Latent recipes, each validated here.

        Returns:
            One RGB `PIL.Image.Image` per recipe, at the recipe's display size.

        Raises:
            GenerationError: If a recipe is invalid, a morph, or names another model.
        """
        checked = []
        for recipe in recipes:
            recipe = validate_recipe(recipe)
            if recipe["kind"] not in LATENT_KINDS:
                raise GenerationError(
                    f"`render` takes {', '.join(LATENT_KINDS)} recipes, got {recipe['kind']!r}"
                )
            self._check_model(recipe)
            checked.append(recipe)
        return self._render_latent_recipes(checked)

    def breed(
        self,
        parent_a: dict,
        parent_b: dict,
        children: int,
        mutation: float,
        seed: int,
        size: int | None = None,
        upscale: str | None = None,
        genes: dict | None = None,
    ) -> GANPipelineOutput:
        """Make `children` children of two parent recipes by latent crossover and mutation.

        Args:
            parent_a: A `gan_sample` or `gan_breed` recipe of this model.
            parent_b: Another one.
            children: How many children, 1 to 64.
            mutation: Standard deviation of the gaussian noise added to each child, 0 to 1.
            seed: Crossover seed; child k of the same parents and seed is always the same.
            size: Display size; defaults to parent A's.
            upscale: Resampling filter; defaults to parent A's.
            genes: The children's own gene edits (the parents' are in their latents).

        Returns:
            A `GANPipelineOutput` whose recipes embed both parents.

        Raises:
            GenerationError: If the parents differ in model, are not this model's, nest too
                deep, or an argument is out of range.
        """
        check_int(children, "children", 1, MAX_CHILDREN)
        edits = self.gene_fields(genes)
        recipes = [
            breed_recipe(parent_a, parent_b, seed, k, mutation, size, upscale, **edits)
            for k in range(children)
        ]
        self._check_model(recipes[0])
        images = self._render_latent_recipes(recipes)
        return GANPipelineOutput(images, [seed] * children, self.model_sha256, recipes)

    def morph(
        self,
        start: dict,
        end: dict,
        frames: int,
        fmt: str = "gif",
        frame_ms: int = DEFAULT_FRAME_MS,
        size: int | None = None,
        upscale: str | None = None,
        *,
        progress: Callable[[float, str], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> MorphOutput:
        """Animate the slerp between two recipes' latents as a GIF or WebP.

        Args:
            start: The first frame's `gan_sample` / `gan_breed` recipe, of this model.
            end: The last frame's recipe.
            frames: Number of frames, 2 to 120.
            fmt: "gif" or "webp".
            frame_ms: Display time per frame, a multiple of 10 in [20, 1000].
            size: Display size; defaults to `start`'s.
            upscale: Resampling filter; defaults to `start`'s.
            progress: Called with (fraction done, message) as frames are made.
            should_cancel: Polled before each frame and before encoding; True stops the work.

        Returns:
            A `MorphOutput` with the frames, the file bytes and the recipe.

        Raises:
            GenerationError: If the ends differ in model, are not this model's, are the same
                picture, or an argument is out of range.
            GenerationCancelled: `should_cancel` returned True.
        """
        recipe = morph_recipe(start, end, frames, fmt, frame_ms, size, upscale)
        return self.render_morph(recipe, progress=progress, should_cancel=should_cancel)

    def render_morph(
        self,
        recipe: dict,
        *,
        progress: Callable[[float, str], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> MorphOutput:
        """Render a `gan_morph` recipe of this model into frames and file bytes.

        Args:
            recipe: The morph recipe.
            progress, should_cancel: As for `morph`.

        Raises:
            GenerationError: If the recipe is invalid, of another kind or model, or its two
                ends have the same latent.
            GenerationCancelled: `should_cancel` returned True.
        """
        from generation.morph import encode_animation
        from generation.parameters import a1111_parameters

        recipe = validate_recipe(recipe)
        if recipe["kind"] != KIND_MORPH:
            raise GenerationError(
                f"`render_morph` takes a {KIND_MORPH} recipe, got {recipe['kind']!r}"
            )
        self._check_model(recipe)
        latents = morph_latents(recipe, self.generator.latent_dim, self.genes)  # (N, D)
        if torch.equal(latents[0], latents[-1]):
            raise GenerationError("the morph's start and end are the same picture; pick two")
        total = latents.shape[0]

        def frame_done(done: int) -> None:
            if should_cancel is not None and should_cancel():
                raise GenerationCancelled(f"the morph was cancelled after {done} of {total} frames")
            if progress is not None:
                # rendering is about 80% of the time, encoding the animation the rest
                progress(0.8 * done / total, f"frame {done} of {total}")

        frames = self._render_latents(
            latents, recipe["size"], recipe["upscale"], before_image=frame_done
        )
        frame_done(total)
        if progress is not None:
            progress(0.8, f"encoding the {recipe['format'].upper()}")
        data = encode_animation(
            frames, recipe["format"], recipe["frame_ms"], comment=a1111_parameters(recipe)
        )
        return MorphOutput(frames, data, recipe)

    # --- internals --------------------------------------------------------------------

    def _check_model(self, recipe: dict) -> None:
        if self.model_sha256 is None:
            raise GenerationError("this pipeline's model id is unknown; load it with load_model")
        if recipe["model_sha256"] != self.model_sha256:
            raise GenerationError(
                f"the recipe was made by model {recipe['model_sha256'][:12]}..., "
                f"this pipeline holds {self.model_sha256[:12]}..."
            )

    def _render_latent_recipes(self, recipes: list[dict]) -> list:
        d = self.generator.latent_dim
        images: list = [None] * len(recipes)
        groups: dict[tuple[int, str], list[int]] = {}
        for i, r in enumerate(recipes):
            groups.setdefault((r["size"], r["upscale"]), []).append(i)
        for (size, method), indices in groups.items():
            latents = torch.stack(
                [recipe_latent(recipes[i], d, self.genes) for i in indices]
            )  # (N, D)
            for i, image in zip(indices, self._render_latents(latents, size, method), strict=True):
                images[i] = image
        return images

    def _render_latents(
        self,
        latents: torch.Tensor,
        size: int,
        method: str,
        before_image: Callable[[int], None] | None = None,
    ) -> list:
        """Latents `(N, latent_dim)` -> N RGB images at `size` px.

        `before_image(k)` is called before the forward pass of each chunk and before each
        image is upscaled, with the number of images already made; it may raise to stop.
        """
        from PIL import Image

        check_display_size(size)
        check_upscale(method)
        out = []
        with single_thread(), torch.no_grad():
            for start in range(0, latents.shape[0], CHUNK):
                if before_image is not None:
                    before_image(len(out))
                images = self._forward(latents[start : start + CHUNK])  # (n, 3, S, S)
                # the arithmetic of training_report.to_uint8, in place
                images = images.clamp_(-1, 1).add_(1).mul_(127.5).round_().to(torch.uint8)
                pixels = images.permute(0, 2, 3, 1).contiguous().numpy()  # (n, S, S, 3)
                for p in pixels:
                    if before_image is not None and len(out) > start:
                        before_image(len(out))
                    out.append(upscale(Image.fromarray(p), size, method))
        return out


# --- models and resolvers -----------------------------------------------------------------


def model_name_for(directory: str | Path) -> str:
    """A short name for a model directory: its folder name (the run's name for `run/model`)."""
    path = Path(directory).resolve()
    name = path.parent.name if path.name == "model" and path.parent.name else path.name
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:64]
    return name or "gan"


def load_model(directory: str | Path | None = None) -> GANPipeline:
    """Load a GAN generator into a pipeline: the bundled default model when `directory` is None.

    A training run directory (with `model/` inside) is accepted too.

    Args:
        directory: A directory with `config.json` and `model.safetensors`, or None.

    Returns:
        A `GANPipeline` knowing the model id and name.

    Raises:
        ModelUnavailable: If the directory is missing or its files cannot be read as a
            generator (missing files, a wrong or broken config, truncated weights).
    """
    bundled = directory is None
    path = default_model_dir() if bundled else Path(directory)
    hint = (
        "the bundled default model is missing or damaged; reinstall Atelier"
        if bundled
        else "pass a directory written by `atelier train` (its model/) or save_pretrained"
    )
    if not path.is_dir():
        raise ModelUnavailable(f"no GAN model at {path}: not a directory; {hint}")
    if not (path / CONFIG_NAME).is_file() and (path / "model" / CONFIG_NAME).is_file():
        path = path / "model"
    for name in (CONFIG_NAME, WEIGHTS_NAME):
        if not (path / name).is_file():
            raise ModelUnavailable(f"no GAN model at {path}: {name} is missing; {hint}")
    try:
        sha = weights_sha256(path)
        generator = _load_generator(str(path.resolve()), sha)
    except ModelUnavailable:
        raise
    except Exception as exc:  # safetensors, json, torch and config errors all mean "unreadable"
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelUnavailable(f"cannot load the GAN model in {path}: {reason}; {hint}") from None
    name = DEFAULT_MODEL_NAME if bundled else model_name_for(path)
    genes = load_genes(path)
    if genes is not None and genes.model_sha256 != sha:
        genes = None  # found for other weights: they would move this model's latents blindly
    return GANPipeline(generator, sha, name, genes)


@functools.lru_cache(maxsize=4)
def _load_generator(path: str, sha256: str) -> Generator | FastGenerator:
    # Keyed by the weights' hash, so a replaced file is loaded afresh.
    try:
        kind = generator_class(path)
    except json.JSONDecodeError:
        raise  # unreadable, as any other broken file: load_model says "cannot load"
    except ValueError as exc:  # a config of something other than a generator
        raise ModelUnavailable(str(exc)) from None
    return kind.from_pretrained(path)


def default_model_resolver(model_sha256: str) -> Path:
    """Resolve a model id to the bundled model's directory.

    Raises:
        ModelUnavailable: If the id is not the bundled model's.
    """
    return make_model_resolver()(model_sha256)


def make_model_resolver(*directories: str | Path) -> ModelResolver:
    """A resolver from model id to directory over `directories` and the bundled model.

    Ids are computed lazily, on the first call, and kept.

    Args:
        directories: Model directories (or training run directories) to know besides the
            bundled one.

    Returns:
        A function `model_sha256 -> Path`, raising `ModelUnavailable` for unknown ids.
    """
    candidates = [Path(d) for d in directories] + [default_model_dir()]
    known: dict[str, Path] = {}

    def resolve(model_sha256: str) -> Path:
        if not known:
            for d in candidates:
                path = d / "model" if (d / "model" / WEIGHTS_NAME).is_file() else d
                if (path / WEIGHTS_NAME).is_file():
                    known.setdefault(weights_sha256(path), path)
        if model_sha256 in known:
            return known[model_sha256]
        raise ModelUnavailable(
            f"no installed GAN model has id {str(model_sha256)[:16]}...; "
            "pass the directory of the model that made the recipe (--model DIR)"
        )

    return resolve


def _pipeline_for(recipe: dict, model_resolver: ModelResolver) -> GANPipeline:
    path = model_resolver(recipe["model_sha256"])
    pipeline = load_model(path)
    if pipeline.model_sha256 != recipe["model_sha256"]:
        raise ModelUnavailable(
            f"the model at {path} has id {pipeline.model_sha256[:12]}..., "
            f"not the recipe's {recipe['model_sha256'][:12]}..."
        )
    return pipeline


# --- the dispatcher -----------------------------------------------------------------------


def render_recipe(recipe: dict, model_resolver: ModelResolver = default_model_resolver):
    """Re-run any GAN recipe and return its picture.

    Args:
        recipe: A `gan_sample`, `gan_breed` or `gan_morph` recipe (validated here).
        model_resolver: Maps the recipe's `model_sha256` to a model directory.

    Returns:
        A `PIL.Image.Image`: the RGB picture for samples and children; for a morph, the
        decoded animation (its first frame is shown; `seek` moves between frames).

    Raises:
        GenerationError: If the recipe is invalid.
        ModelUnavailable: If its model is unknown to the resolver or cannot be loaded.
    """
    import io

    from PIL import Image

    recipe = validate_recipe(recipe)
    pipeline = _pipeline_for(recipe, model_resolver)
    if recipe["kind"] == KIND_MORPH:
        return Image.open(io.BytesIO(pipeline.render_morph(recipe).data))
    return pipeline.render([recipe])[0]


def render_recipe_bytes(
    recipe: dict, model_resolver: ModelResolver = default_model_resolver
) -> bytes:
    """Re-run any GAN recipe and return the exact file the studio wrote for it.

    Samples and children: PNG with the A1111 `parameters` chunk and the recipe
    (`generation.recipe_kinds.png_with_recipe`). Morphs: the GIF or WebP animation.

    Raises:
        GenerationError: If the recipe is invalid.
        ModelUnavailable: If its model is unknown to the resolver or cannot be loaded.
    """
    recipe = validate_recipe(recipe)
    pipeline = _pipeline_for(recipe, model_resolver)
    if recipe["kind"] == KIND_MORPH:
        return pipeline.render_morph(recipe).data
    from generation.recipe_kinds import png_with_recipe

    return png_with_recipe(pipeline.render([recipe])[0], recipe)


def _to_rgb_array(image):
    import io

    import numpy as np
    from PIL import Image

    if isinstance(image, bytes | bytearray | memoryview):
        image = Image.open(io.BytesIO(bytes(image)))
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def compare_pixels(a, b) -> dict:
    """Compare two pictures' RGB pixels (for animations, the first frames).

    Args:
        a: A `PIL.Image.Image` or encoded image bytes.
        b: Another one.

    Returns:
        {"identical": bool, "psnr_db": float or None, "verified": bool}: `psnr_db` is None
        when the pixels are identical (infinite PSNR) or the sizes differ; `verified` is
        true when identical or PSNR >= 50 dB (`VERIFY_PSNR_DB`).
    """
    import numpy as np

    x, y = _to_rgb_array(a), _to_rgb_array(b)
    if x.shape != y.shape:
        return {"identical": False, "psnr_db": None, "verified": False}
    if np.array_equal(x, y):
        return {"identical": True, "psnr_db": None, "verified": True}
    mse = float(np.mean((x.astype(np.float64) - y.astype(np.float64)) ** 2))
    psnr = 10.0 * math.log10(255.0**2 / mse)
    return {"identical": False, "psnr_db": round(psnr, 3), "verified": psnr >= VERIFY_PSNR_DB}


def check_regeneration(
    recipe: dict, image, model_resolver: ModelResolver = default_model_resolver
) -> dict:
    """Re-run a recipe and compare the result with a picture said to come from it.

    Args:
        recipe: Any GAN recipe.
        image: The picture (`PIL.Image.Image` or file bytes).
        model_resolver: Maps model ids to directories.

    Returns:
        `compare_pixels`'s dict.

    Raises:
        GenerationError: If the recipe is invalid.
        ModelUnavailable: If its model is not available.
    """
    return compare_pixels(render_recipe(recipe, model_resolver), image)
