"""Projection: a picture's nearest latent in the bundled model, as a recipe that renders,
breeds, morphs and takes gene edits."""

from __future__ import annotations

import json

import numpy as np
import pytest

from generation.errors import GenerationError
from generation.gan_pipeline import load_model, render_recipe
from generation.parameters import a1111_parameters
from generation.projection import ProjectionCancelled, model_view, project
from generation.recipe_kinds import BREEDABLE_KINDS, ai_label
from generation.recipes import validate_recipe
from tests.factories import detailed


@pytest.fixture(scope="module")
def bundled():
    return load_model()


@pytest.fixture(scope="module")
def projected(bundled):
    target = bundled(num_images=1, seed=77, truncation=0.7, size=64).images[0]
    return target, project(bundled, target, steps=40, seed=1)


def error(a, b) -> float:
    return float(np.mean((np.asarray(a, dtype=float) - np.asarray(b, dtype=float)) ** 2))


def test_a_picture_the_model_made_is_found_again_closer_than_any_start(bundled, projected):
    target, out = projected
    starts = bundled(num_images=16, seed=1000, truncation=0.7, size=64).images
    assert error(out.image, target) < min(error(s, target) for s in starts)
    assert out.target.size == (64, 64) and out.image.size == (64, 64)


def test_the_projection_is_a_recipe_that_renders_breeds_and_morphs(bundled, projected):
    _target, out = projected
    recipe = json.loads(json.dumps(out.recipe))
    assert recipe["kind"] == "gan_projection" and len(recipe["latent"]) == 128
    assert recipe["search"]["steps"] == 40 and recipe["source"]["hash_of"] == "png"
    assert validate_recipe(recipe) == out.recipe
    assert render_recipe(recipe).tobytes() == out.image.tobytes()
    assert "gan_projection" in BREEDABLE_KINDS and ai_label(recipe) == "ai_generated"
    assert "projected from a picture" in a1111_parameters(recipe)
    other = bundled(num_images=1, seed=3, size=64).recipes[0]
    assert len(bundled.breed(recipe, other, 2, 0.1, 4).images) == 2
    assert bundled.morph(recipe, other, 3).recipe["start"] == out.recipe


def test_genes_move_a_projection_too(bundled):
    picture = detailed(2, 96)
    plain = project(bundled, picture, steps=10)
    warm = project(bundled, picture, steps=10, genes={"warm": 2.0})
    assert warm.recipe["genes"] == {"warm": 2.0}
    assert warm.recipe["latent"] == plain.recipe["latent"]
    assert warm.image.tobytes() != plain.image.tobytes()
    assert render_recipe(warm.recipe).tobytes() == warm.image.tobytes()


def test_the_model_sees_the_centre_square_over_white():
    from PIL import Image

    wide = Image.new("RGBA", (300, 100), (0, 0, 0, 0))
    wide.paste((255, 0, 0, 255), (100, 0, 200, 100))
    seen = model_view(wide, 64)
    assert seen.size == (64, 64) and seen.getpixel((32, 32)) == (255, 0, 0)


def test_bad_settings_unreadable_pictures_and_cancel_are_refused_in_words(bundled):
    with pytest.raises(GenerationError, match=r"`steps` must be in \[10, 400\], got 5"):
        project(bundled, detailed(1, 64), steps=5)
    with pytest.raises(GenerationError, match="not an image"):
        project(bundled, b"not a picture")
    with pytest.raises(GenerationError, match="this model has no gene 'nose'"):
        project(bundled, detailed(1, 64), genes={"nose": 1.0})
    with pytest.raises(ProjectionCancelled, match="cancelled"):
        project(bundled, detailed(1, 64), should_cancel=lambda: True)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"latent": [0.0] * 64}, "the recipe's latent has 64 numbers; this model takes 128"),
        ({"latent": [float("inf")] * 128}, "`latent` values must be finite"),
        ({"latent": "zeros"}, "`latent` must be a list"),
        ({"source": {"sha256": "x"}}, "`source` must be"),
        ({"search": "x" * 10}, "`search` must be a small JSON object"),
    ],
)
def test_malformed_projection_recipes_are_refused(projected, change, message):
    _target, out = projected
    with pytest.raises(GenerationError, match=message):
        render_recipe({**out.recipe, **change})
