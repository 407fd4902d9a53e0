"""Unit tests for the helpers every `atelier` command module shares."""

import argparse
import json

import pytest

from atelier.cli_common import (
    CommandError,
    check_range,
    emit,
    existing_file,
    parse_number,
    write_files,
)


def test_write_files_writes_every_file(tmp_path):
    a, b = tmp_path / "out" / "a.png", tmp_path / "out" / "a.json"
    write_files({a: b"png", b: b"{}"})
    assert a.read_bytes() == b"png" and b.read_bytes() == b"{}"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.json", "a.png"]


def test_write_files_writes_nothing_when_one_file_cannot_be_written(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    good, bad = tmp_path / "good.png", blocker / "bad.json"
    with pytest.raises(CommandError, match=f"cannot write {bad}"):
        write_files({good: b"png", bad: b"{}"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker"]  # no partial, no good.png


def test_write_files_keeps_an_existing_file_when_the_batch_fails(tmp_path):
    kept = tmp_path / "kept.png"
    kept.write_bytes(b"old")
    with pytest.raises(CommandError):
        write_files({kept: b"new", tmp_path: b"a folder cannot be a file"})
    assert kept.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.png"]


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        ("abc", float, "--x must be a number, got 'abc'"),
        ("nan", float, "--x must be a finite number"),
        ("inf", float, "--x must be a finite number"),
        ("1.5", int, "--x must be a whole number, got '1.5'"),
    ],
)
def test_parse_number_names_the_flag(text, kind, message):
    with pytest.raises(CommandError, match=message):
        parse_number(text, "--x", kind)


def test_parse_number_and_range_accept_good_values():
    assert parse_number("0.25", "--x") == 0.25 and parse_number("7", "--n", int) == 7
    check_range(0.5, "--x", 0.0, 1.0)
    with pytest.raises(CommandError, match=r"--x must be in \[0, 1\], got 1.5"):
        check_range(1.5, "--x", 0.0, 1.0)
    with pytest.raises(CommandError, match=r"--x must be in \[0, 1\], got nan"):
        check_range(float("nan"), "--x", 0.0, 1.0)


def test_existing_file_and_emit(tmp_path, capsys):
    with pytest.raises(CommandError, match="no such style file"):
        existing_file(str(tmp_path / "missing.png"), "style")
    emit(argparse.Namespace(json=True), {"b": 1, "a": 2}, "text")
    emit(argparse.Namespace(json=False), {"b": 1}, "human text")
    out = capsys.readouterr().out
    assert json.loads(out[: out.index("}") + 1]) == {"a": 2, "b": 1}
    assert out.rstrip().endswith("human text")
