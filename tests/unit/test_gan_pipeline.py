"""Unit tests for GAN sampling from recipes: truncation, breeding, morphs, parameters chunks."""

import io
import json
import math

import pytest
import torch
from PIL import Image, PngImagePlugin

from generation.errors import GenerationCancelled, GenerationError, ModelUnavailable
from generation.gan import Discriminator, Generator, weights_sha256
from generation.gan_pipeline import (
    GANPipeline,
    compare_pixels,
    default_model_dir,
    inference_forward,
    load_model,
    make_model_resolver,
    render_recipe,
    render_recipe_bytes,
)
from generation.latents import crossover_mask, morph_latents, recipe_latent, seed_latent, slerp
from generation.morph import frame_count
from generation.parameters import (
    a1111_parameters,
    infotext,
    parse_a1111_parameters,
    png_with_parameters,
    read_parameters,
    read_recipe,
)
from generation.recipe_kinds import png_with_recipe
from generation.recipes import (
    MAX_BREED_DEPTH,
    breed_recipe,
    recipe_depth,
    recipe_sha256,
    sample_recipe,
    validate_recipe,
)
from tests.factories import save_tiny_generator as save_tiny

torch.set_num_threads(1)


@pytest.fixture
def model_dir(tmp_path):
    return save_tiny(tmp_path / "tiny")


@pytest.fixture
def pipe(model_dir):
    return load_model(model_dir)


@pytest.fixture
def resolver(model_dir):
    return make_model_resolver(model_dir)


# --- sampling and truncation --------------------------------------------------------------


def test_a_recipe_regenerates_byte_identical_png(pipe, resolver):
    out = pipe(num_images=3, seed=7, truncation=0.6, size=40)
    recipe = json.loads(json.dumps(out.recipes[2]))  # as read back from a .json file
    written = png_with_recipe(out.images[2], out.recipes[2])
    first = render_recipe_bytes(recipe, resolver)
    second = render_recipe_bytes(recipe, resolver)
    assert first == second == written
    assert out.images[2].size == (40, 40)
    assert recipe["seed"] == 9 and recipe["truncation"] == 0.6
    assert recipe["model_sha256"] == pipe.model_sha256


def test_an_image_rendered_in_a_batch_equals_its_recipe_rendered_alone(pipe, resolver):
    out = pipe(num_images=5, seed=100, truncation=1.0)
    for image, recipe in zip(out.images, out.recipes, strict=True):
        assert render_recipe(recipe, resolver).tobytes() == image.tobytes()


@pytest.mark.parametrize("batch", [1, 7, 64])
def test_the_flat_inference_forward_is_bit_identical_to_the_module(batch):
    generator = load_model().generator
    z = torch.randn(batch, generator.latent_dim, generator=torch.Generator().manual_seed(batch))
    with torch.no_grad():
        assert torch.equal(inference_forward(generator)(z), generator(z))


def test_the_flat_forward_calls_layers_it_does_not_know_as_modules(model_dir):
    generator = Generator.from_pretrained(model_dir).eval()
    generator.net[2] = torch.nn.LeakyReLU(0.2)  # not a kind the flat forward knows
    z = torch.randn(3, generator.latent_dim, generator=torch.Generator().manual_seed(0))
    forward = inference_forward(generator)
    with torch.no_grad():
        assert torch.equal(forward(z), generator(z))
        relu = Generator.from_pretrained(model_dir).eval()
        assert not torch.equal(forward(z), relu(z))  # the leaky layer was really used
    with pytest.raises(ValueError, match="must have shape"):
        forward(torch.zeros(2, generator.latent_dim + 1))


