"""`generation.fastgan` and device-aware training: shapes, saving, exact resume, refusals."""

import pytest
import torch

from generation.fastgan import (
    FastDiscriminator,
    FastGenerator,
    generator_class,
    load_generator,
    reconstruction_loss,
)
from generation.gan import Generator, weights_sha256
from generation.gan_pipeline import GANPipeline, load_model
from generation.genes import find_directions
from generation.training import TrainConfig, resolve_device, train
from tests.unit.test_gan_training import stop_after, write_images


def fast_config(**overrides) -> TrainConfig:
    values = dict(
        architecture="fastgan",
        image_size=64,
        latent_dim=8,
        g_channels=8,
        d_channels=8,
        batch_size=4,
        total_steps=4,
        min_images=16,
        sample_every_steps=2,
        log_every_steps=2,
        num_samples=4,
        checkpoint_every_seconds=0,
    )
    values.update(overrides)
    return TrainConfig(**values)


@pytest.fixture
def images64(tmp_path):
    return write_images(tmp_path / "images", 16, size=64)


@pytest.mark.parametrize("size", [64, 128, 256])
def test_generator_and_discriminator_shapes_at_every_size(size):
    generator = FastGenerator(size, latent_dim=16, base_channels=8).eval()
    discriminator = FastDiscriminator(size, base_channels=8)
    with torch.no_grad():
        images = generator(torch.randn(3, 16))
        assert images.shape == (3, 3, size, size)
        assert images.min() >= -1 and images.max() <= 1
        assert discriminator(images).shape == (3,)
        logits, whole, piece = discriminator(images, reconstruct=2, part=3)
    assert logits.shape == (3,)
    assert whole.shape == (2, 3, size, size) and piece.shape == (2, 3, size // 2, size // 2)
    assert generator.features(torch.randn(2, 16))[8].shape[-1] == 8


def test_skip_layer_excitation_carries_the_coarse_map_to_the_fine_one():
    generator = FastGenerator(64, latent_dim=16, base_channels=8).eval()
    z = torch.randn(2, 16)
    with torch.no_grad():
        before = generator(z)
        # Silence the 4x4 map's gate: the 64 px picture must change.
        generator.excite["64"].gate[1].weight.zero_()
        after = generator(z)
    assert not torch.equal(before, after)


def test_reconstruction_loss_is_zero_only_for_a_perfect_rebuild():
    real = torch.rand(2, 3, 64, 64) * 2 - 1
    quadrant = real[:, :, 32:, :32]  # part 2: bottom-left
    assert reconstruction_loss(real, real, quadrant, 2) == 0
    assert reconstruction_loss(real, real, quadrant, 1) > 0
    assert reconstruction_loss(real, real * 0, quadrant, 2) > 0


@pytest.mark.parametrize(
    "kwargs",
    [{"image_size": 32}, {"image_size": 100}, {"base_channels": 4}, {"latent_dim": 0}],
)
def test_bad_generator_arguments_are_refused(kwargs):
    with pytest.raises(ValueError):
        FastGenerator(**{"image_size": 64, "latent_dim": 8, "base_channels": 8, **kwargs})


def test_a_saved_fast_generator_loads_as_itself_and_renders_the_same_pixels(tmp_path):
    generator = FastGenerator(64, latent_dim=16, base_channels=8, seed=3).eval()
    generator.save_pretrained(tmp_path / "m", dtype=torch.float32)
    assert generator_class(tmp_path / "m") is FastGenerator
    loaded = load_generator(tmp_path / "m")
    z = torch.randn(2, 16)
    with torch.no_grad():
        assert torch.equal(generator(z), loaded(z))
    Generator(image_size=16, latent_dim=4, base_channels=4).save_pretrained(tmp_path / "d")
    assert generator_class(tmp_path / "d") is Generator


def test_the_studio_pipeline_samples_a_fast_generator_and_reproduces_it(tmp_path):
    FastGenerator(64, latent_dim=16, base_channels=8, seed=1).save_pretrained(tmp_path / "m")
    pipe = load_model(tmp_path / "m")
    assert isinstance(pipe.generator, FastGenerator)
    assert pipe.model_sha256 == weights_sha256(tmp_path / "m")
    first = pipe(num_images=2, seed=7, truncation=0.7).images
    again = load_model(tmp_path / "m")(num_images=2, seed=7, truncation=0.7).images
    assert [im.size for im in first] == [(64, 64), (64, 64)]
    assert [im.tobytes() for im in first] == [im.tobytes() for im in again]


def test_genes_are_found_in_a_fast_generator_too():
    generator = FastGenerator(64, latent_dim=16, base_channels=8).eval()
    directions, share = find_directions(generator, count=4, samples=256)
    assert directions.shape == (4, 16)
    assert torch.allclose(directions.norm(dim=1), torch.ones(4), atol=1e-5)
    assert (share[:-1] >= share[1:]).all()


def test_fastgan_training_writes_a_model_the_studio_loads(images64, tmp_path):
    result = train(fast_config(), images64, tmp_path / "run")
    assert result.step == 4 and not result.stopped
    assert generator_class(result.model_dir) is FastGenerator
    ckpt = torch.load(result.checkpoint, weights_only=True)
    assert ckpt["device"] == "cpu" and ckpt["bf16"] is False
    assert all(t.device.type == "cpu" for t in ckpt["generator"].values())
    assert isinstance(GANPipeline.from_pretrained(result.model_dir).generator, FastGenerator)
    assert (tmp_path / "run" / "samples" / "step_000000002.png").is_file()


def test_fastgan_training_resumes_exactly(images64, tmp_path):
    straight = train(fast_config(), images64, tmp_path / "straight")
    first = train(fast_config(), images64, tmp_path / "resumed", should_cancel=stop_after(2))
    assert first.stopped and first.step == 2
    second = train(fast_config(), images64, tmp_path / "resumed", resume=True)
    assert second.step == 4
    a = torch.load(straight.checkpoint, weights_only=True)
    b = torch.load(second.checkpoint, weights_only=True)
    for part in ("generator", "discriminator", "ema"):
        for name in a[part]:
            assert torch.equal(a[part][name], b[part][name]), f"{part}.{name} differs"
    assert straight.model_sha256 == second.model_sha256


def test_a_dcgan_checkpoint_cannot_resume_as_a_fastgan(images64, tmp_path):
    train(fast_config(architecture="dcgan", g_channels=4, d_channels=4), images64, tmp_path / "r")
    with pytest.raises(ValueError, match="architecture: 'dcgan' -> 'fastgan'"):
        train(fast_config(total_steps=6), images64, tmp_path / "r", resume=True)


def test_bf16_autocast_trains_with_finite_losses(images64, tmp_path):
    reports = []
    result = train(
        fast_config(total_steps=2, log_every_steps=1),
        images64,
        tmp_path / "run",
        precision="bf16",
        on_report=reports.append,
    )
    ckpt = torch.load(result.checkpoint, weights_only=True)
    assert ckpt["bf16"] is True
    losses = [r.d_loss for r in reports if r.event == "step"]
    assert losses and all(torch.isfinite(torch.tensor(x)) for x in losses)
    # Weights stay float32; autocast only changes the forward passes.
    weights = [t for t in ckpt["generator"].values() if t.is_floating_point()]
    assert all(t.dtype == torch.float32 for t in weights)


def test_devices_and_precisions_resolve_or_are_refused_in_plain_words():
    assert resolve_device("cpu", "auto") == (torch.device("cpu"), False)
    assert resolve_device("CPU", "bf16") == (torch.device("cpu"), True)
    if not torch.cuda.is_available():
        assert resolve_device("auto")[0] == torch.device("cpu")
        with pytest.raises(ValueError, match="torch sees no GPU here"):
            resolve_device("cuda")
    with pytest.raises(ValueError, match="must be 'cpu', 'cuda'"):
        resolve_device("tpu")
    with pytest.raises(ValueError, match="`precision` must be one of"):
        resolve_device("cpu", "fp8")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"architecture": "stylegan"}, "`architecture` must be one of"),
        ({"image_size": 32}, "a fastgan `image_size` must be one of"),
        ({"g_channels": 4}, "at least 8"),
        ({"recon_weight": -1.0}, "`recon_weight` must be >= 0"),
    ],
)
def test_bad_fastgan_configs_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fast_config(**kwargs)
