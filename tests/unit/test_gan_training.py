"""Unit tests for `generation.training`: exact resume, outputs and refusal of bad input."""

import json
import os
import signal
import threading

import pytest
import torch
from PIL import Image

from generation.gan import Generator, weights_sha256
from generation.image_folder import load_image_folder
from generation.training import TrainConfig, stop_on_signals, train


def tiny_config(**overrides) -> TrainConfig:
    values = dict(
        image_size=16,
        latent_dim=8,
        g_channels=4,
        d_channels=4,
        batch_size=4,
        total_steps=6,
        min_images=16,
        sample_every_steps=3,
        log_every_steps=2,
        num_samples=4,
        checkpoint_every_seconds=0,
    )
    values.update(overrides)
    return TrainConfig(**values)


def write_images(folder, count, size=16, seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(seed)
    for i in range(count):
        pixels = (torch.rand(size, size, 3, generator=g) * 255).to(torch.uint8).numpy()
        Image.fromarray(pixels).save(folder / f"img_{i:02d}.png")
    return folder


@pytest.fixture
def images(tmp_path):
    return write_images(tmp_path / "images", 16)


def stop_after(n_calls):
    calls = [0]

    def should_cancel():
        calls[0] += 1
        return calls[0] > n_calls

    return should_cancel


def test_resuming_after_a_stop_equals_an_uninterrupted_run(images, tmp_path):
    config = tiny_config()
    straight = train(config, images, tmp_path / "straight")

    first = train(config, images, tmp_path / "resumed", should_cancel=stop_after(3))
    assert first.stopped and first.step == 3
    second = train(config, images, tmp_path / "resumed", resume=True)
    assert not second.stopped and second.step == 6

    a = torch.load(straight.checkpoint, weights_only=True)
    b = torch.load(second.checkpoint, weights_only=True)
    for part in ("generator", "discriminator", "ema"):
        assert a[part].keys() == b[part].keys()
        for name in a[part]:
            assert torch.equal(a[part][name], b[part][name]), f"{part}.{name} differs"
    assert torch.equal(a["opt_g"]["state"][0]["exp_avg"], b["opt_g"]["state"][0]["exp_avg"])
    assert straight.model_sha256 == second.model_sha256


def test_a_different_seed_gives_a_different_model(images, tmp_path):
    a = train(tiny_config(total_steps=2), images, tmp_path / "a")
    b = train(tiny_config(total_steps=2, seed=1), images, tmp_path / "b")
    assert a.model_sha256 != b.model_sha256


def test_run_writes_model_training_data_samples_and_loss_curve(images, tmp_path):
    result = train(tiny_config(), images, tmp_path / "run")
    out = tmp_path / "run"
    assert sorted(p.name for p in (out / "samples").iterdir()) == [
        "step_000000003.png",
        "step_000000006.png",
    ]
    assert (out / "loss_curve.png").is_file()
    assert json.loads((out / "progress.json").read_text())["event"] == "done"
    record = json.loads((result.model_dir / "training_data.json").read_text())
    assert record["model_sha256"] == result.model_sha256 == weights_sha256(result.model_dir)
    assert record["image_count"] == 16 and record["step"] == 6
    import hashlib

    first = record["images"][0]
    assert first["file"] == "img_00.png"
    assert first["sha256"] == hashlib.sha256((images / "img_00.png").read_bytes()).hexdigest()
    model = Generator.from_pretrained(result.model_dir)
    assert model(torch.zeros(1, 8)).shape == (1, 3, 16, 16)


def test_progress_callback_reports_steps_and_the_end(images, tmp_path):
    events, shares = [], []
    train(
        tiny_config(total_steps=4),
        images,
        tmp_path / "run",
        on_report=events.append,
        progress=lambda fraction, message: shares.append((fraction, message)),
    )
    assert [e.step for e in events if e.event == "step"] == [2, 4]
    assert events[-1].event == "done" and events[-1].images_seen == 16
    # the same (fraction, message) shape as style transfer, diffusion and morphs
    assert shares[0] == (0.5, "step 2/4") and shares[-1] == (1.0, "step 4/4")
    assert len(shares) == len(events)


def test_existing_checkpoint_is_not_overwritten_without_resume(images, tmp_path):
    train(tiny_config(total_steps=1), images, tmp_path / "run")
    with pytest.raises(FileExistsError, match="pass `resume=True`"):
        train(tiny_config(total_steps=1), images, tmp_path / "run")


def test_resume_with_a_different_learning_rate_is_refused(images, tmp_path):
    train(tiny_config(total_steps=1), images, tmp_path / "run")
    with pytest.raises(ValueError, match="different config .*g_lr"):
        train(tiny_config(total_steps=2, g_lr=1e-3), images, tmp_path / "run", resume=True)


def test_resume_with_different_images_is_refused(images, tmp_path):
    train(tiny_config(total_steps=1), images, tmp_path / "run")
    other = write_images(tmp_path / "other", 16, seed=1)
    with pytest.raises(ValueError, match="training images differ"):
        train(tiny_config(total_steps=2), other, tmp_path / "run", resume=True)


def test_empty_folder_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="contains no images"):
        train(tiny_config(), tmp_path / "empty", tmp_path / "run")