def test_truncation_scales_the_latent_toward_zero(pipe):
    z = seed_latent(3, 8)
    r = sample_recipe(pipe.model_sha256, 3, truncation=0.25, size=16)
    assert torch.allclose(recipe_latent(r, 8), 0.25 * z)
    # psi = 0 collapses every seed onto G(0); psi = 1 is the untruncated sample
    zeros = pipe(num_images=3, seed=0, truncation=0.0).images
    assert zeros[0].tobytes() == zeros[1].tobytes() == zeros[2].tobytes()
    full = pipe(num_images=1, seed=3, truncation=1.0).images[0]
    with torch.no_grad():
        expected = pipe.generator(
            pipe.generator.sample_latents(1, torch.Generator().manual_seed(3))
        )
    raw = ((expected.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)[0].permute(1, 2, 0)
    assert full.tobytes() == raw.numpy().tobytes()


@pytest.mark.parametrize("psi", [-0.1, 1.01, float("nan"), "0.5", True])
def test_truncation_outside_zero_to_one_is_refused(pipe, psi):
    with pytest.raises(GenerationError, match="`truncation` must be"):
        pipe(num_images=1, seed=0, truncation=psi)


def test_bad_sizes_and_upscalers_are_refused(pipe):
    with pytest.raises(GenerationError, match=r"`size` must be in \[16, 2048\] pixels, got 4096"):
        pipe(size=4096)
    with pytest.raises(GenerationError, match="`upscale` must be one of .* got 'sinc'"):
        pipe(size=32, upscale="sinc")


def test_inference_runs_on_one_thread_and_restores_the_thread_count(pipe, monkeypatch):
    seen = []
    forward = pipe._forward

    def spy(z):
        seen.append(torch.get_num_threads())
        return forward(z)

    monkeypatch.setattr(pipe, "_forward", spy)
    torch.set_num_threads(2)
    try:
        pipe(num_images=2)
        assert seen == [1]
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)


def test_upscaling_methods_differ_and_are_recorded(pipe, resolver):
    lanczos = pipe(num_images=1, seed=1, size=64, upscale="lanczos")
    nearest = pipe(num_images=1, seed=1, size=64, upscale="nearest")
    assert lanczos.recipes[0]["upscale"] == "lanczos" and nearest.recipes[0]["upscale"] == "nearest"
    assert lanczos.images[0].tobytes() != nearest.images[0].tobytes()
    # nearest 4x: every 4x4 block is one colour of the native picture
    native = pipe(num_images=1, seed=1).images[0]
    assert (
        nearest.images[0].resize((16, 16), Image.Resampling.NEAREST).tobytes() == native.tobytes()
    )
    assert render_recipe(nearest.recipes[0], resolver).tobytes() == nearest.images[0].tobytes()


# --- models -------------------------------------------------------------------------------


def test_the_default_model_loads_and_is_the_one_its_training_record_names():
    directory = default_model_dir()
    pipe = load_model()
    record = json.loads((directory / "training_data.json").read_text())
    assert pipe.model_sha256 == weights_sha256(directory) == record["model_sha256"]
    assert pipe.model_name == "emoji64"
    out = pipe(num_images=1, seed=0, size=512)
    assert out.images[0].size == (512, 512) and out.images[0].mode == "RGB"
    assert render_recipe(out.recipes[0]).tobytes() == out.images[0].tobytes()


def test_a_missing_model_directory_is_reported(tmp_path):
    with pytest.raises(ModelUnavailable, match="no GAN model at .*nope: not a directory"):
        load_model(tmp_path / "nope")


def test_missing_weights_are_reported(model_dir):
    (model_dir / "model.safetensors").unlink()
    with pytest.raises(ModelUnavailable, match="model.safetensors is missing"):
        load_model(model_dir)


def test_truncated_weights_are_reported(model_dir):
    weights = model_dir / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:200])
    with pytest.raises(ModelUnavailable, match="cannot load the GAN model in"):
        load_model(model_dir)


def test_a_wrong_config_is_reported(model_dir, tmp_path):
    (model_dir / "config.json").write_text("{not json")
    with pytest.raises(ModelUnavailable, match="cannot load the GAN model"):
        load_model(model_dir)
    Discriminator(16, 2).save_pretrained(tmp_path / "disc")
    with pytest.raises(ModelUnavailable, match="describes a Discriminator"):
        load_model(tmp_path / "disc")
    config = json.loads((tmp_path / "disc" / "config.json").read_text())
    config.update(model_type="Generator", latent_dim=8)
    (tmp_path / "disc" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelUnavailable, match="cannot load the GAN model"):
        load_model(tmp_path / "disc")


