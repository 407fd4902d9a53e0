"""One place per recipe kind: what each kind of recipe is, and the one way to write it down.

Every picture the studio makes carries a recipe (`{"kind": ..., ...}`) that remakes it. What
follows from the kind lives here and nowhere else:

- `family`: which engine renders it ("gan", "style", "dream" or "diffusion");
- `ai_label`: the AI disclosure it earns ("ai_generated": a model made the pixels;
  "ai_modified": a model changed someone's pixels);
- `breedable`: whether it stands for one GAN latent, so the studio can breed or morph it;
- `reruns_anywhere`: whether any Atelier install can re-run it to check it (text-to-image
  needs the operator's model, which another install may not have);
- `parameters`: its AUTOMATIC1111 `parameters` infotext (what A1111, ComfyUI and civitai
  read).

`png_with_recipe` is the one PNG writer for studio pictures: the infotext and the recipe as
canonical JSON, so a file's metadata never depends on which path wrote it. Adding a kind is
one entry in `KINDS` (and its engine's render function).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def _gan_parameters(recipe: dict) -> str:
    from generation.parameters import a1111_parameters

    return a1111_parameters(recipe)


def _style_parameters(recipe: dict) -> str:
    from generation.parameters import style_parameters

    return style_parameters(recipe)


def _dream_parameters(recipe: dict) -> str:
    from generation.dream import dream_parameters

    return dream_parameters(recipe)


def _diffusion_parameters(recipe: dict) -> str:
    from generation.diffusion import a1111_infotext

    return a1111_infotext(recipe)


@dataclass(frozen=True)
class RecipeKind:
    name: str
    family: str
    ai_label: str
    breedable: bool
    reruns_anywhere: bool
    parameters: Callable[[dict], str]


KINDS: dict[str, RecipeKind] = {
    kind.name: kind
    for kind in (
        RecipeKind("gan_sample", "gan", "ai_generated", True, True, _gan_parameters),
        RecipeKind("gan_breed", "gan", "ai_generated", True, True, _gan_parameters),
        RecipeKind("gan_morph", "gan", "ai_generated", False, True, _gan_parameters),
        RecipeKind("gan_projection", "gan", "ai_generated", True, True, _gan_parameters),
        RecipeKind("style", "style", "ai_modified", False, True, _style_parameters),
        RecipeKind("dream", "dream", "ai_modified", False, True, _dream_parameters),
        RecipeKind(
            "diffusion_txt2img", "diffusion", "ai_generated", False, False, _diffusion_parameters
        ),
        RecipeKind(
            "diffusion_img2img", "diffusion", "ai_modified", False, False, _diffusion_parameters
        ),
    )
}
# kind names that registrations made elsewhere may carry (an uploader's own recipe JSON):
# they earn the disclosure their words mean, and nothing else
FOREIGN_AI_LABELS = {
    "gan": "ai_generated",
    "breed": "ai_generated",
    "morph": "ai_generated",
    "txt2img": "ai_generated",
    "diffusion": "ai_generated",
    "img2img": "ai_modified",
}
BREEDABLE_KINDS = tuple(name for name, kind in KINDS.items() if kind.breedable)


def kind_of(recipe: dict[str, Any] | None) -> RecipeKind | None:
    """The kind of a recipe, or None for an upload's recipe or one Atelier does not make."""
    name = (recipe or {}).get("kind")
    return KINDS.get(name) if isinstance(name, str) else None


def ai_label(recipe: dict[str, Any] | None) -> str:
    """The AI-disclosure label that follows from how a picture was made: "ai_generated",
    "ai_modified", or "human_upload" when no model was involved."""
    kind = kind_of(recipe)
    if kind is not None:
        return kind.ai_label
    name = (recipe or {}).get("kind")
    return FOREIGN_AI_LABELS.get(name, "human_upload") if isinstance(name, str) else "human_upload"


def parameters_text(recipe: dict[str, Any]) -> str | None:
    """The A1111 infotext of a studio recipe, or None for another recipe or a malformed one."""
    from generation.errors import GenerationError

    kind = kind_of(recipe)
    if kind is None:
        return None
    try:
        return kind.parameters(recipe)
    except (GenerationError, KeyError, TypeError, ValueError, IndexError):
        return None


def png_with_recipe(image, recipe: dict[str, Any]) -> bytes:
    """The one PNG writer for studio pictures: `parameters` (the kind's infotext) and
    `atelier_recipe` (the recipe as canonical JSON) text chunks. The same picture and recipe
    always give the same bytes.

    Raises:
        GenerationError: If the recipe is not one of the studio's kinds, or is malformed.
    """
    from generation.errors import GenerationError
    from generation.parameters import RECIPE_KEY, png_with_parameters
    from generation.recipes import canonical_json, validate_recipe

    kind = kind_of(recipe)
    if kind is None:
        raise GenerationError(f"not a studio recipe: kind {(recipe or {}).get('kind')!r}")
    if kind.family == "gan":
        recipe = validate_recipe(recipe)
    text = kind.parameters(recipe)
    return png_with_parameters(image, text, {RECIPE_KEY: canonical_json(recipe).decode("utf-8")})
