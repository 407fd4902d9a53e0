"""The diffusers backend and `atelier txt2img`/`img2img`, on a tiny random-weight pipeline.

The pipeline is built from configs and saved once per module, then loaded back the way users
load a model: through `ATELIER_DIFFUSION_MODEL` / `DiffusionImagePipeline.from_pretrained`.
Nothing here reaches the network: hub look-ups run with `HF_HUB_OFFLINE=1` or against a
closed local port.
"""

from __future__ import annotations

import io
import json
import math
import shutil
import socket

import numpy as np
import pytest
import torch
from PIL import Image

from generation.diffusion import (
    MODEL_ENV,
    DiffusionImagePipeline,
    GenerationCancelled,
    a1111_infotext,
    check_request,
    configured_model,
    hub_unreachable_reason,
    model_weights_sha256,
    render_diffusion_recipe,
)
from generation.errors import GenerationError, ModelUnavailable
from generation.parameters import parse_a1111_parameters, read_recipe
from generation.recipe_kinds import png_with_recipe
from provenance.fingerprint import pixel_hash
from tests.tiny_diffusion import save_tiny_stable_diffusion

torch.set_num_threads(1)

OFFLINE = {"HF_HUB_OFFLINE": "1"}


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    return save_tiny_stable_diffusion(tmp_path_factory.mktemp("models") / "tiny-sd")


@pytest.fixture(scope="module")
def pipeline(tiny_folder):
    return DiffusionImagePipeline.from_pretrained(env={MODEL_ENV: str(tiny_folder), **OFFLINE})


@pytest.fixture(scope="module")
def cat(pipeline):
    return pipeline("a red cat", seed=7, steps=2, width=64, height=64, negative_prompt="a dog")


def _pixels(image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- configuration and unavailable models -------------------------------------------------


def test_configured_model_reads_the_environment_variable_and_ignores_blanks():
    assert configured_model({MODEL_ENV: "  /models/sd15 "}) == "/models/sd15"
    assert configured_model({MODEL_ENV: "   "}) is None
    assert configured_model({}) is None


def test_no_configured_model_says_how_to_provide_one():
    with pytest.raises(ModelUnavailable, match="no text-to-image model is configured") as info:
        DiffusionImagePipeline.from_pretrained(env=OFFLINE)
    message = str(info.value)
    assert MODEL_ENV in message and "model_index.json" in message and "--model" in message


def test_an_uncached_hub_id_offline_names_the_id_and_the_reason():
    with pytest.raises(ModelUnavailable) as info:
        DiffusionImagePipeline.from_pretrained("atelier-tests/no-such-model", env=OFFLINE)
    message = str(info.value)
    assert "'atelier-tests/no-such-model' is not in the local Hugging Face cache" in message
    assert "HF_HUB_OFFLINE=1 is set" in message
    assert MODEL_ENV in message


def test_an_uncached_hub_id_with_an_unreachable_hub_is_looked_up_in_the_cache_only():
    env = {"HF_ENDPOINT": f"http://127.0.0.1:{_closed_port()}"}
    with pytest.raises(ModelUnavailable, match="not in the local Hugging Face cache") as info:
        DiffusionImagePipeline.from_pretrained("atelier-tests/no-such-model", env=env)
    assert "cannot be reached" in str(info.value)


def test_a_cached_hub_id_loads_offline_and_hashes_like_its_folder(
    tmp_path, tiny_folder, monkeypatch
):
    import huggingface_hub.constants

    revision = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--atelier-tests--tiny-sd"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(revision)
    shutil.copytree(tiny_folder, repo / "snapshots" / revision)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    pipeline = DiffusionImagePipeline.from_pretrained("atelier-tests/tiny-sd", env=OFFLINE)
    assert pipeline.model_id == "atelier-tests/tiny-sd"
    assert pipeline.model_sha256 == model_weights_sha256(tiny_folder)
    out = pipeline("a cat", steps=1, width=64, height=64)
    assert out.recipe["model"] == "atelier-tests/tiny-sd"


def test_the_hub_counts_as_unreachable_when_its_endpoint_refuses_connections():
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    reason = hub_unreachable_reason({"HF_ENDPOINT": endpoint})
    assert reason is not None and "cannot be reached" in reason
    assert hub_unreachable_reason({"TRANSFORMERS_OFFLINE": "true"}) == (
        "TRANSFORMERS_OFFLINE=true is set"
    )


def test_the_hub_counts_as_reachable_when_its_endpoint_accepts_a_connection():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        endpoint = f"http://127.0.0.1:{server.getsockname()[1]}"
        assert hub_unreachable_reason({"HF_ENDPOINT": endpoint}) is None


def test_a_folder_that_is_not_a_diffusers_pipeline_is_refused_with_what_to_do(tmp_path):
    (tmp_path / "weights.safetensors").write_bytes(b"not really")
    with pytest.raises(ModelUnavailable, match="is not a diffusers pipeline: it has no model_i"):
        DiffusionImagePipeline.from_pretrained(tmp_path, env=OFFLINE)
    with pytest.raises(ModelUnavailable, match="is a file, not a diffusers pipeline folder"):
        DiffusionImagePipeline.from_pretrained(tmp_path / "weights.safetensors", env=OFFLINE)
    with pytest.raises(ModelUnavailable, match="neither an existing folder nor a hub id"):
        DiffusionImagePipeline.from_pretrained(tmp_path / "missing", env=OFFLINE)


def test_a_pipeline_folder_without_weights_or_with_broken_weights_is_refused(tmp_path, tiny_folder):
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "X"}))
    with pytest.raises(ModelUnavailable, match="holds no weight files"):
        DiffusionImagePipeline.from_pretrained(tmp_path, env=OFFLINE)
    broken = shutil.copytree(tiny_folder, tmp_path / "broken")
    (broken / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"\0" * 64)
    with pytest.raises(ModelUnavailable, match="cannot load the StableDiffusionPipeline in"):
        DiffusionImagePipeline.from_pretrained(broken, env=OFFLINE)