def test_a_training_run_directory_loads_its_model(tmp_path):
    save_tiny(tmp_path / "run" / "model")
    pipe = load_model(tmp_path / "run")
    assert pipe.model_sha256 == weights_sha256(tmp_path / "run" / "model")
    assert pipe.model_name == "run"


def test_an_unknown_model_id_is_unavailable(pipe):
    recipe = sample_recipe("ab" * 32, 1, size=16)
    with pytest.raises(ModelUnavailable, match="no installed GAN model has id abababab"):
        render_recipe(recipe)
    with pytest.raises(GenerationError, match="made by model abababab"):
        pipe.render([recipe])


def test_a_resolver_pointing_at_the_wrong_model_is_caught(tmp_path, pipe):
    other = save_tiny(tmp_path / "other", seed=1)
    recipe = pipe(num_images=1).recipes[0]
    with pytest.raises(ModelUnavailable, match="not the recipe's"):
        render_recipe(recipe, lambda sha: other)


# --- breeding -----------------------------------------------------------------------------


def parents(pipe, size=16):
    a = sample_recipe(pipe.model_sha256, 11, 0.9, size, model_name=pipe.model_name)
    b = sample_recipe(pipe.model_sha256, 12, 0.8, size, model_name=pipe.model_name)
    return a, b


def test_children_record_both_parents_and_regenerate_exactly(pipe, resolver):
    a, b = parents(pipe)
    out = pipe.breed(a, b, children=4, mutation=0.3, seed=5)
    assert len(out.images) == 4
    for k, (image, recipe) in enumerate(zip(out.images, out.recipes, strict=True)):
        assert recipe["kind"] == "gan_breed" and recipe["child_index"] == k
        assert recipe["parents"] == [a, b]
        assert recipe["parent_recipe_sha256"] == [recipe_sha256(a), recipe_sha256(b)]
        assert recipe["crossover_seed"] == 5 and recipe["mutation"] == 0.3
        again = json.loads(json.dumps(recipe))
        assert render_recipe_bytes(again, resolver) == png_with_recipe(image, recipe)
    assert len({im.tobytes() for im in out.images}) == 4


def test_a_child_mixes_its_parents_latents_dimension_by_dimension(pipe):
    a, b = parents(pipe)
    child = breed_recipe(a, b, crossover_seed=3, child_index=2, mutation=0.0)
    z, za, zb = recipe_latent(child, 8), recipe_latent(a, 8), recipe_latent(b, 8)
    mask = crossover_mask(child, 8)
    assert torch.equal(z, torch.where(mask, za, zb))
    assert 0 < int(mask.sum()) < 8 or not torch.equal(za, zb)
    mutated = breed_recipe(a, b, crossover_seed=3, child_index=2, mutation=0.5)
    assert not torch.equal(recipe_latent(mutated, 8), z)


def test_child_k_does_not_depend_on_how_many_siblings_were_made(pipe):
    a, b = parents(pipe)
    many = pipe.breed(a, b, children=5, mutation=0.2, seed=9)
    one = pipe.breed(a, b, children=4, mutation=0.2, seed=9)
    assert many.images[3].tobytes() == one.images[3].tobytes()


def test_children_can_be_parents_up_to_the_depth_limit(pipe, resolver):
    a, b = parents(pipe)
    generation = [a, b]
    for depth in range(1, MAX_BREED_DEPTH + 1):
        generation = [
            breed_recipe(generation[0], generation[1], depth, 0, 0.1),
            breed_recipe(generation[1], generation[0], depth, 1, 0.1),
        ]
        assert recipe_depth(generation[0]) == depth
    deepest = generation[0]
    # the marketplace's recipe size limit, even for a morph between two deepest children
    morph = pipe.morph(generation[0], generation[1], frames=2).recipe
    assert len(json.dumps(morph)) < 64 * 1024
    image = render_recipe(deepest, resolver)
    assert image.size == (16, 16)
    with pytest.raises(GenerationError, match=f"{MAX_BREED_DEPTH + 1} generations deep"):
        breed_recipe(generation[0], generation[1], 0, 0, 0.1)


