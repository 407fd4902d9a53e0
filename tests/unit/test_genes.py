"""Genes: GANSpace directions, named sliders in recipes that reproduce exactly, breeding that
mixes them, and refusals."""

from __future__ import annotations

import json

import pytest
import torch

from generation.errors import GenerationError
from generation.gan import Generator
from generation.gan_pipeline import load_model, render_recipe
from generation.genes import GENES_FILE, check_edits, find_directions, load_genes
from generation.latents import recipe_latent, seed_latent
from generation.parameters import a1111_parameters
from generation.recipes import recipe_sha256, sample_recipe, validate_recipe


@pytest.fixture(scope="module")
def bundled():
    return load_model()


def test_the_bundled_model_ships_twelve_named_genes_found_for_its_weights(bundled):
    genes = bundled.genes
    assert genes is not None and genes.model_sha256 == bundled.model_sha256
    assert genes.names[:4] == ("flag", "person", "dark", "couple") and len(genes.names) == 12
    for name in genes.names:
        direction = torch.tensor(genes.directions[name])
        assert direction.shape == (128,)
        assert abs(float(direction.norm()) - 1.0) < 1e-5
        assert genes.notes[name]


def test_directions_are_unit_length_strongest_first_and_the_same_every_time():
    generator = Generator(image_size=16, latent_dim=8, base_channels=4, seed=1).eval()
    first, share = find_directions(generator, count=3, samples=256, seed=0)
    again, _ = find_directions(generator, count=3, samples=256, seed=0)
    assert first.shape == (3, 8) and torch.equal(first, again)
    assert torch.allclose(first.norm(dim=1), torch.ones(3), atol=1e-5)
    assert float(share[0]) >= float(share[1]) >= float(share[2]) > 0


def test_a_gene_edit_moves_the_latent_by_its_amount_and_reproduces_byte_for_byte(bundled):
    out = bundled(num_images=1, seed=9, truncation=0.7, size=64, genes={"person": 2.0})
    recipe = out.recipes[0]
    assert recipe["genes"] == {"person": 2.0}
    assert recipe["genes_sha256"] == bundled.genes.sha256
    expected = seed_latent(9, 128) * 0.7 + 2.0 * torch.tensor(bundled.genes.directions["person"])
    assert torch.equal(recipe_latent(recipe, 128, bundled.genes), expected)
    again = render_recipe(json.loads(json.dumps(recipe)))
    assert again.tobytes() == out.images[0].tobytes()
    plain = bundled(num_images=1, seed=9, truncation=0.7, size=64)
    assert plain.images[0].tobytes() != out.images[0].tobytes()
    assert "Genes: person +2" in a1111_parameters(recipe)


def test_recipes_without_genes_keep_their_old_form_and_hash():
    recipe = sample_recipe("ab" * 32, 3, 0.7, 64)
    assert "genes" not in recipe and "genes_sha256" not in recipe
    assert validate_recipe(recipe) == recipe
    assert sample_recipe("ab" * 32, 3, 0.7, 64, genes={"person": 0.0}) == recipe
    assert recipe_sha256(recipe) == recipe_sha256(validate_recipe(json.loads(json.dumps(recipe))))


def test_breeding_mixes_the_parents_genes(bundled):
    edited = bundled(num_images=2, seed=20, size=64, genes={"couple": 2.5}).recipes
    plain = bundled(num_images=2, seed=20, size=64).recipes
    child_edited = bundled.breed(edited[0], edited[1], 1, 0.0, 3).recipes[0]
    child_plain = bundled.breed(plain[0], plain[1], 1, 0.0, 3).recipes[0]
    genes = bundled.genes
    difference = recipe_latent(child_edited, 128, genes) - recipe_latent(child_plain, 128, genes)
    direction = torch.tensor(genes.directions["couple"])
    # the crossover keeps each dimension from one parent: both carry the same edit
    assert torch.allclose(difference, 2.5 * direction, atol=1e-5)
    own = bundled.breed(plain[0], plain[1], 1, 0.0, 3, genes={"warm": -1.0}).recipes[0]
    assert own["genes"] == {"warm": -1.0}
    assert validate_recipe(json.loads(json.dumps(own))) == own


def test_unknown_genes_other_gene_files_and_models_without_genes_are_refused(bundled, tmp_path):
    with pytest.raises(GenerationError, match="this model has no gene 'nose'; its genes: flag"):
        bundled(num_images=1, genes={"nose": 1.0})
    recipe = bundled(num_images=1, seed=1, size=64, genes={"hair": 1.0}).recipes[0]
    with pytest.raises(GenerationError, match="from a genes file this model does not have"):
        recipe_latent({**recipe, "genes_sha256": "0" * 64}, 128, bundled.genes)
    with pytest.raises(GenerationError, match="this model has no gene 'nose'"):
        recipe_latent({**recipe, "genes": {"nose": 1.0}}, 128, bundled.genes)
    Generator(image_size=16, latent_dim=8, base_channels=4).save_pretrained(tmp_path / "tiny")
    tiny = load_model(tmp_path / "tiny")
    assert tiny.genes is None
    with pytest.raises(GenerationError, match="this model has no genes"):
        tiny(num_images=1, genes={"hair": 1.0})
    # a genes file found for other weights is not used
    (tmp_path / "tiny" / GENES_FILE).write_text(
        json.dumps({"model_sha256": "0" * 64, "genes": [{"name": "a", "direction": [1.0] * 8}]})
    )
    assert load_genes(tmp_path / "tiny").names == ("a",)
    assert load_model(tmp_path / "tiny").genes is None
    (tmp_path / "tiny" / GENES_FILE).write_text("{not json")
    with pytest.raises(GenerationError, match="genes.json cannot be read"):
        load_genes(tmp_path / "tiny")


@pytest.mark.parametrize(
    ("edits", "message"),
    [
        ({"person": 3.5}, "gene 'person' must be between -3 and 3, got 3.5"),
        ({"person": float("nan")}, "gene 'person' must be between -3 and 3"),
        ({"person": "2"}, "gene 'person' needs a number"),
        ({"person": True}, "gene 'person' needs a number"),
        ({"": 1.0}, "a gene name must be 1-32 characters"),
        ([("person", 1.0)], "`genes` must map gene names to amounts"),
        ({f"g{i}": 1.0 for i in range(17)}, "at most 16 genes"),
    ],
)
def test_malformed_edits_are_refused_naming_the_gene(edits, message):
    with pytest.raises(GenerationError, match=message):
        check_edits(edits)
    with pytest.raises(GenerationError, match=message):
        sample_recipe("ab" * 32, 1, genes=edits, genes_sha256="cd" * 32)


def test_edits_need_the_genes_file_named():
    with pytest.raises(GenerationError, match="`genes_sha256` must be 64 lowercase hex"):
        sample_recipe("ab" * 32, 1, genes={"person": 1.0})
    assert check_edits({"person": 1, "hair": 0}) == {"person": 1.0}
