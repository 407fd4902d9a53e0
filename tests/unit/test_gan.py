"""Unit tests for the GAN model family and DiffAugment (tiny configs, fixed seeds)."""

import json

import pytest
import torch

from generation.augment import diff_augment
from generation.gan import Discriminator, Generator, count_parameters, weights_sha256


@pytest.mark.parametrize("image_size", [64, 128])
def test_generator_and_discriminator_shapes_follow_image_size(image_size):
    g = Generator(image_size=image_size, latent_dim=16, base_channels=4)
    d = Discriminator(image_size=image_size, base_channels=4)
    z = g.sample_latents(2, torch.Generator().manual_seed(0))
    images = g(z)
    assert images.shape == (2, 3, image_size, image_size)
    assert images.min() >= -1 and images.max() <= 1
    assert d(images).shape == (2,)


def test_same_seed_gives_same_weights_and_different_seed_does_not():
    a, b, c = Generator(32, 8, 4, seed=1), Generator(32, 8, 4, seed=1), Generator(32, 8, 4, seed=2)
    assert all(
        torch.equal(x, y)
        for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    )
    assert not torch.equal(a.net[0].weight, c.net[0].weight)
    da, db = Discriminator(32, 4, seed=3), Discriminator(32, 4, seed=3)
    assert all(
        torch.equal(x, y)
        for x, y in zip(da.state_dict().values(), db.state_dict().values(), strict=True)
    )


def test_building_a_discriminator_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    Discriminator(32, 4, seed=0)
    assert torch.equal(torch.rand(3), expected)


def test_eval_output_for_a_latent_does_not_depend_on_the_batch_it_is_in():
    g = Generator(32, 8, 4, seed=0).eval()
    z = torch.randn(4, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(g(z)[1:2], g(z[1:2]), atol=1e-6)


def test_save_and_load_round_trip_is_exact_in_float32(tmp_path):
    g = Generator(image_size=32, latent_dim=8, base_channels=4, seed=5)
    weights = g.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["model_type"] == "Generator" and config["base_channels"] == 4
    loaded = Generator.from_pretrained(tmp_path)
    assert not loaded.training
    z = torch.randn(2, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(g.eval()(z), loaded(z))
    assert weights_sha256(weights) == weights_sha256(tmp_path)


def test_float16_export_is_smaller_and_close(tmp_path):
    g = Generator(image_size=32, latent_dim=8, base_channels=8, seed=5).eval()
    g.save_pretrained(tmp_path / "f32")
    g.save_pretrained(tmp_path / "f16", dtype=torch.float16)
    size32 = (tmp_path / "f32" / "model.safetensors").stat().st_size
    size16 = (tmp_path / "f16" / "model.safetensors").stat().st_size
    assert size16 < 0.6 * size32
    loaded = Generator.from_pretrained(tmp_path / "f16")
    assert loaded.net[0].weight.dtype == torch.float32
    z = torch.randn(2, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(g(z), loaded(z), atol=1e-2)


def test_model_id_is_the_sha256_of_the_weights_file_and_is_stable(tmp_path):
    g = Generator(image_size=16, latent_dim=4, base_channels=2, seed=0)
    g.save_pretrained(tmp_path / "a")
    g.save_pretrained(tmp_path / "b")
    import hashlib

    expected = hashlib.sha256((tmp_path / "a" / "model.safetensors").read_bytes()).hexdigest()
    assert weights_sha256(tmp_path / "a") == expected == weights_sha256(tmp_path / "b")


def test_loading_a_discriminator_as_a_generator_is_refused(tmp_path):
    Discriminator(16, 2).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="describes a Discriminator"):
        Generator.from_pretrained(tmp_path)


def test_missing_weights_are_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        Generator.from_pretrained(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        weights_sha256(tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"image_size": 48}, "`image_size` must be one of"),
        ({"base_channels": 0}, "`base_channels` must be >= 1"),
        ({"latent_dim": 0}, "`latent_dim` must be >= 1"),
        ({"base_channels": 64, "max_channels": 32}, "`max_channels` must be >="),
    ],
)
def test_bad_generator_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Generator(**kwargs)


def test_wrong_latent_and_image_shapes_are_refused():
    with pytest.raises(ValueError, match="`z` must have shape"):
        Generator(16, 4, 2)(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="`x` must have shape"):
        Discriminator(16, 2)(torch.zeros(2, 3, 32, 32))


def test_parameter_count_of_the_default_64px_generator():
    assert count_parameters(Generator(64, 128, 32)) == 1_214_912


def test_diff_augment_is_reproducible_from_its_generator_and_keeps_shape():
    x = torch.rand(4, 3, 16, 16) * 2 - 1
    a = diff_augment(x, generator=torch.Generator().manual_seed(0))
    b = diff_augment(x, generator=torch.Generator().manual_seed(0))
    c = diff_augment(x, generator=torch.Generator().manual_seed(1))
    assert a.shape == x.shape
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_diff_augment_passes_gradients_to_its_input():
    x = torch.rand(2, 3, 16, 16, requires_grad=True)
    diff_augment(x, generator=torch.Generator().manual_seed(0)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_diff_augment_refuses_unknown_policies():
    with pytest.raises(ValueError, match="`policy` must contain only"):
        diff_augment(torch.zeros(1, 3, 8, 8), policy=("rotate",))


def test_pipeline_image_depends_only_on_its_seed(tmp_path):
    from generation.gan_pipeline import GANPipeline

    Generator(image_size=16, latent_dim=4, base_channels=2, seed=0).save_pretrained(tmp_path)
    pipe = GANPipeline.from_pretrained(tmp_path)
    batch = pipe(num_images=3, seed=10)
    single = pipe(num_images=1, seed=11)
    assert batch.seeds == [10, 11, 12] and batch.model_sha256 == weights_sha256(tmp_path)
    assert batch.images[0].size == (16, 16)
    assert batch.images[1].tobytes() == single.images[0].tobytes()
    assert batch.images[0].tobytes() != batch.images[1].tobytes()


def test_pipeline_refuses_bad_counts_and_seeds():
    from generation.gan_pipeline import GANPipeline

    pipe = GANPipeline(Generator(16, 4, 2))
    with pytest.raises(ValueError, match=r"`num_images` must be in \[1, 256\], got 0"):
        pipe(num_images=0)
    with pytest.raises(ValueError, match="`seed` must be >= 0, got -1"):
        pipe(seed=-1)
