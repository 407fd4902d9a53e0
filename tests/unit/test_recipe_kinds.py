"""Issue 13: one place per recipe kind. What follows from a kind (engine, AI label, breeding,
re-running, infotext) is read from `generation.recipe_kinds`; no layer above keeps its own
list of kinds, and one writer puts every studio picture's metadata in its PNG."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

from generation.errors import GenerationError
from generation.parameters import read_parameters, read_recipe
from generation.recipe_kinds import (
    BREEDABLE_KINDS,
    KINDS,
    ai_label,
    kind_of,
    parameters_text,
    png_with_recipe,
)

ROOT = Path(__file__).resolve().parents[2]
STYLE_RECIPE = {
    "kind": "style",
    "code_version": "style-1",
    "content": {"sha256": "ab" * 32, "hash_of": "file"},
    "style": {"kind": "presets", "weights": [0.0] * 19 + [1.0] + [0.0] * 6},
    "strength": 1.0,
    "colour": "style",
    "size": {"long_side": 64, "width": 64, "height": 48},
    "models": {"presets": "cd" * 32},
}


def test_every_kind_is_described_once_with_a_known_label():
    assert set(KINDS) == {
        "gan_sample",
        "gan_breed",
        "gan_morph",
        "gan_projection",
        "style",
        "dream",
        "diffusion_txt2img",
        "diffusion_img2img",
    }
    assert {k.ai_label for k in KINDS.values()} <= {"ai_generated", "ai_modified"}
    assert BREEDABLE_KINDS == ("gan_sample", "gan_breed", "gan_projection")


def test_labels_follow_the_kind_and_foreign_recipes_only_their_words():
    assert ai_label({"kind": "style"}) == "ai_modified"
    assert ai_label({"kind": "diffusion_txt2img"}) == "ai_generated"
    assert ai_label({"kind": "img2img"}) == "ai_modified"  # an uploader's own JSON
    assert ai_label({"kind": "watercolour"}) == ai_label(None) == "human_upload"
    assert ai_label({"kind": ["gan"]}) == "human_upload"
    assert kind_of({"kind": "gan"}) is None


def test_the_one_png_writer_carries_the_kinds_infotext_and_the_recipe():
    png = png_with_recipe(Image.new("RGB", (64, 48), (10, 20, 30)), STYLE_RECIPE)
    assert read_recipe(png) == STYLE_RECIPE
    assert read_parameters(png) == parameters_text(STYLE_RECIPE)
    assert "Style: 19 starry blues" in read_parameters(png)
    assert png == png_with_recipe(Image.new("RGB", (64, 48), (10, 20, 30)), STYLE_RECIPE)


def test_malformed_or_foreign_recipes_have_no_infotext_and_are_not_written():
    assert parameters_text({"kind": "style"}) is None
    assert parameters_text({"kind": "gan_sample", "seed": "x"}) is None
    assert parameters_text({"kind": "upload"}) is None
    with pytest.raises(GenerationError, match="not a studio recipe"):
        png_with_recipe(Image.new("RGB", (8, 8)), {"kind": "upload"})


@pytest.mark.parametrize("layer", ["marketplace", "ui", "atelier"])
def test_no_layer_above_generation_keeps_its_own_list_of_kinds(layer):
    # "style" and "dream" are also pages, commands and families: the others are kinds only
    names = "|".join(re.escape(f'"{name}"') for name in KINDS if name not in ("style", "dream"))
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / layer).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(names, line)
    ]
    assert found == []