def test_missing_folder_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="must be a directory"):
        train(tiny_config(), tmp_path / "nope", tmp_path / "run")


def test_folder_with_a_non_image_file_is_refused(images, tmp_path):
    (images / "notes.txt").write_text("not an image")
    with pytest.raises(ValueError, match="not images: notes.txt"):
        train(tiny_config(), images, tmp_path / "run")


def test_folder_with_too_few_images_is_refused(tmp_path):
    folder = write_images(tmp_path / "few", 19)
    with pytest.raises(ValueError, match="at least 20 images, got 19"):
        train(tiny_config(min_images=20), folder, tmp_path / "run")


def test_batch_larger_than_the_data_set_is_refused(images, tmp_path):
    with pytest.raises(ValueError, match="`batch_size` must be <= the number of images"):
        train(tiny_config(batch_size=32), images, tmp_path / "run")


def test_bad_config_values_are_refused():
    with pytest.raises(ValueError, match="`batch_size` must be a positive integer"):
        TrainConfig(batch_size=0)
    with pytest.raises(ValueError, match="`ema_decay` must be in"):
        TrainConfig(ema_decay=1.0)


def test_transparent_and_non_square_images_are_composited_on_white_and_cropped(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    Image.new("RGBA", (40, 20), (0, 0, 0, 0)).save(folder / "clear.png")
    loaded = load_image_folder(folder, 16, min_images=1, perceptual_hasher=None)
    assert loaded.pixels.shape == (1, 3, 16, 16)
    assert int(loaded.pixels.min()) == 255
    assert loaded.images[0].pdq is None


def test_a_signal_asks_training_to_stop_and_the_old_handlers_come_back(capsys):
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    with stop_on_signals() as stop:
        assert not stop.is_set()
        os.kill(os.getpid(), signal.SIGTERM)  # delivered before kill returns, to this thread
        assert stop.is_set()
    assert {sig: signal.getsignal(sig) for sig in before} == before
    assert "stopping after this step and writing a checkpoint" in capsys.readouterr().err


def test_off_the_main_thread_no_handler_is_installed():
    seen = []

    def worker():
        with stop_on_signals() as stop:
            seen.append((stop.is_set(), signal.getsignal(signal.SIGTERM)))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [(False, signal.getsignal(signal.SIGTERM))]


def test_sample_weights_draw_batches_in_proportion_and_resume_exactly(images, tmp_path):
    from generation.training import _DataOrder

    order = _DataOrder(3, torch.Generator().manual_seed(0), weights=torch.tensor([1.0, 1, 98]))
    drawn = torch.cat([order.next_indices(10) for _ in range(100)])
    assert 0.95 < (drawn == 2).float().mean() < 1.0
    weights = {"img_03.png": 50.0}
    config = tiny_config()
    straight = train(config, images, tmp_path / "straight", sample_weights=weights)
    train(config, images, tmp_path / "resumed", should_cancel=stop_after(3), sample_weights=weights)
    second = train(config, images, tmp_path / "resumed", resume=True, sample_weights=weights)
    assert straight.model_sha256 == second.model_sha256
    assert straight.model_sha256 != train(config, images, tmp_path / "plain").model_sha256
    with pytest.raises(ValueError, match="different sample weights"):
        train(config, images, tmp_path / "resumed", resume=True)
    with pytest.raises(ValueError, match="not images here"):
        train(config, images, tmp_path / "x", sample_weights={"nope.png": 2.0})
    with pytest.raises(ValueError, match="greater than 0"):
        train(config, images, tmp_path / "y", sample_weights={"img_00.png": 0.0})


def test_a_run_can_start_from_a_saved_generator_of_the_same_shape(images, tmp_path):
    base = train(tiny_config(total_steps=2), images, tmp_path / "base")
    saved = Generator.from_pretrained(base.model_dir)
    tuned = train(
        tiny_config(total_steps=1, g_lr=1e-12, ema_decay=0.5, seed=7),
        images,
        tmp_path / "tuned",
        init_model=base.model_dir,
    )
    after = Generator.from_pretrained(tuned.model_dir)
    # a step at a negligible rate moves no weight (batch-norm statistics do move)
    moved = dict(after.named_parameters())
    for name, value in saved.named_parameters():
        assert torch.allclose(value, moved[name], atol=2e-3), name
    with pytest.raises(ValueError, match="`init_model` is a"):
        train(tiny_config(g_channels=8), images, tmp_path / "wide", init_model=base.model_dir)
