"""The GAN studio commands (`atelier generate`, `breed`, `morph`, `train`) run in-process."""

import io
import json

import pytest
import torch
from PIL import Image

from atelier.cli import main
from generation.gan import weights_sha256
from generation.gan_pipeline import make_model_resolver, render_recipe_bytes
from generation.parameters import parse_a1111_parameters, read_parameters, read_recipe
from tests.factories import save_tiny_generator as save_tiny

torch.set_num_threads(1)


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
        "generate",
        "--model",
        model_dir,
        "--seed",
        10,
        "--count",
        3,
        "--size",
        48,
        "--truncation",
        1,
        "--upscale",
        "nearest",
        "--out",
        out,
        json_output=False,
    )
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


def test_genes_are_listed_and_generate_moves_pictures_along_them(cli, tmp_path):
    code, data, _, err = cli("genes")
    assert code == 0, err
    names = [g["name"] for g in data["genes"]]
    assert names[:2] == ["flag", "person"] and all(g["note"] for g in data["genes"])
    out = tmp_path / "pics"
    code, data, _, err = cli(
        "generate",
        "--seed",
        4,
        "--size",
        64,
        "--gene",
        "person=2",
        "--gene",
        "big hair=-1",
        "--out",
        out,
    )
    assert code == 0, err
    recipe = json.loads((out / "seed_4.json").read_text())
    assert recipe["genes"] == {"person": 2.0, "big hair": -1.0}
    assert render_recipe_bytes(recipe) == (out / "seed_4.png").read_bytes()
    code, _, _text, err = cli("genes", "--model", tmp_path / "nope", json_output=False)
    assert code == 1 and "no GAN model at" in err


@pytest.mark.parametrize(
    ("gene", "message"),
    [
        ("nose=1", "this model has no gene 'nose'; its genes: flag, person"),
        ("person=4", "gene 'person' must be between -3 and 3, got 4.0"),
        ("person", "--gene must look like NAME=AMOUNT, got 'person'"),
        ("person=lots", "--gene person must be a number"),
    ],
)
def test_generate_refuses_bad_genes_and_writes_nothing(cli, tmp_path, gene, message):
    out = tmp_path / "pics"
    assert_refused(cli("generate", "--gene", gene, "--out", out), message, out)


def test_a_model_without_genes_refuses_gene_edits(cli, tmp_path, model_dir):
    out = tmp_path / "pics"
    assert_refused(
        cli("generate", "--model", model_dir, "--gene", "person=1", "--out", out),
        "this model has no genes",
        out,
    )


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


# --- breed --------------------------------------------------------------------------------


@pytest.fixture
def parents(cli, tmp_path, model_dir):
    out = tmp_path / "parents"
    code, _, _, err = cli(
        "generate", "--model", model_dir, "--seed", 1, "--count", 2, "--size", 32, "--out", out
    )
    assert code == 0, err
    return out / "seed_1.json", out / "seed_2.json"


def test_breed_writes_children_that_name_their_parents_and_regenerate(
    cli, tmp_path, parents, model_dir
):
    a, b = parents
    out = tmp_path / "kids"
    code, data, _, err = cli(
        "breed",
        a,
        b,
        "--children",
        3,
        "--mutation",
        0.25,
        "--seed",
        8,
        "--model",
        model_dir,
        "--out",
        out,
        "--grid",
    )
    assert code == 0, err
    assert sorted(p.name for p in out.glob("*.png")) == [
        "child_8_00.png",
        "child_8_01.png",
        "child_8_02.png",
        "grid.png",
    ]
    from generation.recipes import recipe_sha256

    parent_recipes = [json.loads(a.read_text()), json.loads(b.read_text())]
    expected = [recipe_sha256(r) for r in parent_recipes]
    assert data["parent_recipe_sha256"] == expected
    resolver = make_model_resolver(model_dir)
    for k in range(3):
        recipe = json.loads((out / f"child_8_{k:02d}.json").read_text())
        assert recipe["parents"] == parent_recipes and recipe["child_index"] == k
        assert recipe["crossover_seed"] == 8 and recipe["mutation"] == 0.25
        png = (out / f"child_8_{k:02d}.png").read_bytes()
        assert render_recipe_bytes(recipe, resolver) == png
        fields = parse_a1111_parameters(read_parameters(png))
        assert fields["Parent A"] == expected[0][:16] and fields["Child"] == str(k)


