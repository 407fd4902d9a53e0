"""The GAN studio commands (`atelier generate`, `breed`, `morph`, `train`) run in-process."""

import io
import json

import pytest
import torch
from PIL import Image

from atelier.cli import main
from generation.gan import Generator, weights_sha256
from generation.gan_pipeline import make_model_resolver, render_recipe_bytes
from generation.parameters import parse_a1111_parameters, read_parameters, read_recipe

torch.set_num_threads(1)


def save_tiny(directory, seed=0):
    generator = Generator(image_size=16, latent_dim=8, base_channels=4, seed=seed)
    with torch.no_grad():  # an untrained generator is nearly flat grey; give it contrast
        for module in generator.modules():
            if isinstance(module, torch.nn.ConvTranspose2d):
                module.weight.mul_(12)
    generator.save_pretrained(directory)
    return directory


@pytest.fixture
def model_dir(tmp_path):
    return save_tiny(tmp_path / "tiny")


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ATELIER_DATA_DIR", str(tmp_path / "data"))

    def run(*args, json_output=True):
        code = main([*map(str, args), *(["--json"] if json_output else [])])
        out, err = capsys.readouterr()
        data = json.loads(out) if code == 0 and json_output and out.strip() else None
        return code, data, out, err

    return run


def assert_refused(result, message, *paths):
    code, _, out, err = result
    assert code == 1, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert message in err, err
    assert out == ""
    for path in paths:
        assert not path.exists(), f"{path} was written"


# --- generate -----------------------------------------------------------------------------


def test_generate_with_the_default_model_writes_pngs_recipes_and_a_grid(cli, tmp_path):
    out = tmp_path / "pics"
    code, data, _, err = cli("generate", "--seed", 3, "--count", 2, "--out", out, "--grid")
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == [
        "grid.png",
        "seed_3.json",
        "seed_3.png",
        "seed_4.json",
        "seed_4.png",
    ]
    assert data["count"] == 2 and data["model_name"] == "emoji64"
    assert data["grid"] == str(out / "grid.png")
    png = (out / "seed_4.png").read_bytes()
    image = Image.open(io.BytesIO(png))
    assert image.size == (512, 512)
    fields = parse_a1111_parameters(image.text["parameters"])
    assert fields["Seed"] == "4" and fields["Size"] == "512x512"
    assert fields["Model hash"] == data["model_sha256"][:10] and fields["Truncation"] == "0.7"
    recipe = json.loads((out / "seed_4.json").read_text())
    assert read_recipe(png) == recipe
    assert render_recipe_bytes(recipe) == png
    assert Image.open(out / "grid.png").size[0] > 256


def test_generate_with_a_model_folder_prints_what_it_wrote(cli, tmp_path, model_dir):
    out = tmp_path / "pics"
    code, _, text, err = cli(
        "generate", "--model", model_dir, "--seed", 10, "--count", 3, "--size", 48,
        "--truncation", 1, "--upscale", "nearest", "--out", out, json_output=False,
    )  # fmt: skip
    assert code == 0, err
    assert text.startswith("wrote 3 picture(s) (seeds 10-12, truncation 1, 48 px)")
    assert str(out / "seed_12.png") in text
    recipe = json.loads((out / "seed_11.json").read_text())
    assert recipe["model_sha256"] == weights_sha256(model_dir)
    assert recipe["truncation"] == 1.0 and recipe["upscale"] == "nearest"
    resolver = make_model_resolver(model_dir)
    assert render_recipe_bytes(recipe, resolver) == (out / "seed_11.png").read_bytes()
    assert read_parameters((out / "seed_10.png").read_bytes()).startswith("Atelier GAN tiny\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--count", 0], "--count must be in [1, 256], got 0"),
        (["--count", 100000], "--count must be in [1, 256], got 100000"),
        (["--truncation", 1.5], "--truncation must be in [0, 1], got 1.5"),
        (["--truncation", -0.5], "--truncation must be in [0, 1], got -0.5"),
        (["--truncation", "nan"], "--truncation must be in [0, 1], got nan"),
        (["--seed", -1], "--seed must be in [0, "),
        (["--size", 8], "--size must be in [16, 2048], got 8"),
        (["--size", 100000], "--size must be in [16, 2048], got 100000"),
    ],
)
def test_generate_refuses_bad_numbers_and_writes_nothing(cli, tmp_path, model_dir, args, message):
    out = tmp_path / "pics"
    assert_refused(cli("generate", "--model", model_dir, "--out", out, *args), message, out)


def test_generate_refuses_a_missing_or_broken_model(cli, tmp_path, model_dir):
    out = tmp_path / "pics"
    assert_refused(
        cli("generate", "--model", tmp_path / "nope", "--out", out),
        "no GAN model at",
        out,
    )
    weights = model_dir / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    assert_refused(
        cli("generate", "--model", model_dir, "--out", out), "cannot load the GAN model", out
    )


def test_generate_refuses_an_out_path_that_is_a_file(cli, tmp_path, model_dir):
    target = tmp_path / "file.txt"
    target.write_text("x")
    assert_refused(cli("generate", "--model", model_dir, "--out", target), "is a file")
    assert target.read_text() == "x"
