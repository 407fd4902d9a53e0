"""`atelier` commands for style transfer and text-to-image."""

from __future__ import annotations


def add_commands(add, group) -> None:
    """Add this module's commands with `atelier.cli.build_parser`'s `add` and `group` helpers."""