def test_children_can_be_bred_again_from_their_pngs(cli, tmp_path, parents, model_dir):
    a, b = parents
    code, _, _, err = cli(
        "breed", a, b, "--children", 2, "--model", model_dir, "--out", tmp_path / "g1"
    )
    assert code == 0, err
    code, data, _, err = cli(
        "breed",
        tmp_path / "g1" / "child_0_00.png",
        a,
        "--children",
        1,
        "--model",
        model_dir,
        "--out",
        tmp_path / "g2",
    )
    assert code == 0, err
    recipe = json.loads((tmp_path / "g2" / "child_0_00.json").read_text())
    assert recipe["parents"][0]["kind"] == "gan_breed"
    assert data["children"][0]["depth"] == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--children", 0], "--children must be in [1, 64], got 0"),
        (["--children", 65], "--children must be in [1, 64], got 65"),
        (["--mutation", 1.5], "--mutation must be in [0, 1], got 1.5"),
        (["--seed", -3], "--seed must be in [0, "),
        (["--size", 4], "--size must be in [16, 2048], got 4"),
    ],
)
def test_breed_refuses_bad_numbers(cli, tmp_path, parents, model_dir, args, message):
    out = tmp_path / "kids"
    result = cli("breed", *parents, "--model", model_dir, "--out", out, *args)
    assert_refused(result, message, out)


def test_breed_refuses_parents_of_different_models(cli, tmp_path, parents, model_dir):
    other = save_tiny(tmp_path / "other", seed=1)
    code, *_ = cli("generate", "--model", other, "--size", 32, "--out", tmp_path / "o")
    assert code == 0
    out = tmp_path / "kids"
    result = cli(
        "breed", parents[0], tmp_path / "o" / "seed_0.json", "--model", model_dir, "--out", out
    )
    assert_refused(result, "were made by different models", out)
    result = cli("breed", *parents, "--model", other, "--out", out)
    assert_refused(result, "but --model", out)
    result = cli("breed", *parents, "--out", out)
    assert_refused(result, "no installed GAN model has id", out)


def test_breed_refuses_unreadable_recipes(cli, tmp_path, parents, model_dir):
    out = tmp_path / "kids"
    junk = tmp_path / "junk.json"
    junk.write_text("{nope")
    assert_refused(cli("breed", junk, parents[1], "--out", out), "not JSON", out)
    assert_refused(
        cli("breed", tmp_path / "missing.json", parents[1], "--out", out),
        "no such recipe file",
        out,
    )
    plain = tmp_path / "plain.png"
    Image.new("RGB", (8, 8)).save(plain)
    assert_refused(cli("breed", plain, parents[1], "--out", out), "without an Atelier recipe", out)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**json.loads(parents[0].read_text()), "truncation": 3}))
    assert_refused(cli("breed", bad, parents[1], "--out", out), "`truncation` must be in", out)


# --- morph --------------------------------------------------------------------------------


def test_morph_between_two_seeds_writes_a_gif_and_a_recipe_that_remakes_it(
    cli, tmp_path, model_dir
):
    out = tmp_path / "anim" / "morph.gif"
    code, data, _, err = cli(
        "morph", "--seeds", 1, 2, "--frames", 6, "--size", 32, "--model", model_dir, "--out", out
    )
    assert code == 0, err
    assert data["frames"] == 6 and data["format"] == "gif"
    with Image.open(out) as animation:
        assert animation.n_frames == 6 and animation.size == (32, 32)
    recipe = json.loads((tmp_path / "anim" / "morph.gif.json").read_text())
    assert recipe["kind"] == "gan_morph" and recipe["frames"] == 6
    assert [recipe["start"]["seed"], recipe["end"]["seed"]] == [1, 2]
    resolver = make_model_resolver(model_dir)
    assert render_recipe_bytes(recipe, resolver) == out.read_bytes()


def test_morph_between_two_recipes_writes_a_webp(cli, tmp_path, parents, model_dir):
    out = tmp_path / "morph.webp"
    code, _, text, err = cli(
        "morph",
        "--recipes",
        *parents,
        "--frames",
        5,
        "--frame-ms",
        100,
        "--model",
        model_dir,
        "--out",
        out,
        json_output=False,
    )
    assert code == 0, err
    assert text.startswith(f"wrote {out} (5 frames of 32 px, WEBP")
    with Image.open(out) as animation:
        assert animation.format == "WEBP" and animation.n_frames == 5
    recipe = json.loads((tmp_path / "morph.webp.json").read_text())
    assert recipe["start"] == json.loads(parents[0].read_text())
    assert render_recipe_bytes(recipe, make_model_resolver(model_dir)) == out.read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--frames", 1], "--frames must be in [2, 120], got 1"),
        (["--frames", 500], "--frames must be in [2, 120], got 500"),
        (["--frame-ms", 5], "--frame-ms must be in [20, 1000], got 5"),
        (["--frame-ms", 55], "--frame-ms must be a multiple of 10 (GIF timing), got 55"),
        (["--truncation", 2], "--truncation must be in [0, 1], got 2"),
        (["--size", 9999], "--size must be in [16, 2048], got 9999"),
    ],
)
def test_morph_refuses_bad_numbers(cli, tmp_path, model_dir, args, message):
    out = tmp_path / "m.gif"
    result = cli("morph", "--seeds", 1, 2, "--frames", 4, "--model", model_dir, "--out", out, *args)
    assert_refused(result, message, out, tmp_path / "m.gif.json")


