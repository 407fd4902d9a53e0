"""Genes: named directions in a GAN's latent space, as Artbreeder's sliders.

Found with GANSpace (Härkönen et al., 2020): many latents are drawn, the generator's
activations after its second block are collected, and their principal components are
taken; a generator without a mapping network has no W space, so each component is carried
back to the latent space by linear regression of its coordinates on the latents, giving one
unit-length latent direction per component. The first components move the most pixels; the
bundled model's were then looked at and named (`scripts/find_genes.py` writes the file, the
names are given there and in docs/MODEL_CARD.md).

A model's genes live beside its weights in `genes.json`, named by the SHA-256 of that file.
A gene edit is part of a recipe (`"genes": {name: amount}`, `"genes_sha256"`): the latent
moves by amount x direction, so the edit reproduces exactly; an amount is in standard
deviations of the latent prior (the directions have unit length), between -3 and 3.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from generation.errors import GenerationError

GENES_FILE = "genes.json"
MAX_AMOUNT = 3.0
MAX_GENES = 16
MAX_NAME = 32


@dataclass(frozen=True)
class GeneSet:
    """A model's genes.

    Attributes:
        model_sha256: The model they were found for.
        sha256: The SHA-256 of the genes file (recipes name it).
        names: Gene names, strongest component first.
        directions: {name: unit latent direction as a tuple of floats}.
        notes: {name: what moving it does, as seen}.
    """

    model_sha256: str
    sha256: str
    names: tuple[str, ...]
    directions: Mapping[str, tuple[float, ...]]
    notes: Mapping[str, str]

    def apply(self, latent, edits: Mapping[str, float]):
        """`latent` (D,) moved by each edit's amount along its gene; a new tensor."""
        import torch

        out = latent.clone()
        for name in sorted(edits):
            direction = torch.tensor(self.directions[name], dtype=out.dtype)  # (D,)
            out = out + float(edits[name]) * direction
        return out


def check_edits(edits: object) -> dict[str, float]:
    """A recipe's `genes` in normal form: {name: amount}, amounts finite in [-3, 3], zeros
    dropped.

    Raises:
        GenerationError: not a mapping of short names to numbers in range.
    """
    if not isinstance(edits, Mapping):
        raise GenerationError(f"`genes` must map gene names to amounts, got {edits!r:.80}")
    if len(edits) > MAX_GENES:
        raise GenerationError(f"`genes` may set at most {MAX_GENES} genes, got {len(edits)}")
    clean: dict[str, float] = {}
    for name, amount in edits.items():
        if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME:
            raise GenerationError(f"a gene name must be 1-{MAX_NAME} characters, got {name!r:.40}")
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise GenerationError(f"gene {name!r} needs a number, got {amount!r:.40}")
        value = float(amount)
        if not math.isfinite(value) or not -MAX_AMOUNT <= value <= MAX_AMOUNT:
            raise GenerationError(
                f"gene {name!r} must be between {-MAX_AMOUNT:g} and {MAX_AMOUNT:g}, got {value}"
            )
        if value != 0.0:
            clean[name] = value
    return clean


def load_genes(model_directory: str | Path) -> GeneSet | None:
    """The genes beside a model's weights, or None when it has none.

    Raises:
        GenerationError: a genes file that cannot be read.
    """
    path = Path(model_directory) / GENES_FILE
    if not path.is_file():
        return None
    data = path.read_bytes()
    try:
        document = json.loads(data)
        genes = document["genes"]
        names = tuple(g["name"] for g in genes)
        directions = {g["name"]: tuple(float(x) for x in g["direction"]) for g in genes}
        notes = {g["name"]: str(g.get("note", "")) for g in genes}
        model = str(document["model_sha256"])
    except (ValueError, KeyError, TypeError) as exc:
        raise GenerationError(f"the model's {GENES_FILE} cannot be read: {exc}") from None
    if len(set(names)) != len(names) or len({len(d) for d in directions.values()}) > 1:
        raise GenerationError(f"the model's {GENES_FILE} repeats a name or mixes lengths")
    return GeneSet(model, hashlib.sha256(data).hexdigest(), names, directions, notes)


def find_directions(generator, count: int = 12, samples: int = 8192, seed: int = 0):
    """GANSpace directions of a generator, over its `gene_features` (the 8x8 maps of either
    architecture).

    Args:
        generator: The generator (eval mode, CPU).
        count: How many directions, strongest first.
        samples: How many latents to draw.
        seed: Seeds the latents.

    Returns:
        (directions (count, D) float32 with unit rows, explained variance share (count,)).
    """
    import torch

    z = torch.randn(samples, generator.latent_dim, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        features = generator.gene_features(z)  # (N, F)
    centred = (features - features.mean(0)).double()
    _, singular, components = torch.linalg.svd(centred, full_matrices=False)
    coordinates = centred @ components[:count].T  # (N, count)
    mapping = torch.linalg.lstsq(z.double(), coordinates).solution  # (D, count)
    directions = (mapping / mapping.norm(dim=0, keepdim=True)).T  # (count, D)
    share = singular[:count] ** 2 / (singular**2).sum()
    return directions.float(), share.float()
