"""Your own picture in the model: find the latent whose picture looks most like it.

GAN inversion by optimisation (as in Image2StyleGAN, Abdal et al., 2019, for a model without
a mapping network): the picture is composited on white, cut to its centre square and resized
to the model's size; the best of 256 seeded latents (by pixel error) starts a search with
Adam on the latent, minimising pixel error plus a perceptual error, the distance between
MobileNetV2 activations (`generation.mobilenet`, blocks 3 and 6, at twice the model's size).
The latent found is a `gan_projection` recipe: it can be rendered, bred, morphed and
gene-edited like a seeded sample, and it names its source picture by hash.

A model can only draw what it learned: a photograph projected into an emoji model comes back
as the emoji that looks most like it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PIL import Image

from generation.errors import GenerationCancelled, GenerationError
from generation.recipes import check_int, check_seed, projection_recipe
from generation.style import ImageInput, load_source

PROJECTION_CODE = 1
CANDIDATES = 256
MIN_STEPS, MAX_STEPS, DEFAULT_STEPS = 10, 400, 150
LEARNING_RATE = 0.08
PIXEL_WEIGHT, FEATURE_WEIGHT = 20.0, 0.5
FEATURE_LAYERS = ("block3", "block6")
INITIAL_TRUNCATION = 0.7


class ProjectionCancelled(GenerationCancelled):
    """A projection was cancelled before it finished."""


@dataclass(frozen=True)
class ProjectionOutput:
    """The model's picture nearest the source, its recipe, and the source as the model saw it."""

    image: Image.Image
    recipe: dict[str, Any]
    target: Image.Image


def model_view(picture: Image.Image, side: int) -> Image.Image:
    """A picture as the model is shown it: its centre square at `side` px, over white."""
    rgb = picture.convert("RGB")
    square = min(rgb.size)
    left, top = (rgb.width - square) // 2, (rgb.height - square) // 2
    return rgb.crop((left, top, left + square, top + square)).resize((side, side), Image.LANCZOS)


def project(
    pipeline,
    picture: ImageInput,
    *,
    steps: int = DEFAULT_STEPS,
    seed: int = 0,
    size: int | None = None,
    genes: dict | None = None,
    progress: Callable[[float, str], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> ProjectionOutput:
    """Project a picture into `pipeline`'s model.

    Args:
        pipeline: A `generation.gan_pipeline.GANPipeline` whose model id is known.
        picture: The picture (file bytes, a path or a PIL image).
        steps: Optimisation steps, 10-400.
        seed: Seeds the starting candidates.
        size: Display size of the result (default: the model's own).
        genes: Gene edits to apply to the latent found.
        progress: Called with (fraction, message) every 10 steps.
        should_cancel: Polled every step; True stops with `ProjectionCancelled`.

    Raises:
        GenerationError: bad arguments or an unreadable picture.
        ProjectionCancelled: cancelled.
    """
    import numpy as np
    import torch
    import torch.nn.functional as F

    from generation.gan_pipeline import single_thread
    from generation.mobilenet import feature_net

    check_int(steps, "steps", MIN_STEPS, MAX_STEPS)
    check_seed(seed)
    if pipeline.model_sha256 is None:
        raise GenerationError("this pipeline's model id is unknown; load it with load_model")
    edits = pipeline.gene_fields(genes)
    source = load_source(picture, "picture")
    generator, net = pipeline.generator, feature_net()
    side = generator.image_size
    target_image = model_view(source.rgb, side)
    target = torch.from_numpy(np.asarray(target_image, dtype=np.float32) / 127.5 - 1.0)
    target = target.permute(2, 0, 1)[None]  # (1, 3, S, S) in [-1, 1]

    def features(images):  # images (B, 3, S, S) in [-1, 1]
        scaled = F.interpolate((images + 1) / 2, size=(2 * side, 2 * side), mode="bilinear")
        return net(scaled, FEATURE_LAYERS)

    with single_thread():
        with torch.no_grad():
            wanted = features(target)
            start = torch.randn(
                CANDIDATES, generator.latent_dim, generator=torch.Generator().manual_seed(seed)
            )
            start *= INITIAL_TRUNCATION
            errors = torch.cat(
                [
                    ((generator(chunk) - target) ** 2).mean(dim=(1, 2, 3))
                    for chunk in start.split(64)
                ]
            )
            latent = start[int(errors.argmin())].clone()[None].requires_grad_(True)  # (1, D)
        optimiser = torch.optim.Adam([latent], lr=LEARNING_RATE)
        for step in range(steps):
            if should_cancel is not None and should_cancel():
                raise ProjectionCancelled("the projection was cancelled")
            optimiser.zero_grad()
            image = generator(latent)
            found = features(image)
            loss = PIXEL_WEIGHT * F.mse_loss(image, target) + FEATURE_WEIGHT * sum(
                F.mse_loss(found[k], wanted[k]) for k in FEATURE_LAYERS
            )
            loss.backward()
            optimiser.step()
            with torch.no_grad():
                latent.clamp_(-10.0, 10.0)
            if progress is not None and (step + 1) % 10 == 0:
                progress((step + 1) / steps, f"step {step + 1} of {steps}")
    values = [float(x) for x in latent.detach()[0]]
    recipe = projection_recipe(
        pipeline.model_sha256,
        values,
        {"sha256": source.sha256, "hash_of": source.hash_of},
        {
            "method": "adam-pixel-mobilenet",
            "code": PROJECTION_CODE,
            "steps": steps,
            "seed": seed,
            "candidates": CANDIDATES,
            "loss": round(float(loss.detach()), 4),
        },
        side if size is None else size,
        model_name=pipeline.model_name,
        **edits,
    )
    image = pipeline.render([recipe])[0]
    return ProjectionOutput(image=image, recipe=recipe, target=target_image)
