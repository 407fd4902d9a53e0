"""`atelier dream` in-process: the PNG and its recipe, JSON output, and refusals that write
nothing."""

from __future__ import annotations

import json
import re

import pytest

from atelier.cli import main
from generation.dream import render_dream_recipe
from generation.parameters import read_parameters, read_recipe
from tests.factories import detailed, encode


@pytest.fixture
def picture(tmp_path, monkeypatch):
    monkeypatch.setenv("ATELIER_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / "photo.png"
    path.write_bytes(encode(detailed(9, 180)))
    (tmp_path / "notes.txt").write_text("not a picture")
    return path


def run(capsys, *args):
    code = main(["dream", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_dream_is_written_with_its_recipe_inside_and_beside(picture, capsys):
    out = picture.parent / "dreams" / "d.png"
    code, stdout, err = run(
        capsys,
        picture,
        "--layer",
        "block5",
        "--octaves",
        "2",
        "--steps",
        "3",
        "--size",
        "96",
        "--seed",
        "4",
        "--out",
        out,
        "--json",
    )
    assert code == 0, err
    report = json.loads(stdout)
    recipe = read_recipe(out.read_bytes())
    assert recipe == report["recipe"] == json.loads(out.with_suffix(".json").read_text())
    assert recipe["layer"] == "block5" and recipe["seed"] == 4 and recipe["octaves"] == 2
    assert read_parameters(out.read_bytes()).startswith("DeepDream, Layer: block5")
    again = render_dream_recipe(recipe, {recipe["content"]["sha256"]: picture.read_bytes()}.get)
    assert again.png() == out.read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--layer", "block99"], "`layer` must be one of block3 to block17, got 'block99'"),
        (["--strength", "lots"], "--strength must be a number"),
        (["--octaves", "9"], r"`octaves` must be in \[1, 6\], got 9"),
        (["--out", "d.jpg"], "--out must name a .png file"),
    ],
)
def test_bad_settings_are_refused_and_nothing_is_written(picture, capsys, args, message):
    argv = [picture, "--out", picture.parent / "d.png", *args]
    code, _out, err = run(capsys, *argv)
    assert code != 0
    assert re.search(message, err), err
    assert not (picture.parent / "d.png").exists() and not (picture.parent / "d.json").exists()


def test_a_file_that_is_not_a_picture_is_named_without_a_server_path(picture, capsys):
    code, _out, err = run(capsys, picture.parent / "notes.txt", "--out", picture.parent / "d.png")
    assert code != 0 and "not an image" in err
    code, _out, err = run(capsys, picture.parent / "missing.png", "--out", picture.parent / "d.png")
    assert code != 0 and "missing.png" in err
    code, out, _err = run(capsys, "--list-layers")
    assert code == 0 and out.split() == [f"block{i}" for i in range(3, 18)]