# --- the model hash -----------------------------------------------------------------------


def test_model_hash_follows_the_weights_not_the_folder_or_other_files(tmp_path, tiny_folder):
    original = model_weights_sha256(tiny_folder)
    copy = shutil.copytree(tiny_folder, tmp_path / "elsewhere")
    (copy / "README.md").write_text("notes do not change the model")
    assert model_weights_sha256(copy) == original
    weights = copy / "vae" / "diffusion_pytorch_model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    assert model_weights_sha256(copy) != original


# --- text-to-image ------------------------------------------------------------------------


def test_txt2img_makes_an_image_with_its_full_recipe(pipeline, cat, tiny_folder):
    assert cat.image.size == (64, 64) and cat.image.mode == "RGB"
    assert _pixels(cat.image).std() > 0
    recipe = cat.recipe
    assert recipe["kind"] == "diffusion_txt2img"
    assert recipe["model"] == str(tiny_folder)
    assert recipe["model_sha256"] == model_weights_sha256(tiny_folder) == pipeline.model_sha256
    assert (recipe["prompt"], recipe["negative_prompt"]) == ("a red cat", "a dog")
    assert (recipe["seed"], recipe["steps"], recipe["guidance"]) == (7, 2, 7.5)
    assert (recipe["width"], recipe["height"]) == (64, 64)
    assert recipe["scheduler"] == "DDIMScheduler" == pipeline.scheduler_name
    assert recipe["pipeline"] == "StableDiffusionPipeline"
    assert recipe["safety_checker"] is False and cat.nsfw_content_detected is None
    import diffusers

    assert f"diffusers {diffusers.__version__}" in recipe["code_version"]
    assert "strength" not in recipe and "init_image_sha256" not in recipe
    json.dumps(recipe, allow_nan=False)  # a recipe is plain JSON