def test_parents_of_different_models_are_refused(pipe, tmp_path):
    other = load_model(save_tiny(tmp_path / "other", seed=1))
    a = sample_recipe(pipe.model_sha256, 1, size=16)
    b = sample_recipe(other.model_sha256, 2, size=16)
    with pytest.raises(GenerationError, match="parents were made by different models"):
        pipe.breed(a, b, children=2, mutation=0.1, seed=0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"children": 0}, r"`children` must be in \[1, 64\], got 0"),
        ({"children": 65}, r"`children` must be in \[1, 64\], got 65"),
        ({"mutation": 1.5}, r"`mutation` must be in \[0, 1\], got 1.5"),
        ({"mutation": -0.1}, r"`mutation` must be in \[0, 1\]"),
        ({"seed": -1}, r"`crossover_seed` must be in \[0, "),
    ],
)
def test_bad_breeding_arguments_are_refused(pipe, kwargs, message):
    a, b = parents(pipe)
    args = {"children": 2, "mutation": 0.1, "seed": 0, **kwargs}
    with pytest.raises(GenerationError, match=message):
        pipe.breed(a, b, **args)


def test_a_morph_is_not_a_parent(pipe):
    a, b = parents(pipe)
    morph = pipe.morph(a, b, frames=3).recipe
    with pytest.raises(
        GenerationError, match="parent A must be a gan_sample, gan_breed, gan_projection recipe"
    ):
        breed_recipe(morph, b, 0, 0, 0.1)


# --- morphs -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_a_morph_has_n_frames_and_its_recipe_regenerates_it(pipe, resolver, fmt):
    a, b = parents(pipe, size=32)
    out = pipe.morph(a, b, frames=7, fmt=fmt, frame_ms=50)
    assert len(out.frames) == 7 and frame_count(out.data) == 7
    again = json.loads(json.dumps(out.recipe))
    assert render_recipe_bytes(again, resolver) == out.data
    animation = render_recipe(again, resolver)
    assert animation.n_frames == 7 and animation.size == (32, 32)
    assert animation.format == fmt.upper()


@pytest.mark.parametrize("stop_at", [0, 3, 9])
def test_a_morph_stops_when_asked_and_reports_progress_until_then(pipe, stop_at):
    a, b = parents(pipe, size=32)
    polls, reports = [], []

    def should_cancel():
        polls.append(len(reports))
        return len(polls) > stop_at

    with pytest.raises(GenerationCancelled, match="the morph was cancelled after"):
        pipe.morph(
            a,
            b,
            frames=9,
            progress=lambda fraction, message: reports.append((fraction, message)),
            should_cancel=should_cancel,
        )
    assert len(polls) == stop_at + 1  # it stopped at the first True
    fractions = [f for f, _ in reports]
    assert fractions == sorted(fractions) and all(0 <= f <= 0.8 for f in fractions)
    assert not any("encoding" in m for _, m in reports)


def test_a_morph_that_is_not_cancelled_reports_every_frame_then_encoding(pipe):
    a, b = parents(pipe, size=32)
    reports = []
    out = pipe.morph(
        a, b, frames=5, progress=lambda f, m: reports.append(m), should_cancel=lambda: False
    )
    assert len(out.frames) == 5
    assert reports[-1] == "encoding the GIF" and "frame 5 of 5" in reports


def test_morph_ends_are_the_two_pictures_and_the_path_is_a_slerp(pipe):
    a, b = parents(pipe)
    out = pipe.morph(a, b, frames=5)
    latents = morph_latents(out.recipe, 8)
    assert torch.allclose(latents[0], recipe_latent(a, 8), atol=1e-6)
    assert torch.allclose(latents[-1], recipe_latent(b, 8), atol=1e-6)
    start, end = pipe.render([a, b])
    assert compare_pixels(out.frames[0], start)["verified"]
    assert compare_pixels(out.frames[-1], end)["verified"]
    norms = latents.norm(dim=1)
    assert torch.allclose(norms, torch.linspace(float(norms[0]), float(norms[-1]), 5), atol=1e-4)


