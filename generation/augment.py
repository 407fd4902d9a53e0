"""Differentiable Augmentation (DiffAugment, Zhao et al. 2020) for data-efficient GAN training.

The same random transforms are applied to real and generated images before the
discriminator sees them, and gradients flow through them to the generator, so
the discriminator cannot memorise a small training set. Every random draw comes
from the `torch.Generator` passed in, which keeps training resumable exactly.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

POLICIES = ("color", "translation", "cutout")


def diff_augment(
    x: torch.Tensor,
    policy: tuple[str, ...] = POLICIES,
    generator: torch.Generator | None = None,
    translation_ratio: float = 0.125,
    cutout_ratio: float = 0.5,
) -> torch.Tensor:
    """Apply DiffAugment transforms to a batch of images in [-1, 1].

    Args:
        x: Images `(B, C, H, W)`.
        policy: Any of "color", "translation", "cutout", applied in that order.
        generator: Source of all randomness.
        translation_ratio: Largest shift as a fraction of the image side.
        cutout_ratio: Side of the cut-out square as a fraction of the image side.

    Returns:
        Augmented images, same shape as `x`.

    Raises:
        ValueError: If `policy` names an unknown transform or `x` is not 4-D.
    """
    if x.ndim != 4:
        raise ValueError(f"`x` must be (B, C, H, W), got shape {tuple(x.shape)}")
    unknown = [p for p in policy if p not in POLICIES]
    if unknown:
        raise ValueError(f"`policy` must contain only {POLICIES}, got {policy}")
    if "color" in policy:
        x = _color(x, generator)
    if "translation" in policy:
        x = _translation(x, generator, translation_ratio)
    if "cutout" in policy:
        x = _cutout(x, generator, cutout_ratio)
    return x


def _rand(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    # Draws come from the generator's own device (the CPU in training) and then move to the
    # images, so a run draws the same numbers on any device and resumes across devices.
    draw = torch.rand(x.shape[0], 1, 1, 1, generator=generator, dtype=torch.float32)
    return draw.to(device=x.device, dtype=x.dtype)


def _randint(low: int, high: int, size, generator, device) -> torch.Tensor:
    return torch.randint(low, high, size, generator=generator).to(device)


def _color(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    x = x + (_rand(x, generator) - 0.5)  # brightness
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_rand(x, generator) * 2) + mean  # saturation
    mean = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - mean) * (_rand(x, generator) + 0.5) + mean  # contrast


def _translation(x: torch.Tensor, generator: torch.Generator | None, ratio: float) -> torch.Tensor:
    b, _, h, w = x.shape
    shift_h, shift_w = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dev = x.device
    ty = _randint(-shift_h, shift_h + 1, (b, 1, 1), generator, dev)
    tx = _randint(-shift_w, shift_w + 1, (b, 1, 1), generator, dev)
    grid_b, grid_y, grid_x = torch.meshgrid(
        torch.arange(b, device=dev),
        torch.arange(h, device=dev),
        torch.arange(w, device=dev),
        indexing="ij",
    )
    grid_y = torch.clamp(grid_y + ty + 1, 0, h + 1)
    grid_x = torch.clamp(grid_x + tx + 1, 0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1])  # (B, C, H + 2, W + 2), zero border
    return padded.permute(0, 2, 3, 1)[grid_b, grid_y, grid_x].permute(0, 3, 1, 2).contiguous()


def _cutout(x: torch.Tensor, generator: torch.Generator | None, ratio: float) -> torch.Tensor:
    b, _, h, w = x.shape
    size_h, size_w = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dev = x.device
    oy = _randint(0, h + (1 - size_h % 2), (b, 1, 1), generator, dev)
    ox = _randint(0, w + (1 - size_w % 2), (b, 1, 1), generator, dev)
    grid_b, grid_y, grid_x = torch.meshgrid(
        torch.arange(b, device=dev),
        torch.arange(size_h, device=dev),
        torch.arange(size_w, device=dev),
        indexing="ij",
    )
    grid_y = torch.clamp(grid_y + oy - size_h // 2, 0, h - 1)
    grid_x = torch.clamp(grid_x + ox - size_w // 2, 0, w - 1)
    mask = torch.ones(b, h, w, dtype=x.dtype, device=dev)
    mask[grid_b, grid_y, grid_x] = 0
    return x * mask.unsqueeze(1)  # (B, C, H, W)