def test_same_recipe_same_pixels_other_seed_other_pixels(pipeline, cat):
    again = pipeline("a red cat", seed=7, steps=2, width=64, height=64, negative_prompt="a dog")
    assert np.array_equal(_pixels(again.image), _pixels(cat.image))
    other = pipeline("a red cat", seed=8, steps=2, width=64, height=64, negative_prompt="a dog")
    assert np.abs(_pixels(other.image) - _pixels(cat.image)).mean() > 1


def test_rendering_a_recipe_with_a_freshly_loaded_model_gives_the_same_png_bytes(cat, tiny_folder):
    loaded = []

    def resolver(model_id, model_sha256):
        loaded.append((model_id, model_sha256))
        return DiffusionImagePipeline.from_pretrained(model_id, env=OFFLINE)

    again = render_diffusion_recipe(cat.recipe, resolver)
    assert loaded == [(str(tiny_folder), cat.recipe["model_sha256"])]
    assert again.recipe == cat.recipe
    assert png_with_recipe(again.image, again.recipe) == png_with_recipe(cat.image, cat.recipe)


def test_rendering_refuses_other_weights_and_malformed_recipes(pipeline, cat):
    with pytest.raises(GenerationError, match="but the recipe was made with"):
        render_diffusion_recipe({**cat.recipe, "model_sha256": "0" * 64}, lambda m, h: pipeline)
    with pytest.raises(GenerationError, match="kind must be one of"):
        render_diffusion_recipe({**cat.recipe, "kind": "gan"}, lambda m, h: pipeline)
    recipe = dict(cat.recipe)
    del recipe["seed"]
    with pytest.raises(GenerationError, match="`recipe` lacks seed"):
        render_diffusion_recipe(recipe, lambda m, h: pipeline)


def test_several_images_use_consecutive_seeds_and_match_single_runs(pipeline, cat):
    calls = []
    out = pipeline(
        "a red cat",
        seed=7,
        steps=2,
        width=64,
        height=64,
        negative_prompt="a dog",
        num_images=2,
        progress=lambda fraction, message: calls.append((fraction, message)),
    )
    assert [r["seed"] for r in out.recipes] == [7, 8]
    assert np.array_equal(_pixels(out.images[0]), _pixels(cat.image))
    single = pipeline("a red cat", seed=8, steps=2, width=64, height=64, negative_prompt="a dog")
    assert np.array_equal(_pixels(out.images[1]), _pixels(single.image))
    assert calls == [(0.25, "step 1/4"), (0.5, "step 2/4"), (0.75, "step 3/4"), (1.0, "step 4/4")]


def test_a_named_scheduler_is_used_and_recorded(pipeline, cat):
    euler = pipeline(
        "a red cat",
        seed=7,
        steps=2,
        width=64,
        height=64,
        negative_prompt="a dog",
        scheduler="EulerDiscreteScheduler",
    )
    assert euler.recipe["scheduler"] == "EulerDiscreteScheduler"
    assert not np.array_equal(_pixels(euler.image), _pixels(cat.image))
    assert "Sampler: Euler," in a1111_infotext(euler.recipe)
    with pytest.raises(GenerationError, match="`scheduler` must be one of .*got 'Magic'"):
        pipeline("a red cat", steps=2, width=64, height=64, scheduler="Magic")


def test_cancelling_stops_with_a_named_error_and_restores_torch_threads(pipeline):
    torch.set_num_threads(2)
    try:
        seen = []

        def progress(fraction, message):
            seen.append((message, torch.get_num_threads()))

        with pytest.raises(GenerationCancelled, match="cancelled at step 1 of image 1"):
            pipeline(
                "a red cat",
                steps=5,
                width=64,
                height=64,
                progress=progress,
                should_cancel=lambda: len(seen) >= 1,
            )
        assert seen == [("step 1/5", 1)]  # one thread while running
        assert torch.get_num_threads() == 2  # the caller's setting afterwards
        with pytest.raises(GenerationCancelled, match="before it started"):
            pipeline("a red cat", steps=2, width=64, height=64, should_cancel=lambda: True)
    finally:
        torch.set_num_threads(1)