def test_slerp_keeps_the_length_of_unit_vectors():
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    mid = slerp(a, b, 0.5)
    assert torch.allclose(mid, torch.tensor([math.sqrt(0.5), math.sqrt(0.5)]), atol=1e-6)
    assert torch.allclose(slerp(a, a, 0.3), a)
    with pytest.raises(GenerationError, match=r"`t` must be in \[0, 1\]"):
        slerp(a, b, 1.5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"frames": 1}, r"`frames` must be in \[2, 120\], got 1"),
        ({"frames": 121}, r"`frames` must be in \[2, 120\], got 121"),
        ({"fmt": "mp4"}, "`format` must be one of gif, webp, got 'mp4'"),
        ({"frame_ms": 55}, "`frame_ms` must be a multiple of 10, got 55"),
        ({"frame_ms": 5000}, r"`frame_ms` must be in \[20, 1000\]"),
    ],
)
def test_bad_morph_arguments_are_refused(pipe, kwargs, message):
    a, b = parents(pipe)
    args = {"frames": 4, **kwargs}
    with pytest.raises(GenerationError, match=message):
        pipe.morph(a, b, **args)


def test_a_morph_between_different_models_or_one_picture_is_refused(pipe, tmp_path):
    other = load_model(save_tiny(tmp_path / "other", seed=1))
    a = sample_recipe(pipe.model_sha256, 1, size=16)
    with pytest.raises(GenerationError, match="made by different models"):
        pipe.morph(a, sample_recipe(other.model_sha256, 2, size=16), frames=4)
    with pytest.raises(GenerationError, match="start and end are the same picture"):
        pipe.morph(a, dict(a), frames=4)


# --- recipe validation --------------------------------------------------------------------


def test_malformed_recipes_are_refused_with_the_field(pipe):
    a, b = parents(pipe)
    with pytest.raises(GenerationError, match="`kind` must be one of"):
        validate_recipe({**a, "kind": "style"})
    with pytest.raises(GenerationError, match="`code_version` 99 is not"):
        validate_recipe({**a, "code_version": 99})
    no_seed = {k: v for k, v in a.items() if k != "seed"}
    with pytest.raises(GenerationError, match="gan_sample recipe lacks seed"):
        validate_recipe(no_seed)
    with pytest.raises(GenerationError, match="`model_sha256` must be 64 lowercase hex"):
        validate_recipe({**a, "model_sha256": "xyz"})
    child = breed_recipe(a, b, 1, 0, 0.1)
    tampered = json.loads(json.dumps(child))
    tampered["parents"][0]["seed"] = 99
    with pytest.raises(GenerationError, match="`parent_recipe_sha256` does not match"):
        validate_recipe(tampered)
    with pytest.raises(GenerationError, match="a recipe must be a JSON object"):
        validate_recipe([a])


def test_validation_keeps_a_written_recipe_unchanged(pipe):
    a, b = parents(pipe)
    child = breed_recipe(a, b, 1, 0, 0.1)
    assert validate_recipe(json.loads(json.dumps(child))) == child
    assert recipe_sha256(validate_recipe(child)) == recipe_sha256(child)


# --- parameters chunk ---------------------------------------------------------------------


def test_parameters_chunk_round_trips_through_our_reader_and_pillow(pipe):
    out = pipe(num_images=1, seed=123, truncation=0.7, size=32)
    recipe = out.recipes[0]
    data = png_with_recipe(out.images[0], recipe)
    text = read_parameters(data)
    assert text == a1111_parameters(recipe)
    opened = Image.open(io.BytesIO(data))
    assert opened.text["parameters"] == text
    assert opened.convert("RGB").tobytes() == out.images[0].tobytes()
    assert read_recipe(data) == recipe
    fields = parse_a1111_parameters(text)
    assert fields["Prompt"] == f"Atelier GAN {pipe.model_name}"
    assert fields["Steps"] == "1" and fields["Sampler"] == "GAN"
    assert fields["Seed"] == "123" and fields["Size"] == "32x32"
    assert fields["Model hash"] == pipe.model_sha256[:10]
    assert fields["Truncation"] == "0.7" and fields["Upscaler"] == "Lanczos"


def test_a_bred_childs_parameters_name_its_parents(pipe):
    a, b = parents(pipe)
    child = breed_recipe(a, b, 77, 3, 0.25)
    fields = parse_a1111_parameters(a1111_parameters(child))
    assert fields["Seed"] == "77" and fields["Child"] == "3" and fields["Mutation"] == "0.25"
    assert fields["Parent A"] == recipe_sha256(a)[:16]
    assert fields["Parent B"] == recipe_sha256(b)[:16]


