"""DeepDream: make a picture show what one layer of a trained network sees in it.

Octave gradient ascent (Mordvintsev et al., 2015): the picture is processed from a small
copy up to full size; at each octave, a few steps of gradient ascent raise the mean square
activation of the chosen layer of `generation.mobilenet.FeatureNet` (the ImageNet
MobileNetV2 inside Magenta's style predictor, the network that ships offline), each step on
a randomly shifted copy so the patterns do not lock to the pixel grid; the detail added at
one octave is carried up to the next. Early layers ("block3") paint strokes and textures,
middle ones ("block8"-"block11") eyes, scales and fur-like patterns, late ones shapes.

A dream is a recipe (kind "dream"): the source picture by hash, the layer, octaves, steps,
strength, size and seed. The shifts come from a `torch.Generator` seeded by the recipe, so
running a recipe again gives the same pixels (`render_dream_recipe`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image

from generation.errors import GenerationCancelled, GenerationError
from generation.recipes import check_float, check_int
from generation.style import ImageInput, SourceImage, _load_recorded, load_source, output_size

DREAM_CODE_VERSION = 1
KIND_DREAM = "dream"
# the layers worth dreaming with: the stem and block1-2 only sharpen, conv_1 and the
# embedding are too pooled to paint
DREAM_LAYERS = tuple(f"block{i}" for i in range(3, 18))
DEFAULT_LAYER = "block10"
MIN_OCTAVES, MAX_OCTAVES, DEFAULT_OCTAVES = 1, 6, 4
MIN_STEPS, MAX_STEPS, DEFAULT_STEPS = 1, 40, 10
OCTAVE_SCALE = 1.4
MIN_SIZE, MAX_SIZE, DEFAULT_SIZE = 64, 1024, 512
MAX_STRENGTH, DEFAULT_STRENGTH = 4.0, 1.0
STEP_SIZE = 0.012  # per step at strength 1, on pixels in [0, 1], after normalising the gradient
MAX_SHIFT = 32  # px, the random roll before each step
MIN_OCTAVE_SIDE = 48
MAX_SEED = 2**63 - 1

ProgressCallback = Callable[[float, str], None]


class DreamCancelled(GenerationCancelled):
    """A dream was cancelled before it finished."""


@dataclass(frozen=True)
class DreamOutput:
    """A dreamed picture and the recipe that makes it again."""

    image: Image.Image
    recipe: dict[str, Any]

    def png(self) -> bytes:
        """The PNG with its recipe (`generation.recipe_kinds.png_with_recipe`)."""
        from generation.recipe_kinds import png_with_recipe

        return png_with_recipe(self.image, self.recipe)


def check_layer(layer: object) -> str:
    """`layer` if it is one of `DREAM_LAYERS`, else raise naming the choices."""
    if layer not in DREAM_LAYERS:
        raise GenerationError(
            f"`layer` must be one of {DREAM_LAYERS[0]} to {DREAM_LAYERS[-1]}, got {layer!r}"
        )
    return str(layer)


def _octave_sizes(width: int, height: int, octaves: int) -> list[tuple[int, int]]:
    """Sizes from the smallest octave up to (width, height); octaves that would be smaller
    than MIN_OCTAVE_SIDE on the short side are left out."""
    sizes = []
    for level in range(octaves - 1, -1, -1):
        scale = OCTAVE_SCALE**-level
        size = (round(width * scale), round(height * scale))
        if level == 0 or min(size) >= MIN_OCTAVE_SIDE:
            sizes.append(size)
    return sizes


def _dream(
    picture: Image.Image,
    *,
    layer: str,
    octaves: int,
    steps: int,
    strength: float,
    seed: int,
    progress: ProgressCallback | None,
    should_cancel: Callable[[], bool] | None,
) -> Image.Image:
    import numpy as np
    import torch
    import torch.nn.functional as F

    from generation.mobilenet import feature_net

    net = feature_net()
    base = torch.from_numpy(np.asarray(picture, dtype=np.float32) / 255.0).permute(2, 0, 1)[None]
    sizes = _octave_sizes(picture.width, picture.height, octaves)
    shifts = torch.Generator().manual_seed(seed)
    total, done = len(sizes) * steps, 0
    detail = None
    for octave, (width, height) in enumerate(sizes, 1):
        octave_base = (
            base
            if (width, height) == picture.size
            else F.interpolate(base, size=(height, width), mode="bilinear", antialias=True)
        )
        if detail is None:
            detail = torch.zeros_like(octave_base)
        else:
            detail = F.interpolate(detail, size=(height, width), mode="bilinear")
        image = (octave_base + detail).clamp(0.0, 1.0)
        for _ in range(steps):
            if should_cancel is not None and should_cancel():
                raise DreamCancelled("the dream was cancelled")
            dy, dx = (
                int(v) for v in torch.randint(-MAX_SHIFT, MAX_SHIFT + 1, (2,), generator=shifts)
            )
            rolled = torch.roll(image, shifts=(dy, dx), dims=(2, 3)).requires_grad_(True)
            activation = net(rolled, (layer,))[layer]  # (1, C, H/s, W/s)
            activation.pow(2).mean().backward()
            grad = torch.roll(rolled.grad, shifts=(-dy, -dx), dims=(2, 3))
            grad = grad / (grad.abs().mean() + 1e-8)
            with torch.no_grad():
                image = (image + STEP_SIZE * strength * grad).clamp(0.0, 1.0)
            done += 1
            if progress is not None:
                progress(done / total, f"octave {octave} of {len(sizes)}")
        detail = image - octave_base
    out = (image[0].permute(1, 2, 0).detach().numpy() * 255.0 + 0.5).clip(0, 255).astype(np.uint8)
    return Image.fromarray(out, mode="RGB")


def _recipe(source: SourceImage, plan: dict[str, Any], net_sha256: str) -> dict[str, Any]:
    import torch

    from generation.mobilenet import PREDICT_FILE

    return {
        "kind": KIND_DREAM,
        "code_version": DREAM_CODE_VERSION,
        "content": {"sha256": source.sha256, "hash_of": source.hash_of},
        "content_artwork_id": None,
        **plan,
        "octave_scale": OCTAVE_SCALE,
        "step_size": STEP_SIZE,
        "network": {"file": PREDICT_FILE, "sha256": net_sha256, "name": "MobileNetV2"},
        "runtime": {"torch": torch.__version__.split("+")[0]},
    }


def dream(
    content: ImageInput,
    *,
    layer: str = DEFAULT_LAYER,
    octaves: int = DEFAULT_OCTAVES,
    steps: int = DEFAULT_STEPS,
    strength: float = DEFAULT_STRENGTH,
    size: int = DEFAULT_SIZE,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> DreamOutput:
    """Dream on a picture.

    Args:
        content: The picture (file bytes, a path or a PIL image).
        layer: Which layer's activations to raise, one of `DREAM_LAYERS`.
        octaves: How many scales to work at, 1-6 (each 1.4x the last).
        steps: Gradient steps per octave, 1-40.
        strength: How far each step moves the pixels, 0-4 (0 returns the picture resized).
        size: The output's longer side in px, 64-1024.
        seed: Seeds the random shifts.
        progress: Called with (fraction done, message) after each step.
        should_cancel: Polled before each step; True stops with `DreamCancelled`.

    Returns:
        The picture and its recipe.

    Raises:
        GenerationError: a bad argument or an unreadable picture.
        DreamCancelled: cancelled.
    """
    plan = _checked_plan(
        dict(layer=layer, octaves=octaves, steps=steps, strength=strength, size=size, seed=seed)
    )
    source = load_source(content, "content")
    return _run(source, plan, progress, should_cancel)


PLAN_KEYS = ("layer", "octaves", "steps", "strength", "size", "seed")


def _checked_plan(values: Mapping[str, Any]) -> dict[str, Any]:
    """The dream's settings, each checked (a new dream's and a stored recipe's alike)."""
    return {
        "layer": check_layer(values["layer"]),
        "octaves": check_int(values["octaves"], "octaves", MIN_OCTAVES, MAX_OCTAVES),
        "steps": check_int(values["steps"], "steps", MIN_STEPS, MAX_STEPS),
        "strength": check_float(values["strength"], "strength", 0.0, MAX_STRENGTH),
        "size": check_int(values["size"], "size", MIN_SIZE, MAX_SIZE),
        "seed": check_int(values["seed"], "seed", 0, MAX_SEED),
    }


