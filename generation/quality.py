"""Figures of a generator's quality, in the style-embedding space
(`generation.style.style_embedding`): the one protocol of the model card
(`scripts/model_quality.py`) and of "tune my model on what collectors liked"
(`marketplace.tuning`).

- `frechet_distance`: the Fréchet distance (as in FID) between two sets of feature vectors;
  lower is closer.
- `nearest_distance`: the mean distance from each sample to its nearest reference; it asks
  "does each picture look like one of these?", which a handful of references can answer
  where a Fréchet distance (a covariance of 100 numbers) cannot.
- `precision_recall`: improved precision and recall (Kynkäänniemi et al. 2019): the share of
  samples that fall inside the real pictures' k-nearest-neighbour balls (sharpness: does
  each picture look real?) and the share of real pictures inside the samples' balls
  (coverage: is every kind of real picture made?).
- `held_out`: the fixed split of a training folder that the bundled model never trains on,
  so the figures compare samples with pictures the model has not seen.
"""

from __future__ import annotations

import numpy as np


def frechet_distance(a, b) -> float:
    """Fréchet distance between the Gaussians fitted to feature sets `a` (N, D) and `b` (M, D).

    Raises:
        ValueError: If the sets have different widths or fewer than 2 rows.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sets must be (N, D) and (M, D), got {a.shape} and {b.shape}")
    if len(a) < 2 or len(b) < 2:
        raise ValueError("each feature set needs at least 2 rows")
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))  # (D, D)
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T  # S_a^1/2
    middle = root_a @ cov_b @ root_a  # symmetric PSD, same trace root as S_a S_b
    trace_root = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    diff = mu_a - mu_b
    return float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)


def nearest_distance(samples, references) -> float:
    """Mean Euclidean distance from each row of `samples` (N, D) to its nearest row of
    `references` (M, D).

    Raises:
        ValueError: If the sets have different widths or either is empty.
    """
    a, b = np.asarray(samples, dtype=np.float64), np.asarray(references, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or not len(a) or not len(b):
        raise ValueError(f"feature sets must be (N, D) and (M, D), got {a.shape} and {b.shape}")
    return float(_pairwise(a, b).min(1).mean())


def _pairwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T  # (N, M)
    return np.sqrt(np.clip(squared, 0, None))


def _knn_radii(features: np.ndarray, k: int) -> np.ndarray:
    """Distance from each row to its k-th nearest other row (itself left out)."""
    distances = _pairwise(features, features)  # (N, N)
    np.fill_diagonal(distances, np.inf)
    return np.partition(distances, k - 1, axis=1)[:, k - 1]


def precision_recall(real, fake, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall of `fake` (N, D) against `real` (M, D) with k-NN balls.

    Precision is the share of fake rows within the k-NN radius of at least one real row;
    recall is the share of real rows within the k-NN radius of at least one fake row. Both sets
    should be the same size: the radii shrink as a set grows.

    Raises:
        ValueError: If the sets have different widths or fewer than k + 1 rows, or k < 1.
    """
    a, b = np.asarray(real, dtype=np.float64), np.asarray(fake, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sets must be (N, D) and (M, D), got {a.shape} and {b.shape}")
    if k < 1:
        raise ValueError(f"`k` must be >= 1, got {k}")
    if len(a) <= k or len(b) <= k:
        raise ValueError(f"each feature set needs more than k = {k} rows")
    real_radii, fake_radii = _knn_radii(a, k), _knn_radii(b, k)
    between = _pairwise(b, a)  # (fake, real)
    precision = (between <= real_radii[None, :]).any(1).mean()
    recall = (between <= fake_radii[:, None]).any(0).mean()
    return float(precision), float(recall)


HELD_OUT_EVERY = 10


def held_out(name: str, every: int = HELD_OUT_EVERY) -> bool:
    """Whether the training picture called `name` belongs to the held-out split: one in
    `every`, chosen by the SHA-256 of the name, so the split never depends on the order of
    a folder or on which other pictures are in it."""
    import hashlib

    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") % every == 0


def style_features(images) -> np.ndarray:
    """The style embeddings of PIL images, float64 (N, 100)."""
    from generation.style import style_embedding

    return np.stack([np.asarray(style_embedding(image), dtype=np.float64) for image in images])


def _render(generator, latents):
    import torch
    from PIL import Image

    with torch.no_grad():
        pixels = generator(latents).clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8)
    return [Image.fromarray(p.permute(1, 2, 0).numpy()) for p in pixels]


def compare_generators(
    before_dir, after_dir, liked, training, *, samples: int = 64, seed: int = 0
) -> dict:
    """Before and after fine-tuning, in the model card's space: the Fréchet distance of
    `samples` pictures to the `training` pictures (the model's quality figure) and the mean
    distance of each picture to its nearest `liked` picture (how close it came to what
    people liked); the same latents for both models.

    Returns:
        {"before": {...}, "after": {...}, "samples": N, "seed": seed,
         "grids": (before PIL grid, after PIL grid)} for the first 16 latents.
    """
    import torch

    from generation.fastgan import load_generator
    from generation.training_report import image_grid

    liked_f, training_f = style_features(liked), style_features(training)
    out: dict = {"samples": samples, "seed": seed, "liked": len(liked), "training": len(training)}
    grids = []
    latents = None
    for name, folder in (("before", before_dir), ("after", after_dir)):
        generator = load_generator(folder)
        if latents is None:
            latents = generator.sample_latents(samples, torch.Generator().manual_seed(seed))
        pictures = _render(generator, latents)
        features = style_features(pictures)
        out[name] = {
            "frechet_to_training": round(frechet_distance(features, training_f), 4),
            "nearest_liked": round(nearest_distance(features, liked_f), 4),
        }
        with torch.no_grad():
            grids.append(image_grid(generator(latents[:16]).clamp(-1, 1), columns=8))
    out["grids"] = tuple(grids)
    return out
