"""Where the bundled default GAN lives, found without loading it (no torch): the studio lays
out a slider per gene of the bundled model when the app starts."""

from __future__ import annotations

from pathlib import Path

DEFAULT_MODEL_NAME = "emoji64"


def default_model_dir() -> Path:
    """The bundled default model's directory, via importlib.resources."""
    from importlib.resources import files

    return Path(str(files("generation") / "pretrained" / DEFAULT_MODEL_NAME))


def bundled_genes():
    """The bundled model's `generation.genes.GeneSet`, read from its genes.json alone, or None."""
    from generation.genes import load_genes

    return load_genes(default_model_dir())
