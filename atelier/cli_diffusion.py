"""`atelier` commands for text-to-image and image-to-image through diffusers."""

from __future__ import annotations


def add_commands(add, group) -> None:
    """Add this module's commands with `atelier.cli.build_parser`'s `add` and `group` helpers."""