# --- image-to-image -----------------------------------------------------------------------


def _gradient(width: int, height: int) -> Image.Image:
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None, None]
    rgb = np.concatenate([x + 0 * y, y + 0 * x, (x + y) / 2], axis=2)  # (H, W, 3)
    return Image.fromarray(rgb.astype(np.uint8), "RGB")


def test_img2img_starts_from_the_image_and_records_strength_and_its_hash(pipeline):
    start = _gradient(72, 64)  # 72 x 64: sizes default to the starting image's
    calls = []
    out = pipeline(
        "a red cat",
        seed=3,
        steps=4,
        init_image=start,
        strength=0.5,
        progress=lambda fraction, message: calls.append((fraction, message)),
    )
    assert out.image.size == (72, 64)
    recipe = out.recipe
    assert recipe["kind"] == "diffusion_img2img"
    assert recipe["strength"] == 0.5 and recipe["init_image_sha256"] == pixel_hash(start)
    assert calls == [(0.5, "step 1/2"), (1.0, "step 2/2")]  # int(4 * 0.5) denoising steps
    # the starting image and the strength both change the result (random weights do not
    # reconstruct the start, so closeness to it is not a useful check here)
    flipped = start.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    other_start = pipeline("a red cat", seed=3, steps=4, init_image=flipped, strength=0.5)
    assert np.abs(_pixels(other_start.image) - _pixels(out.image)).mean() > 1
    full = pipeline("a red cat", seed=3, steps=4, init_image=start, strength=1.0)
    assert np.abs(_pixels(full.image) - _pixels(out.image)).mean() > 1
    assert "Denoising strength: 0.5" in a1111_infotext(recipe)


def test_img2img_recipes_render_again_only_from_the_same_starting_image(pipeline):
    start = _gradient(64, 64)
    out = pipeline("a red cat", seed=3, steps=2, init_image=start, strength=0.5)
    again = render_diffusion_recipe(out.recipe, lambda m, h: pipeline, init_image=start.copy())
    assert png_with_recipe(again.image, again.recipe) == png_with_recipe(out.image, out.recipe)
    with pytest.raises(GenerationError, match="`init_image` is needed"):
        render_diffusion_recipe(out.recipe, lambda m, h: pipeline)
    with pytest.raises(GenerationError, match="not the recipe's starting image"):
        render_diffusion_recipe(out.recipe, lambda m, h: pipeline, init_image=_gradient(64, 72))


def test_img2img_resizes_the_start_to_an_explicit_size(pipeline):
    out = pipeline(
        "a red cat", steps=2, width=64, height=96, init_image=_gradient(128, 128), strength=0.5
    )
    assert out.image.size == (64, 96)
    assert (out.recipe["width"], out.recipe["height"]) == (64, 96)


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prompt": ""}, "`prompt` must be non-empty text, got ''"),
        ({"prompt": "   "}, "`prompt` must be non-empty"),
        ({"prompt": "x" * 2001}, "`prompt` must be at most 2000 characters"),
        ({"steps": 0}, r"`steps` must be an integer in \[1, 150\], got 0"),
        ({"steps": 151}, r"`steps` must be an integer in \[1, 150\], got 151"),
        ({"steps": 2.5}, "`steps` must be an integer"),
        ({"guidance": -0.5}, r"`guidance` must be a number in \[0, 30\], got -0.5"),
        ({"guidance": 31}, r"`guidance` must be a number in \[0, 30\], got 31"),
        ({"guidance": math.nan}, "`guidance` must be a number"),
        ({"width": 100}, r"`width` must be a multiple of 8 in \[64, 2048\], got 100"),
        ({"height": 56}, r"`height` must be a multiple of 8 in \[64, 2048\], got 56"),
        ({"width": 4096}, "`width` must be a multiple of 8"),
        ({"seed": -1}, r"`seed` must be an integer in \[0, 4294967295\], got -1"),
        ({"seed": 2**32 - 1, "num_images": 2}, "`seed` \\+ `num_images` - 1 must be at most"),
        ({"num_images": 0}, "`num_images` must be an integer in"),
        ({"strength": 0.5}, "`strength` applies only to image-to-image"),
        ({"init_image": "start.png"}, "`init_image` must be a PIL image, got str"),
        ({"init_image": Image.new("L", (64, 64))}, "`init_image` must be an RGB image"),
    ],
)
def test_bad_txt2img_arguments_are_refused_by_name_before_any_step(pipeline, kwargs, message):
    calls = []
    request = {"prompt": "a cat", "steps": 2, "width": 64, "height": 64, **kwargs}
    with pytest.raises(GenerationError, match=message):
        pipeline(**request, progress=lambda fraction, message: calls.append(message))
    assert calls == []


