"""`atelier style` in-process: files written, recipes, JSON output and refusals."""

from __future__ import annotations

import hashlib
import io
import json
import re

import numpy as np
import pytest
from PIL import Image

from atelier.cli import main
from generation.parameters import read_parameters, read_recipe
from generation.recipe_kinds import parameters_text
from generation.style import render_style_recipe


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def pictures(tmp_path, monkeypatch):
    monkeypatch.setenv("ATELIER_DATA_DIR", str(tmp_path / "data"))
    y, x = np.mgrid[0:120, 0:180] / np.array([120, 180])[:, None, None]
    content = np.stack([x, y, 1 - x * y], axis=-1)
    (tmp_path / "content.png").write_bytes(_png(Image.fromarray((content * 255).astype(np.uint8))))
    yy, xx = np.mgrid[0:128, 0:128]
    stripes = np.asarray([(200, 40, 30), (250, 200, 60), (20, 60, 200)], np.uint8)[
        ((xx + yy) // 9) % 3
    ]
    (tmp_path / "style.png").write_bytes(_png(Image.fromarray(stripes)))
    (tmp_path / "other.png").write_bytes(_png(Image.fromarray(stripes[:, ::-1].copy())))
    (tmp_path / "notes.txt").write_text("not a picture")
    return tmp_path


def run(capsys, *args):
    code = main(["style", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_style_pictures_blend_into_a_png_with_its_recipe_inside_and_beside(pictures, capsys):
    out = pictures / "result" / "mix.png"
    code, stdout, err = run(
        capsys,
        pictures / "content.png",
        pictures / "style.png",
        pictures / "other.png",
        "--blend",
        "3,1",
        "--strength",
        "0.8",
        "--size",
        "240",
        "--out",
        out,
        "--json",
    )
    assert code == 0, err
    data = json.loads(stdout)
    assert data["out"] == str(out) and data["recipe_file"] == str(out.with_suffix(".json"))
    recipe = data["recipe"]
    assert recipe["style"]["blend"] == [0.75, 0.25] and recipe["strength"] == 0.8
    assert recipe["size"] == {"long_side": 240, "width": 240, "height": 160}
    png = out.read_bytes()
    assert Image.open(io.BytesIO(png)).size == (240, 160)
    assert read_recipe(png) == recipe
    assert json.loads(out.with_suffix(".json").read_text()) == recipe
    # one infotext per kind, whichever path writes the file (issue 13: the CLI, the Style
    # page and a signed download each wrote their own)
    assert read_parameters(png) == parameters_text(recipe)
    assert "Sampler: Magenta arbitrary stylization" in read_parameters(png)
    assert not list(out.parent.glob("*.tmp"))

    # the recipe remakes the same pixels from the stored pictures
    files = {p.name: p.read_bytes() for p in pictures.glob("*.png")}
    by_sha = {hashlib.sha256(b).hexdigest(): b for b in files.values()}
    again = render_style_recipe(recipe, by_sha.__getitem__)
    assert again.image.tobytes() == Image.open(io.BytesIO(png)).convert("RGB").tobytes()


def test_presets_with_weights_and_colour_preservation_print_a_summary(pictures, capsys):
    out = pictures / "p.png"
    code, stdout, err = run(
        capsys,
        pictures / "content.png",
        "--preset",
        "19",
        "--preset",
        "4:3",
        "--preserve-colour",
        "--size",
        "96",
        "--out",
        out,
    )
    assert code == 0, err
    assert stdout.startswith(f"wrote {out} (96x64) in the style of 19 starry blues + 4 crimson")
    recipe = json.loads(out.with_suffix(".json").read_text())
    assert recipe["style"]["weights"][19] == 0.25 and recipe["style"]["weights"][4] == 0.75
    assert recipe["colour"] == "content"


def test_the_embedding_cache_directory_is_filled_and_reused(pictures, capsys):
    cache = pictures / "cache"
    args = [pictures / "content.png", pictures / "style.png", "--size", "64", "--cache-dir", cache]
    assert run(capsys, *args, "--out", pictures / "a.png")[0] == 0
    assert len(list(cache.glob("*.npy"))) == 1
    assert run(capsys, *args, "--out", pictures / "b.png")[0] == 0
    assert (pictures / "a.png").read_bytes() == (pictures / "b.png").read_bytes()


def test_list_presets_names_all_26(pictures, capsys):
    code, stdout, _ = run(capsys, "--list-presets", "--json")
    assert code == 0
    presets = json.loads(stdout)["presets"]
    assert [p["number"] for p in presets] == list(range(26))
    assert presets[19]["name"] == "starry blues"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{c}", "--out", "{o}"], "give style pictures or --preset, not both and not neither"),
        (["{c}", "{s}", "--preset", "3", "--out", "{o}"], "not both and not neither"),
        (["{c}", "{d}/missing.png", "--out", "{o}"], "no such style file: .*missing.png"),
        (["{d}/nope.png", "{s}", "--out", "{o}"], "no such content file: .*nope.png"),
        (["{d}/notes.txt", "{s}", "--out", "{o}"], "`content`: the file is not an image"),
        (["{c}", "{d}/notes.txt", "--out", "{o}"], "`style`: the file is not an image"),
        (
            ["{c}", "{s}", "--size", "63", "--out", "{o}"],
            r"`size` must be an integer in \[64, 4096\], got 63",
        ),
        (["{c}", "{s}", "--size", "5000", "--out", "{o}"], r"in \[64, 4096\], got 5000"),
        (
            ["{c}", "{s}", "--size", "big", "--out", "{o}"],
            "--size must be a whole number, got 'big'",
        ),
        (
            ["{c}", "{s}", "--strength", "1.5", "--out", "{o}"],
            r"--strength must be in \[0, 1\], got 1.5",
        ),
        (["{c}", "{s}", "--strength", "-0.1", "--out", "{o}"], r"--strength must be in \[0, 1\]"),
        (["{c}", "{s}", "--strength", "nan", "--out", "{o}"], "--strength must be a finite number"),
        (["{c}", "{s}", "--blend", "1,2", "--out", "{o}"], "one weight per style picture"),
        (["{c}", "--preset", "26", "--out", "{o}"], "`presets` must be numbers 0 to 25, got 26"),
        (["{c}", "--preset", "x:1", "--out", "{o}"], "--preset must look like N or N:W"),
        (["{c}", "--preset", "3:1", "--blend", "1", "--out", "{o}"], "not both"),
        (["{c}", "{s}"], "give the output PNG with --out"),
        (["{c}", "{s}", "--out", "{d}/out.jpg"], "--out must name a .png file"),
        (
            ["{c}", "{s}", "--threads", "0", "--out", "{o}"],
            r"`threads` must be an integer in \[1, 64\]",
        ),
    ],
)
def test_bad_commands_fail_with_one_line_and_write_nothing(pictures, capsys, args, message):
    names = {
        "c": pictures / "content.png",
        "s": pictures / "style.png",
        "d": pictures,
        "o": pictures / "out.png",
    }
    code, stdout, err = run(capsys, *[a.format(**names) for a in args])
    assert code == 1 and stdout == ""
    assert err.startswith("error: ") and err.count("\n") == 1
    assert re.search(message, err), err
    assert not (pictures / "out.png").exists() and not (pictures / "out.json").exists()
