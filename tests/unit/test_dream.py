"""DeepDream: the MobileNetV2 read from the style predictor's ONNX file, the dream itself, its
recipe and its refusals."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

from generation.dream import (
    DREAM_LAYERS,
    DreamCancelled,
    dream,
    dream_parameters,
    render_dream_recipe,
)
from generation.errors import GenerationError
from generation.mobilenet import LAYERS, feature_net, predict_path
from generation.recipe_kinds import ai_label, png_with_recipe
from generation.style import bare_png
from tests.factories import detailed, encode


def test_the_torch_network_gives_the_onnx_predictors_style_embedding():
    import onnxruntime as ort

    picture = np.asarray(detailed(7, 256), dtype=np.float32) / 255.0  # (256, 256, 3)
    session = ort.InferenceSession(str(predict_path()), providers=["CPUExecutionProvider"])
    expected = session.run(None, {"style_image": picture[None]})[0].ravel()
    with torch.no_grad():
        got = feature_net()(torch.from_numpy(picture).permute(2, 0, 1)[None], ["embedding"])
    got = got["embedding"].numpy().ravel()
    cosine = float(got @ expected / np.linalg.norm(got) / np.linalg.norm(expected))
    # the ONNX graph rounds every activation to int8; the torch one does not
    assert cosine > 0.999
    assert np.abs(got - expected).max() < 0.15 * np.abs(expected).max()


def test_every_layer_is_found_with_its_shape_and_unknown_ones_are_named():
    with torch.no_grad():
        found = feature_net()(torch.rand(1, 3, 96, 128), LAYERS)
    assert set(found) == set(LAYERS)
    assert found["conv"].shape == (1, 32, 48, 64)
    assert found["block10"].shape == (1, 64, 6, 8)
    assert found["conv_1"].shape == (1, 1280, 3, 4)
    assert found["embedding"].shape == (1, 100)
    with pytest.raises(GenerationError, match=r"unknown layer\(s\) \['block99'\]"):
        feature_net()(torch.rand(1, 3, 64, 64), ["block99"])
    with pytest.raises(GenerationError, match="H, W >= 32"):
        feature_net()(torch.rand(1, 3, 16, 64), ["block3"])


def test_gradients_reach_the_picture():
    picture = torch.rand(1, 3, 64, 64, requires_grad=True)
    feature_net()(picture, ["block8"])["block8"].pow(2).mean().backward()
    assert picture.grad is not None and float(picture.grad.abs().sum()) > 0


def test_a_dream_changes_the_picture_and_its_recipe_makes_it_again():
    source = encode(detailed(3, 200))
    out = dream(source, layer="block6", octaves=2, steps=3, strength=1.5, size=96, seed=5)
    assert out.image.size == (96, 96)
    plain = np.asarray(Image.open(io.BytesIO(source)).convert("RGB").resize((96, 96)))
    assert np.abs(np.asarray(out.image, dtype=int) - plain.astype(int)).mean() > 5
    recipe = json.loads(json.dumps(out.recipe))
    assert recipe["kind"] == "dream" and recipe["layer"] == "block6" and recipe["seed"] == 5
    again = render_dream_recipe(recipe, {out.recipe["content"]["sha256"]: source}.__getitem__)
    assert again.image.tobytes() == out.image.tobytes()
    assert again.png() == out.png()
    other_seed = dream(source, layer="block6", octaves=2, steps=3, strength=1.5, size=96, seed=6)
    assert other_seed.image.tobytes() != out.image.tobytes()


def test_strength_zero_is_the_picture_resized_and_a_later_layer_dreams_otherwise():
    picture = detailed(4, 160)
    still = dream(picture, strength=0, size=80, octaves=1, steps=1)
    assert still.image.tobytes() == picture.resize((80, 80), Image.LANCZOS).tobytes()
    early = dream(picture, layer="block3", octaves=1, steps=4, size=80)
    late = dream(picture, layer="block14", octaves=1, steps=4, size=80)
    assert early.image.tobytes() != late.image.tobytes()
    # a picture given as pixels is named by the hash of its bare PNG
    import hashlib

    assert still.recipe["content"] == {
        "sha256": hashlib.sha256(bare_png(picture)).hexdigest(),
        "hash_of": "png",
    }


def test_a_dream_is_ai_modified_and_its_png_carries_parameters():
    from generation.parameters import read_parameters

    out = dream(detailed(2, 96), octaves=1, steps=1, size=64)
    assert ai_label(out.recipe) == "ai_modified"
    text = read_parameters(png_with_recipe(out.image, out.recipe))
    assert text == dream_parameters(out.recipe)
    assert text.startswith("DeepDream, Layer: block10, Octaves: 1, Steps: 1")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"layer": "conv_1"}, "`layer` must be one of block3 to block17, got 'conv_1'"),
        ({"octaves": 0}, r"`octaves` must be in \[1, 6\], got 0"),
        ({"steps": 41}, r"`steps` must be in \[1, 40\], got 41"),
        ({"strength": -1.0}, r"`strength` must be in \[0, 4"),
        ({"strength": float("nan")}, "`strength`"),
        ({"size": 4096}, r"`size` must be in \[64, 1024\], got 4096"),
        ({"seed": -1}, r"`seed` must be in \[0, "),
        ({"steps": True}, "`steps` must be an integer"),
    ],
)
def test_bad_settings_are_refused_naming_them(kwargs, message):
    with pytest.raises(GenerationError, match=message):
        dream(detailed(1, 64), **kwargs)


def test_pictures_that_cannot_be_dreamed_on_are_refused_in_words():
    with pytest.raises(GenerationError, match="not an image"):
        dream(b"hello, not a picture")
    with pytest.raises(GenerationError, match="too narrow to dream on"):
        dream(Image.new("RGB", (2000, 20), "white"), size=512)


def test_a_dream_stops_when_cancelled_and_reports_progress():
    seen = []
    calls = iter(range(100))
    with pytest.raises(DreamCancelled, match="cancelled"):
        dream(
            detailed(5, 96),
            octaves=2,
            steps=3,
            size=96,
            progress=lambda fraction, message: seen.append((fraction, message)),
            should_cancel=lambda: next(calls) >= 2,
        )
    assert [round(f, 3) for f, _ in seen] == [round(1 / 6, 3), round(2 / 6, 3)]
    assert seen[0][1] == "octave 1 of 2"


def test_a_recipe_from_other_code_or_another_network_or_other_bytes_is_refused():
    source = encode(detailed(8, 96))
    recipe = dream(source, octaves=1, steps=1, size=64).recipe
    load = {recipe["content"]["sha256"]: source}.__getitem__
    with pytest.raises(GenerationError, match="dream code 99"):
        render_dream_recipe({**recipe, "code_version": 99}, load)
    with pytest.raises(GenerationError, match="the installed one differs"):
        render_dream_recipe({**recipe, "network": {"sha256": "0" * 64}}, load)
    with pytest.raises(GenerationError, match="did not return the bytes"):
        render_dream_recipe(recipe, lambda sha: b"other bytes")
    with pytest.raises(GenerationError, match=r"`steps` must be in \[1, 40\]"):
        render_dream_recipe({**recipe, "steps": 10_000}, load)
    with pytest.raises(GenerationError, match="malformed"):
        render_dream_recipe({k: v for k, v in recipe.items() if k != "layer"}, load)
    assert set(DREAM_LAYERS) <= set(LAYERS)