@pytest.mark.parametrize(
    ("strength", "message"),
    [
        (0, r"`strength` must be a number in \(0, 1\], got 0"),
        (1.5, r"`strength` must be a number in \(0, 1\], got 1.5"),
        (-0.1, r"`strength` must be a number in \(0, 1\]"),
        (0.2, "leaves no denoising step"),  # int(2 * 0.2) == 0
    ],
)
def test_bad_img2img_strength_is_refused_by_name(pipeline, strength, message):
    with pytest.raises(GenerationError, match=message):
        pipeline("a cat", steps=2, init_image=_gradient(64, 64), strength=strength)


def test_a_model_size_below_the_minimum_is_refused_rather_than_used(pipeline):
    # the tiny model's native size is 32 x 32, below the 64 px minimum
    assert pipeline.default_size == (32, 32)
    with pytest.raises(GenerationError, match="`width` must be a multiple of 8 in .*got 32"):
        pipeline("a cat", steps=2)


def test_check_request_accepts_the_edges_of_every_range():
    check_request("a", seed=0, steps=1, guidance=0, width=64, height=2048)
    check_request("a", seed=2**32 - 1, steps=150, guidance=30.0, strength=1, img2img=True)


# --- models with a safety checker or fp16 weights -----------------------------------------


def test_a_shipped_safety_checker_is_loaded_and_reported(tmp_path):
    folder = save_tiny_stable_diffusion(tmp_path / "checked", safety_checker=True)
    pipeline = DiffusionImagePipeline.from_pretrained(folder, env=OFFLINE)
    assert pipeline.safety_checker is True
    assert pipeline.text_to_image.safety_checker is not None
    out = pipeline("a cat", steps=1, width=64, height=64)
    assert out.recipe["safety_checker"] is True
    assert isinstance(out.nsfw_content_detected, list) and len(out.nsfw_content_detected) == 1


def test_a_safety_checker_listed_but_not_shipped_is_switched_off(tmp_path, tiny_folder):
    folder = shutil.copytree(tiny_folder, tmp_path / "listed")
    index = json.loads((folder / "model_index.json").read_text())
    index["safety_checker"] = ["stable_diffusion", "StableDiffusionSafetyChecker"]
    index["feature_extractor"] = ["transformers", "CLIPImageProcessor"]
    (folder / "model_index.json").write_text(json.dumps(index))
    pipeline = DiffusionImagePipeline.from_pretrained(folder, env=OFFLINE)
    assert pipeline.safety_checker is False and pipeline.text_to_image.safety_checker is None


def test_fp16_only_weights_load_as_float32(tmp_path):
    folder = save_tiny_stable_diffusion(tmp_path / "half", variant="fp16")
    assert not (folder / "unet" / "diffusion_pytorch_model.safetensors").exists()
    pipeline = DiffusionImagePipeline.from_pretrained(folder, env=OFFLINE)
    assert pipeline.text_to_image.unet.dtype == torch.float32
    assert pipeline.text_to_image.text_encoder.dtype == torch.float32
    assert pipeline("a cat", steps=1, width=64, height=64).image.size == (64, 64)


# --- the PNG ------------------------------------------------------------------------------


