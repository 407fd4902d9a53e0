"""What every `atelier` command module shares: the one-line error, output, flag checks, files.

Kept apart from `atelier.cli` so the studio, style and diffusion command modules can import
it at the top without a cycle (`atelier.cli` imports them to build the parser).
"""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path
from typing import Any


class CommandError(Exception):
    """A refusal the CLI reports as one line."""


def emit(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    """Print `data` as JSON with `--json`, else the human `text`."""
    if args.json:
        print(json.dumps(data, indent=2, sort_keys=True, default=str))
    else:
        print(text)


def check_range(value, flag: str, low, high) -> None:
    """Refuse a flag's value outside [low, high] (NaN included), naming the flag."""
    if not (low <= value <= high):

        def show(x) -> str:
            return f"{x:g}" if isinstance(x, float) else str(x)

        raise CommandError(f"{flag} must be in [{show(low)}, {show(high)}], got {show(value)}")


def parse_number(text: str, flag: str, kind=float):
    """A flag's text as a finite float (or an int with `kind=int`), naming the flag if not."""
    try:
        value = kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise CommandError(f"{flag} must be {what}, got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise CommandError(f"{flag} must be a finite number, got {text!r}")
    return value


def existing_file(value: str, what: str) -> Path:
    """The path of a file that must exist."""
    path = Path(value)
    if not path.is_file():
        raise CommandError(f"no such {what} file: {path}")
    return path


def write_files(files: dict[Path, bytes]) -> None:
    """Write all the files or none: each goes to a temporary name first, then all are renamed.

    Every file is written in full before the first rename, so a full disk, a missing or
    read-only folder or a target that is a folder changes nothing; only a failure between two
    renames (the folder vanishing mid-way) could leave some files new and some old.

    Raises:
        CommandError: naming the path that could not be written (a missing or read-only
            folder, a full disk); no temporary file is left behind.
    """
    for path in files:
        if path.is_dir():
            raise CommandError(f"cannot write {path}: it is a folder; give a file name")
    partials: list[Path] = []
    current: Path | None = None
    try:
        for current, data in files.items():
            current.parent.mkdir(parents=True, exist_ok=True)
            partial = current.with_name(f".{current.name}.{os.getpid()}.partial")
            partials.append(partial)
            partial.write_bytes(data)
        for partial, current in zip(partials, files, strict=True):
            partial.replace(current)
    except OSError as exc:
        for partial in partials:
            partial.unlink(missing_ok=True)
        raise CommandError(f"cannot write {current}: {exc.strerror or exc}") from None