def test_morph_refuses_other_formats_one_seed_twice_and_mixed_models(
    cli, tmp_path, parents, model_dir
):
    base = ["--frames", 4, "--model", model_dir]
    assert_refused(
        cli("morph", "--seeds", 1, 2, *base, "--out", tmp_path / "m.mp4"),
        "--out must end in .gif or .webp, got 'm.mp4'",
        tmp_path / "m.mp4",
    )
    out = tmp_path / "m.gif"
    assert_refused(cli("morph", "--seeds", 3, 3, *base, "--out", out), "two different seeds", out)
    other = save_tiny(tmp_path / "other", seed=1)
    code, *_ = cli("generate", "--model", other, "--size", 32, "--out", tmp_path / "o")
    assert code == 0
    result = cli(
        "morph", "--recipes", parents[0], tmp_path / "o" / "seed_0.json", *base, "--out", out
    )
    assert_refused(result, "were made by different models", out)
    kids = tmp_path / "anim.gif"
    code, *_ = cli("morph", "--recipes", *parents, *base, "--out", kids)
    assert code == 0
    result = cli("morph", "--recipes", tmp_path / "anim.gif.json", parents[0], *base, "--out", out)
    assert_refused(result, "is a gan_morph recipe, not a picture", out)


# --- train --------------------------------------------------------------------------------