def test_values_with_commas_and_colons_are_quoted_as_a1111_does():
    text = infotext("a cat, sitting", {"Steps": 20, "Sampler": "Euler a", "Note": "x, y: z"})
    assert text.splitlines()[1] == 'Steps: 20, Sampler: Euler a, Note: "x, y: z"'
    fields = parse_a1111_parameters(text)
    assert fields["Prompt"] == "a cat, sitting" and fields["Note"] == "x, y: z"


def test_compressed_and_unicode_text_chunks_are_read(tmp_path):
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "prompt\nSteps: 1, Sampler: GAN, Seed: 1", zip=True)
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="PNG", pnginfo=info)
    assert read_parameters(buffer.getvalue()) == "prompt\nSteps: 1, Sampler: GAN, Seed: 1"
    data = png_with_parameters(Image.new("RGB", (4, 4)), "Café ☕\nSteps: 1, Sampler: GAN, Seed: 2")
    assert read_parameters(data) == "Café ☕\nSteps: 1, Sampler: GAN, Seed: 2"
    assert Image.open(io.BytesIO(data)).text["parameters"].startswith("Café ☕")


def test_files_without_parameters_give_none():
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="PNG")
    assert read_parameters(buffer.getvalue()) is None
    assert read_parameters(b"GIF89a not a png") is None
    assert read_parameters(b"") is None
    data = png_with_parameters(Image.new("RGB", (4, 4)), "x\nSteps: 1, Sampler: GAN, Seed: 3")
    corrupt = data.replace(b"Sampler", b"Sampler".upper())  # CRC no longer matches
    assert read_parameters(corrupt) is None


def test_bad_extra_chunk_keys_are_refused():
    image = Image.new("RGB", (2, 2))
    with pytest.raises(ValueError, match="must not contain 'parameters'"):
        png_with_parameters(image, "x", {"parameters": "y"})
    with pytest.raises(ValueError, match="1-79 characters"):
        png_with_parameters(image, "x", {"k" * 80: "y"})


# --- comparing pixels ---------------------------------------------------------------------


def test_compare_pixels_reports_identity_psnr_and_verification():
    a = Image.new("RGB", (32, 32), (10, 20, 30))
    assert compare_pixels(a, a.copy()) == {"identical": True, "psnr_db": None, "verified": True}
    b = a.copy()
    b.putpixel((0, 0), (11, 20, 30))
    close = compare_pixels(a, b)
    expected = 10 * math.log10(255**2 / (1 / (32 * 32 * 3)))
    assert not close["identical"] and close["verified"]
    assert close["psnr_db"] == pytest.approx(expected, abs=1e-3)
    far = compare_pixels(a, Image.new("RGB", (32, 32), (200, 20, 30)))
    assert not far["verified"] and far["psnr_db"] < 20
    assert compare_pixels(a, Image.new("RGB", (16, 16)))["verified"] is False
    buffer = io.BytesIO()
    a.save(buffer, format="PNG")
    assert compare_pixels(buffer.getvalue(), a)["identical"]


def test_pipeline_from_pretrained_keeps_working(model_dir):
    pipe = GANPipeline.from_pretrained(model_dir)
    assert pipe.model_sha256 == weights_sha256(model_dir)
    assert pipe(num_images=2, seed=1).recipes[1]["seed"] == 2


def test_check_regeneration_verifies_the_right_picture_and_not_another(pipe, resolver):
    from generation.gan_pipeline import check_regeneration

    out = pipe(num_images=2, seed=4, size=32)
    png = png_with_recipe(out.images[0], out.recipes[0])
    assert check_regeneration(out.recipes[0], png, resolver)["identical"]
    assert not check_regeneration(out.recipes[0], out.images[1], resolver)["verified"]
    # a lossy copy of the right picture still verifies when PSNR >= 50 dB
    copy = out.images[0].copy()
    copy.putpixel((3, 3), tuple(min(255, c + 2) for c in copy.getpixel((3, 3))))
    result = check_regeneration(out.recipes[0], copy, resolver)
    assert not result["identical"] and result["verified"] and result["psnr_db"] >= 50