def test_png_carries_a1111_parameters_and_the_full_recipe(cat):
    data = png_with_recipe(cat.image, cat.recipe)
    with Image.open(io.BytesIO(data)) as png:
        png.load()
        text = dict(png.text)
        assert np.array_equal(_pixels(png.convert("RGB")), _pixels(cat.image))
    lines = text["parameters"].split("\n")
    assert lines[0] == "a red cat"
    assert lines[1] == "Negative prompt: a dog"
    sha = cat.recipe["model_sha256"]
    assert lines[2] == (
        f"Steps: 2, Sampler: DDIM, CFG scale: 7.5, Seed: 7, Size: 64x64, "
        f"Model hash: {sha[:10]}, Model: tiny-sd, Atelier kind: diffusion_txt2img"
    )
    assert json.loads(text["atelier_recipe"]) == cat.recipe == read_recipe(data)
    assert b"tEXtparameters\0" in data


def test_a1111_text_quotes_values_with_commas_and_drops_an_empty_negative_prompt(cat):
    recipe = {**cat.recipe, "negative_prompt": "", "model": "/models/sd, fine-tuned"}
    lines = a1111_infotext(recipe).split("\n")
    assert len(lines) == 2
    assert 'Model: "sd, fine-tuned", Atelier kind' in lines[1]
    parsed = parse_a1111_parameters("\n".join(lines))
    assert (parsed["Prompt"], parsed["Model"], parsed["Seed"]) == (
        "a red cat",
        "sd, fine-tuned",
        "7",
    )


# --- the command line ---------------------------------------------------------------------


def _run_cli(capsys, *argv):
    from atelier.cli import main

    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_cli_txt2img_writes_the_same_png_as_the_library(capsys, tmp_path, tiny_folder, cat):
    out = tmp_path / "cat.png"
    code, stdout, err = _run_cli(
        capsys,
        "txt2img",
        "a red cat",
        "--seed",
        7,
        "--steps",
        2,
        "--size",
        "64x64",
        "--negative",
        "a dog",
        "--model",
        tiny_folder,
        "--out",
        out,
        "--json",
    )
    assert code == 0, err
    data = json.loads(stdout)
    assert data["path"] == str(out) and data["recipe"] == cat.recipe
    assert data["nsfw_content_detected"] is None
    assert out.read_bytes() == png_with_recipe(cat.image, cat.recipe)
    assert data["bytes"] == out.stat().st_size


def test_cli_txt2img_reads_the_model_from_the_environment(
    capsys, tmp_path, tiny_folder, monkeypatch
):
    monkeypatch.setenv(MODEL_ENV, str(tiny_folder))
    out = tmp_path / "env.png"
    code, stdout, err = _run_cli(
        capsys, "txt2img", "a dog", "--seed", 1, "--steps", 1, "--size", "64x72", "--out", out
    )
    assert code == 0, err
    assert stdout.startswith(f"wrote {out} (64x72, seed 1, 1 steps, DDIMScheduler, model ")
    assert "the model has no safety checker" in stdout
    assert read_recipe(out.read_bytes())["model"] == str(tiny_folder)
    with Image.open(out) as png:
        assert png.size == (64, 72)


def test_cli_img2img_starts_from_the_file(capsys, tmp_path, tiny_folder):
    start = tmp_path / "start.png"
    _gradient(80, 64).save(start)
    out = tmp_path / "repainted.png"
    code, stdout, err = _run_cli(
        capsys,
        "img2img",
        start,
        "a red cat",
        "--strength",
        0.5,
        "--seed",
        2,
        "--steps",
        2,
        "--model",
        tiny_folder,
        "--scheduler",
        "EulerAncestralDiscreteScheduler",
        "--out",
        out,
        "--json",
    )
    assert code == 0, err
    recipe = json.loads(stdout)["recipe"]
    assert recipe["kind"] == "diffusion_img2img" and recipe["strength"] == 0.5
    assert recipe["init_image_sha256"] == pixel_hash(_gradient(80, 64))
    assert recipe["scheduler"] == "EulerAncestralDiscreteScheduler"
    assert (recipe["width"], recipe["height"]) == (80, 64)
    with Image.open(out) as png:
        assert png.size == (80, 64)
        assert parse_a1111_parameters(png.text["parameters"])["Sampler"] == "Euler a"


