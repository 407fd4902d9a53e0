"""Saving studio results: source rights, derivation edges, and the regeneration check."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from db.models import Derivation
from generation.gan_pipeline import load_model
from generation.recipe_kinds import png_with_recipe
from marketplace.creations import breeding_parent_recipe, check_source, save_creation
from marketplace.errors import InvalidInput, NotOwner
from marketplace.identification import identify
from marketplace.regeneration import check_artwork_recipe
from provenance.checkpoint import NoteSigner
from tests.factories import art_image, encode
from tests.integration.helpers import buy, new_artwork, new_listing, new_user


@pytest.fixture(scope="module")
def gan():
    return load_model()  # the bundled default model


def generated(gan, seed, size=128):
    out = gan(num_images=1, seed=seed, truncation=0.7, size=size)
    return png_with_recipe(out.images[0], out.recipes[0]), out.recipes[0]


def save(sessions, blobs, user, data, recipe, title, **kwargs):
    with sessions() as s, s.begin():
        return save_creation(s, blobs, user, data, recipe, title=title, **kwargs).id


def regeneration(sessions, blobs, artwork_id, tmp_path):
    from db.models import Artwork

    with sessions() as s:
        return check_artwork_recipe(
            s, blobs, s.get(Artwork, artwork_id), model_cache=tmp_path / "models"
        )


def test_a_saved_sample_is_ai_generated_and_its_recipe_verifies(sessions, blobs, gan, tmp_path):
    ada = new_user(sessions, "ada")
    data, recipe = generated(gan, 11)
    art = save(sessions, blobs, ada, data, recipe, "Seed eleven")
    with sessions() as s:
        from db.models import Artwork

        assert s.get(Artwork, art).ai_label == "ai_generated"
    check = regeneration(sessions, blobs, art, tmp_path)
    assert check["status"] == "verified" and check["identical"] is True
    # and identify reports it for a re-encoded copy
    copy = encode(Image.open(io.BytesIO(data)).convert("RGB"), "JPEG", quality=85)
    with sessions() as s, s.begin():
        result = identify(
            s, copy, anchor_pem=None, signer=NoteSigner.generate("t.example/log"), blobs=blobs
        )
    assert result.verdict == "copy_of" and result.artwork_id == art
    assert result.matches[0]["regeneration"]["status"] == "verified"


def test_a_recipe_that_does_not_make_the_picture_is_a_mismatch(sessions, blobs, gan, tmp_path):
    ada = new_user(sessions, "ada")
    data, _ = generated(gan, 12)
    _, other_recipe = generated(gan, 13)  # claims seed 13 for the picture of seed 12
    art = save(sessions, blobs, ada, data, other_recipe, "Claimed")
    check = regeneration(sessions, blobs, art, tmp_path)
    assert check["status"] == "mismatch" and check["identical"] is False
    upload = new_artwork(sessions, blobs, ada, 3)
    assert regeneration(sessions, blobs, upload, tmp_path)["status"] == "not_applicable"


def test_breeding_needs_both_parents_to_be_yours_or_licensed(sessions, blobs, gan, tmp_path):
    ada, bob = new_user(sessions, "ada"), new_user(sessions, "bob")
    a = save(sessions, blobs, ada, *generated(gan, 21), "Mother")
    b = save(sessions, blobs, ada, *generated(gan, 22), "Father")
    with sessions() as s, pytest.raises(NotOwner, match=r"belongs to ada.*commercial licence"):
        breeding_parent_recipe(s, bob, a)
    with sessions() as s:
        parents = [breeding_parent_recipe(s, ada, a), breeding_parent_recipe(s, ada, b)]
    child = gan.breed(parents[0], parents[1], children=1, mutation=0.2, seed=5)
    data = png_with_recipe(child.images[0], child.recipes[0])
    roles = [(a, "breeding_parent"), (b, "breeding_parent")]
    with sessions() as s, s.begin(), pytest.raises(NotOwner):
        save_creation(s, blobs, bob, data, child.recipes[0], title="Stolen", parents=roles)
    kid = save(sessions, blobs, ada, data, child.recipes[0], "Child", parents=roles)
    with sessions() as s:
        edges = {(d.parent_id, d.role) for d in s.query(Derivation).filter_by(child_id=kid)}
    assert edges == set(roles)
    assert regeneration(sessions, blobs, kid, tmp_path)["status"] == "verified"
    upload = new_artwork(sessions, blobs, ada, 4)
    with sessions() as s, pytest.raises(InvalidInput, match="not made with the studio's GAN"):
        breeding_parent_recipe(s, ada, upload)


def test_a_restyle_of_licensed_works_records_both_sources_and_verifies(sessions, blobs, tmp_path):
    from generation.style import StylePipeline

    ada, bob = new_user(sessions, "ada"), new_user(sessions, "bob")
    content_id = new_artwork(sessions, blobs, bob, 31, title="Bob's photo")
    style_id = new_artwork(sessions, blobs, ada, 32, title="Ada's painting")
    with sessions() as s, pytest.raises(NotOwner, match="as a style"):
        check_source(s, bob, style_id, "style_source")
    buy(sessions, new_listing(sessions, style_id, ada, 100, licence_tier="commercial"), bob)
    content, style = encode(art_image(31)), encode(art_image(32))
    out = StylePipeline(threads=1)(content, style=style, strength=0.8, size=160)
    recipe = {**out.recipe, "content_artwork_id": content_id, "style_artwork_ids": [style_id]}
    art = save(
        sessions,
        blobs,
        bob,
        out.png(),
        recipe,
        "Restyled",
        parents=[(content_id, "content_source"), (style_id, "style_source")],
        sources=[content, style],
    )
    with sessions() as s:
        from db.models import Artwork

        assert s.get(Artwork, art).ai_label == "ai_modified"
        edges = {(d.parent_id, d.role) for d in s.query(Derivation).filter_by(child_id=art)}
    assert edges == {(content_id, "content_source"), (style_id, "style_source")}
    assert regeneration(sessions, blobs, art, tmp_path)["status"] == "verified"


def test_a_dream_on_a_licensed_work_records_its_source_and_verifies(sessions, blobs, tmp_path):
    from db.models import Artwork
    from generation.dream import dream

    ada, bob = new_user(sessions, "ada"), new_user(sessions, "bob")
    source_id = new_artwork(sessions, blobs, ada, 33, title="Ada's picture")
    with sessions() as s, pytest.raises(NotOwner, match="as the picture to restyle or dream on"):
        check_source(s, bob, source_id, "content_source")
    buy(sessions, new_listing(sessions, source_id, ada, 100, licence_tier="commercial"), bob)
    source = encode(art_image(33))
    out = dream(source, layer="block7", octaves=2, steps=2, size=96, seed=3)
    recipe = {**out.recipe, "content_artwork_id": source_id}
    art = save(
        sessions,
        blobs,
        bob,
        out.png(),
        recipe,
        "Dreamed",
        parents=[(source_id, "content_source")],
        sources=[source],
    )
    with sessions() as s:
        assert s.get(Artwork, art).ai_label == "ai_modified"
        edges = {(d.parent_id, d.role) for d in s.query(Derivation).filter_by(child_id=art)}
    assert edges == {(source_id, "content_source")}
    assert regeneration(sessions, blobs, art, tmp_path)["status"] == "verified"
    # another seed's recipe on the same pixels is caught
    with sessions() as s, s.begin():
        s.get(Artwork, art).recipe = {**recipe, "seed": 4}
    assert regeneration(sessions, blobs, art, tmp_path)["status"] == "mismatch"


def test_downloads_carry_a1111_parameters_beside_trusted_credentials(sessions, blobs, gan):
    from generation.parameters import parse_a1111_parameters, read_parameters
    from generation.style import StylePipeline
    from marketplace.certificates import signed_download
    from provenance.c2pa import create_signing_material, read_manifest

    material = create_signing_material()
    ada = new_user(sessions, "ada")
    data, recipe = generated(gan, 41)
    sample = save(sessions, blobs, ada, data, recipe, "Sample")
    # the style pipeline writes a bare PNG: the download adds the chunk from the recipe
    out = StylePipeline(threads=1)(encode(art_image(42)), presets=3, size=96)
    restyle = save(sessions, blobs, ada, out.png(), out.recipe, "Preset three")
    assert read_parameters(out.png()) is None
    for artwork_id, expected in ((sample, {"Seed": "41"}), (restyle, {"Sampler": "Magenta"})):
        with sessions() as s:
            signed, mime, _ = signed_download(s, blobs, artwork_id, material)
        fields = parse_a1111_parameters(read_parameters(signed))
        for key, value in expected.items():
            assert fields[key].startswith(value)
        assert read_manifest(signed, mime, material.anchor_pem).state == "trusted"
