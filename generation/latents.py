"""The latent vectors GAN recipes stand for (see `generation.recipes`): seeded draws,
breeding crossovers and morph paths. Kept apart from the recipes themselves, which are plain
JSON checks, so validating or describing a recipe (the CLI's parser, the marketplace) never
imports torch."""

from __future__ import annotations

import hashlib

import torch

from generation.errors import GenerationError
from generation.recipes import KIND_BREED, KIND_PROJECTION, KIND_SAMPLE, MAX_SEED, check_float


def seed_latent(seed: int, latent_dim: int) -> torch.Tensor:
    """The untruncated latent of `seed`: `(latent_dim,)` float32, N(0, I).

    It is the same draw as `Generator.sample_latents(1, torch.Generator().manual_seed(seed))`.
    """
    return torch.randn(1, latent_dim, generator=torch.Generator().manual_seed(seed))[0]


def _child_generator(crossover_seed: int, child_index: int) -> torch.Generator:
    # Each child gets its own stream, so child k does not depend on how many siblings were made.
    digest = hashlib.sha256(f"atelier-gan-breed:{crossover_seed}:{child_index}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "big") & MAX_SEED)


def recipe_latent(recipe: dict, latent_dim: int, genes=None) -> torch.Tensor:
    """The latent vector a `gan_sample`, `gan_breed` or `gan_projection` recipe stands for.

    Args:
        recipe: A validated latent recipe.
        latent_dim: The model's latent size.
        genes: The model's `generation.genes.GeneSet`, needed when the recipe (or an
            ancestor) edits genes.

    Returns:
        `(latent_dim,)` float32 tensor, the generator's input.

    Raises:
        GenerationError: If the recipe is a morph or another kind, or edits genes the
            model's genes file does not have.
    """
    kind = recipe.get("kind")
    if kind == KIND_SAMPLE:
        latent = seed_latent(recipe["seed"], latent_dim) * recipe["truncation"]  # (D,)
    elif kind == KIND_PROJECTION:
        if len(recipe["latent"]) != latent_dim:
            raise GenerationError(
                f"the recipe's latent has {len(recipe['latent'])} numbers; "
                f"this model takes {latent_dim}"
            )
        latent = torch.tensor(recipe["latent"], dtype=torch.float32)  # (D,)
    elif kind == KIND_BREED:
        z_a = recipe_latent(recipe["parents"][0], latent_dim, genes)  # (D,)
        z_b = recipe_latent(recipe["parents"][1], latent_dim, genes)  # (D,)
        rng = _child_generator(recipe["crossover_seed"], recipe["child_index"])
        mask = torch.rand(latent_dim, generator=rng) < 0.5  # (D,)
        noise = torch.randn(latent_dim, generator=rng)  # (D,)
        latent = torch.where(mask, z_a, z_b) + recipe["mutation"] * noise  # (D,)
    else:
        raise GenerationError(
            f"a {kind!r} recipe has no single latent; use a sample or breed recipe"
        )
    edits = recipe.get("genes")
    if not edits:
        return latent
    if genes is None or genes.sha256 != recipe.get("genes_sha256"):
        raise GenerationError(
            "the recipe edits genes from a genes file this model does not have "
            f"({str(recipe.get('genes_sha256'))[:12]}...)"
        )
    unknown = sorted(set(edits) - set(genes.names))
    if unknown:
        raise GenerationError(f"this model has no gene {unknown[0]!r}; its genes: {genes.names}")
    return genes.apply(latent, edits)


def crossover_mask(recipe: dict, latent_dim: int) -> torch.Tensor:
    """The boolean `(latent_dim,)` crossover mask of a `gan_breed` recipe: True keeps parent A's."""
    rng = _child_generator(recipe["crossover_seed"], recipe["child_index"])
    return torch.rand(latent_dim, generator=rng) < 0.5


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation between two latents `(D,)` at `t` in [0, 1].

    Norms are interpolated linearly and directions along the great circle, so every frame
    has a latent of typical length (a straight line would pass near the origin, where a GAN
    makes washed-out averages). Falls back to linear interpolation for (nearly) parallel or
    zero vectors. Computed in float64 and returned as float32.

    Raises:
        GenerationError: If `t` is outside [0, 1].
    """
    t = check_float(t, "t", 0.0, 1.0)
    a64, b64 = a.double(), b.double()
    na, nb = a64.norm(), b64.norm()
    if na < 1e-12 or nb < 1e-12:
        return ((1 - t) * a64 + t * b64).float()
    ua, ub = a64 / na, b64 / nb
    omega = torch.arccos(torch.clamp((ua * ub).sum(), -1.0, 1.0))
    if omega < 1e-6:
        return ((1 - t) * a64 + t * b64).float()
    so = torch.sin(omega)
    direction = (torch.sin((1 - t) * omega) / so) * ua + (torch.sin(t * omega) / so) * ub
    return (direction * ((1 - t) * na + t * nb)).float()


def morph_latents(recipe: dict, latent_dim: int, genes=None) -> torch.Tensor:
    """The latents of every frame of a `gan_morph` recipe: `(frames, latent_dim)` float32."""
    a = recipe_latent(recipe["start"], latent_dim, genes)  # (D,)
    b = recipe_latent(recipe["end"], latent_dim, genes)  # (D,)
    n = recipe["frames"]
    return torch.stack([slerp(a, b, i / (n - 1)) for i in range(n)])  # (N, D)