def test_cli_without_a_model_says_how_to_provide_one(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv(MODEL_ENV, raising=False)
    out = tmp_path / "none.png"
    code, stdout, err = _run_cli(
        capsys, "txt2img", "a cat", "--seed", 1, "--steps", 2, "--out", out
    )
    assert code == 1 and stdout == ""
    line = _one_line_error(err)
    assert line.startswith("error: no text-to-image model is configured: set ATELIER_DIFFUSION")
    assert "--model" in line and "model_index.json" in line
    assert not out.exists()


def test_cli_with_an_uncached_hub_id_offline_says_so(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    out = tmp_path / "hub.png"
    code, _, err = _run_cli(
        capsys,
        "txt2img",
        "a cat",
        "--seed",
        1,
        "--steps",
        2,
        "--model",
        "atelier-tests/no-such-model",
        "--out",
        out,
    )
    assert code == 1
    line = _one_line_error(err)
    assert "'atelier-tests/no-such-model' is not in the local Hugging Face cache" in line
    assert "HF_HUB_OFFLINE=1 is set" in line
    assert not out.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--steps", "0"], "error: `steps` must be an integer in [1, 150], got 0"),
        (["--guidance", "40"], "error: `guidance` must be a number in [0, 30], got 40.0"),
        (["--size", "100x64"], "error: `width` must be a multiple of 8 in [64, 2048], got 100"),
        (["--size", "big"], "error: --size must look like WIDTHxHEIGHT (e.g. 512x512), got 'big'"),
        (["--seed", "-3"], "error: `seed` must be an integer in [0, 4294967295], got -3"),
        (["--scheduler", "Magic"], "error: `scheduler` must be one of "),
    ],
)
def test_cli_txt2img_refuses_bad_values_by_name(capsys, tmp_path, tiny_folder, extra, message):
    out = tmp_path / "bad.png"
    argv = ["txt2img", "a cat", "--seed", "1", "--steps", "2", "--size", "64x64"]
    argv += ["--model", tiny_folder, "--out", out, *extra]
    code, _, err = _run_cli(capsys, *argv)
    assert code == 1
    assert _one_line_error(err).startswith(message)
    assert not out.exists()


def test_cli_refuses_an_empty_prompt_a_missing_folder_and_bad_init_images(
    capsys, tmp_path, tiny_folder
):
    common = ["--seed", "1", "--steps", "2", "--model", tiny_folder]
    code, _, err = _run_cli(capsys, "txt2img", "  ", *common, "--out", tmp_path / "a.png")
    assert code == 1 and "`prompt` must be non-empty text" in _one_line_error(err)
    code, _, err = _run_cli(
        capsys, "txt2img", "a cat", *common, "--out", tmp_path / "missing" / "a.png"
    )
    assert code == 1 and "--out: the folder" in _one_line_error(err)
    code, _, err = _run_cli(
        capsys, "img2img", tmp_path / "nope.png", "a cat", *common, "--out", tmp_path / "b.png"
    )
    assert code == 1 and "INIT_IMAGE: no such file" in _one_line_error(err)
    (tmp_path / "text.png").write_text("not an image")
    code, _, err = _run_cli(
        capsys, "img2img", tmp_path / "text.png", "a cat", *common, "--out", tmp_path / "c.png"
    )
    assert code == 1 and "cannot be used" in _one_line_error(err)
    start = tmp_path / "start.png"
    _gradient(64, 64).save(start)
    code, _, err = _run_cli(
        capsys, "img2img", start, "a cat", *common, "--strength", "1.5", "--out", tmp_path / "d.png"
    )
    assert code == 1
    assert "`strength` must be a number in (0, 1], got 1.5" in _one_line_error(err)
    assert not any((tmp_path / name).exists() for name in ("a.png", "b.png", "c.png", "d.png"))