def _run(source: SourceImage, plan: dict, progress, should_cancel) -> DreamOutput:
    width, height = output_size(*source.rgb.size, plan["size"])
    if min(width, height) < MIN_SIZE // 2:
        raise GenerationError(
            f"the picture is too narrow to dream on at {plan['size']} px: {width}x{height}"
        )
    picture = (
        source.rgb
        if source.rgb.size == (width, height)
        else source.rgb.resize((width, height), Image.LANCZOS)
    )
    image = _dream(
        picture,
        layer=plan["layer"],
        octaves=plan["octaves"],
        steps=plan["steps"],
        strength=plan["strength"],
        seed=plan["seed"],
        progress=progress,
        should_cancel=should_cancel,
    )
    from generation.mobilenet import feature_net

    return DreamOutput(image=image, recipe=_recipe(source, plan, feature_net().sha256))


def render_dream_recipe(
    recipe: Mapping[str, Any],
    load_image: Callable[[str], bytes],
    *,
    progress: ProgressCallback | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> DreamOutput:
    """Make a dream recipe's picture again.

    Args:
        recipe: A `DreamOutput.recipe` (as stored, e.g. after a JSON round trip).
        load_image: Returns the bytes whose SHA-256 is the given hex string.

    Raises:
        GenerationError: another code version or network, a malformed recipe, or
            `load_image` returning other bytes.
    """
    if not isinstance(recipe, Mapping) or recipe.get("kind") != KIND_DREAM:
        raise GenerationError("`recipe` must be a dream recipe (kind 'dream')")
    if recipe.get("code_version") != DREAM_CODE_VERSION:
        raise GenerationError(
            f"the recipe was made by dream code {recipe.get('code_version')!r}; "
            f"this is {DREAM_CODE_VERSION}, which may dream differently"
        )
    from generation.mobilenet import PREDICT_FILE, feature_net

    network = recipe.get("network")
    if not isinstance(network, Mapping) or network.get("sha256") != feature_net().sha256:
        raise GenerationError(f"the recipe used another {PREDICT_FILE}; the installed one differs")
    try:
        plan = _checked_plan({key: recipe[key] for key in PLAN_KEYS})
    except KeyError as exc:
        raise GenerationError(f"`recipe` is malformed (no {exc})") from None
    source = _load_recorded(recipe["content"], load_image, "content")
    return _run(source, plan, progress, should_cancel)


def dream_parameters(recipe: Mapping[str, Any]) -> str:
    """The A1111-style infotext of a dream recipe."""
    return (
        f"DeepDream, Layer: {recipe['layer']}, Octaves: {recipe['octaves']}, "
        f"Steps: {recipe['steps']}, Strength: {recipe['strength']:g}, Seed: {recipe['seed']}, "
        f"Size: {recipe['size']}, Network: MobileNetV2 ({recipe['network']['sha256'][:10]}), "
        f"Source hash: {recipe['content']['sha256'][:10]}"
    )