def write_training_images(folder, count, size=64):
    from PIL import ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    for i in range(count):
        image = Image.new("RGB", (size, size), "white")
        colour = tuple(int(c) for c in torch.randint(0, 256, (3,), generator=g))
        x, y = (int(v) for v in torch.randint(4, size // 2 - 4, (2,), generator=g))
        ImageDraw.Draw(image).ellipse([x, y, x + size // 2, y + size // 2], fill=colour)
        image.save(folder / f"img_{i:02d}.png")
    return folder


@pytest.fixture
def images(tmp_path):
    return write_training_images(tmp_path / "images", 24)


TRAIN = ["--batch-size", 4, "--sample-every", 2, "--no-progress-bar"]


def test_train_then_resume_gives_the_same_model_as_one_uninterrupted_run(cli, tmp_path, images):
    code, straight, _, err = cli("train", images, "--out", tmp_path / "a", "--steps", 4, *TRAIN)
    assert code == 0, err
    assert straight["step"] == 4 and not straight["stopped"]
    code, first, _, err = cli("train", images, "--out", tmp_path / "b", "--steps", 2, *TRAIN)
    assert code == 0, err
    assert first["model_sha256"] != straight["model_sha256"]
    code, resumed, _, err = cli(
        "train", images, "--out", tmp_path / "b", "--steps", 4, "--resume", *TRAIN
    )
    assert code == 0, err
    assert resumed["step"] == 4
    assert resumed["model_sha256"] == straight["model_sha256"]
    run = tmp_path / "b"
    assert sorted(p.name for p in (run / "samples").iterdir()) == [
        "step_000000002.png",
        "step_000000004.png",
    ]
    assert (run / "loss_curve.png").is_file() and resumed["loss_curve"]
    # the run folder is a model folder for the other commands
    code, made, _, err = cli(
        "generate", "--model", run, "--size", 64, "--count", 2, "--out", tmp_path / "pics"
    )
    assert code == 0, err
    assert made["model_sha256"] == resumed["model_sha256"] and made["model_name"] == "b"


def test_a_signal_stops_training_with_a_checkpoint_that_resumes(cli, tmp_path, images):
    import os
    import signal
    import threading
    import time

    run = tmp_path / "run"
    handler_before = signal.getsignal(signal.SIGTERM)

    def stop_when_started():
        deadline = time.monotonic() + 60
        while not (run / "progress.json").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(os.getpid(), signal.SIGTERM)

    killer = threading.Thread(target=stop_when_started)
    killer.start()
    code, data, _, err = cli("train", images, "--out", run, "--steps", 60, *TRAIN)
    killer.join()
    assert code == 0, err
    assert data["stopped"] and 2 <= data["step"] < 60
    assert "stopping after this step" in err
    assert (run / "checkpoint.pt").is_file() and (run / "model" / "model.safetensors").is_file()
    assert signal.getsignal(signal.SIGTERM) is handler_before
    step = data["step"]
    code, data, _, err = cli("train", images, "--out", run, "--steps", step + 1, "--resume", *TRAIN)
    assert code == 0, err
    assert data["step"] == step + 1 and not data["stopped"]


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        ("empty", [], "`data_dir` contains no images"),
        ("text", [], "`data_dir` contains files that are not images: notes.txt"),
        ("few", [], "`data_dir` must contain at least 20 images, got 19"),
        ("missing", [], "DATA_DIR must be a folder of images"),
        ("ok", ["--steps", 0], "--steps must be in [1, 10000000], got 0"),
        ("ok", ["--batch-size", 0], "--batch-size must be in [1, 1024], got 0"),
        ("ok", ["--batch-size", 30], "`batch_size` must be <= the number of images (24), got 30"),
        ("ok", ["--sample-every", -1], "--sample-every must be in [0, "),
        ("ok", ["--device", "cuda"], "--device is 'cuda' but torch sees no GPU here"),
        ("ok", ["--device", "tpu"], "--device must be 'cpu', 'cuda', 'cuda:N' or 'auto'"),
        ("ok", ["--image-size", 256], "--image-size 256 needs --architecture fastgan"),
    ],
)
def test_train_refuses_bad_input_and_writes_nothing(cli, tmp_path, setup, args, message):
    folder = tmp_path / "images"  # not the data dir, where the CLI keeps its database
    if setup == "empty":
        folder.mkdir()
    elif setup == "text":
        write_training_images(folder, 24)
        (folder / "notes.txt").write_text("not an image")
    elif setup == "few":
        write_training_images(folder, 19)
    elif setup == "ok":
        write_training_images(folder, 24)
    out = tmp_path / "run"
    assert_refused(cli("train", folder, "--out", out, "--no-progress-bar", *args), message, out)


def test_train_refuses_to_overwrite_a_run_or_change_its_config(cli, tmp_path, images):
    run = tmp_path / "run"
    code, *_ = cli("train", images, "--out", run, "--steps", 1, *TRAIN)
    assert code == 0
    before = (run / "checkpoint.pt").read_bytes()
    assert_refused(
        cli("train", images, "--out", run, "--steps", 2, *TRAIN), "pass --resume to continue"
    )
    result = cli("train", images, "--out", run, "--steps", 2, "--resume", *TRAIN, "--seed", 5)
    assert_refused(result, "cannot resume")
    assert (run / "checkpoint.pt").read_bytes() == before


# --- training fingerprints ----------------------------------------------------------------


def test_training_fingerprints_match_what_the_marketplace_registers(images):
    from generation.training_data import training_fingerprints
    from provenance.fingerprint import content_hash, perceptual_hash, pixel_hash
    from provenance.images import decode_image

    prints = training_fingerprints(images)
    assert [p.file for p in prints] == sorted(p.name for p in images.iterdir())
    for fp in prints[:3]:
        data = (images / fp.file).read_bytes()
        rgb = decode_image(data).rgb
        phash = perceptual_hash(rgb)
        assert fp.sha256 == content_hash(data) and fp.pixel_sha256 == pixel_hash(rgb)
        assert fp.pdq == phash.hex and fp.pdq_quality == phash.quality
        assert len(fp.pdq_dihedral) == 8 and fp.pdq_dihedral[0] == fp.pdq
        assert fp.to_json()["pdq_dihedral"] == list(phash.dihedral)
    assert len({p.sha256 for p in prints}) == len(prints)


def test_training_fingerprints_refuse_what_training_refuses(tmp_path, images):
    from generation.training_data import training_fingerprints

    (images / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="not images: notes.txt"):
        training_fingerprints(images)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="contains no images"):
        training_fingerprints(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="must be a directory"):
        training_fingerprints(tmp_path / "nope")


def test_training_records_use_the_provenance_pdq_and_legacy_ones_convert(images):
    from generation.image_folder import pdq_hash
    from generation.training_data import training_pdq_to_provenance_hex
    from provenance.fingerprint import perceptual_hash

    image = Image.open(images / "img_00.png").convert("RGB")
    recorded, _ = pdq_hash(image)
    provenance_hex = perceptual_hash(image, dihedral=False).hex
    assert recorded == provenance_hex
    legacy = f"{int(format(int(recorded, 16), '0256b')[::-1], 2):064x}"  # bit 0 first
    assert legacy != recorded
    assert training_pdq_to_provenance_hex(legacy) == provenance_hex
    assert training_pdq_to_provenance_hex(provenance_hex) == legacy
    with pytest.raises(ValueError, match="64 hex digits"):
        training_pdq_to_provenance_hex("abc")
