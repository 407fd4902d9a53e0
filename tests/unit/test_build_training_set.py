"""scripts/build_training_set.py: several sets, licences per picture, the held-out split."""

import importlib.util
import json
from pathlib import Path

import pytest
from PIL import Image

from generation.quality import held_out

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_training_set.py"


@pytest.fixture
def build():
    spec = importlib.util.spec_from_file_location("build_training_set", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_twemoji(count):
    def glyphs(tarball, work_dir, size):
        pictures = [
            (f"1f{0x600 + i:03x}", Image.new("RGB", (size, size), (i * 7 % 256, 40, 200)))
            for i in range(count)
        ]
        return [*pictures, ("1f9ff", pictures[0][1].copy())]  # a pixel-identical duplicate

    return glyphs


def test_twemoji_pictures_carry_their_set_source_and_licence_and_the_split_holds_out(
    build, tmp_path, monkeypatch
):
    monkeypatch.setattr(build, "twemoji_glyphs", fake_twemoji(40))
    tarball = tmp_path / "twemoji.tgz"
    tarball.write_bytes(b"stand-in tarball")
    manifest = build.build_training_set(
        tmp_path / "out", size=64, sets=("twemoji",), hold_out=True, twemoji_tarball=tarball
    )
    assert manifest["duplicates_dropped"] == 1 and manifest["count"] == 40
    assert manifest["sources"]["twemoji"]["license"].startswith("CC-BY-4.0")
    training = sorted(p.name for p in (tmp_path / "out" / "images").iterdir())
    held = sorted(p.name for p in (tmp_path / "out" / "held_out").iterdir())
    assert held and len(training) + len(held) == 40
    assert all(held_out(name) for name in held) and not any(held_out(n) for n in training)
    record = next(f for f in manifest["files"] if f["file"] == "1f600.png")
    assert record["set"] == "twemoji" and record["license"] == "CC-BY-4.0"
    assert record["source"] == "dist/svg/1f600.svg"
    written = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert written["held_out"] == len(held)
    assert {f["file"] for f in written["files"] if f.get("split") == "held_out"} == set(held)


def test_without_hold_out_everything_trains_and_an_old_held_out_folder_goes(
    build, tmp_path, monkeypatch
):
    monkeypatch.setattr(build, "twemoji_glyphs", fake_twemoji(12))
    tarball = tmp_path / "twemoji.tgz"
    tarball.write_bytes(b"stand-in tarball")
    (tmp_path / "out" / "held_out").mkdir(parents=True)
    manifest = build.build_training_set(
        tmp_path / "out", size=64, sets=("twemoji",), twemoji_tarball=tarball
    )
    assert manifest["held_out"] == 0
    assert len(list((tmp_path / "out" / "images").iterdir())) == 12
    assert not (tmp_path / "out" / "held_out").exists()


def test_unknown_sets_are_refused(build, tmp_path):
    with pytest.raises(ValueError, match="`sets` must be some of"):
        build.build_training_set(tmp_path / "out", sets=("openmoji",))
