"""Pictures of a training run: sample grids and a loss curve, drawn with Pillow only."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import torch


def image_grid(images: torch.Tensor, columns: int | None = None, padding: int = 2):
    """Tile images in [-1, 1] into one RGB `PIL.Image.Image`.

    Args:
        images: `(B, 3, H, W)` tensor in [-1, 1].
        columns: Images per row; defaults to ceil(sqrt(B)).
        padding: White pixels between tiles.

    Returns:
        The grid image.

    Raises:
        ValueError: If `images` is not `(B, 3, H, W)` with B >= 1.
    """
    from PIL import Image

    if images.ndim != 4 or images.shape[1] != 3 or images.shape[0] < 1:
        raise ValueError(f"`images` must be (B, 3, H, W) with B >= 1, got {tuple(images.shape)}")
    b, _, h, w = images.shape
    columns = columns or math.ceil(math.sqrt(b))
    rows = math.ceil(b / columns)
    pixels = to_uint8(images).permute(0, 2, 3, 1).numpy()  # (B, H, W, 3)
    grid = Image.new(
        "RGB", (columns * (w + padding) + padding, rows * (h + padding) + padding), "white"
    )
    for i in range(b):
        r, c = divmod(i, columns)
        grid.paste(
            Image.fromarray(pixels[i]), (padding + c * (w + padding), padding + r * (h + padding))
        )
    return grid


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Map images in [-1, 1] to uint8 in [0, 255] (same shape, CPU)."""
    return ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def draw_loss_curve(
    steps: Sequence[int],
    series: dict[str, Sequence[float]],
    path: str | Path,
    size: tuple[int, int] = (800, 400),
) -> Path:
    """Draw one line per loss series against training step and save it as a PNG.

    Args:
        steps: Step number of each point.
        series: Name -> values, each as long as `steps`.
        path: Output PNG path.
        size: Image size in pixels.

    Returns:
        The written path.

    Raises:
        ValueError: If a series is not as long as `steps`.
    """
    from PIL import Image, ImageDraw

    for name, values in series.items():
        if len(values) != len(steps):
            raise ValueError(f"series `{name}` has {len(values)} values for {len(steps)} steps")
    width, height = size
    left, right, top, bottom = 60, 20, 20, 40
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([left, top, width - right, height - bottom], outline=(0, 0, 0))
    path = Path(path)
    if len(steps) >= 2:
        all_values = [v for values in series.values() for v in values if math.isfinite(v)]
        lo, hi = (min(all_values), max(all_values)) if all_values else (0.0, 1.0)
        if hi - lo < 1e-9:
            hi = lo + 1.0
        x0, x1 = steps[0], steps[-1] if steps[-1] != steps[0] else steps[0] + 1

        def xy(step: float, value: float) -> tuple[float, float]:
            x = left + (step - x0) / (x1 - x0) * (width - left - right)
            y = top + (hi - value) / (hi - lo) * (height - top - bottom)
            return x, y

        colours = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189)]
        for i, (name, values) in enumerate(series.items()):
            colour = colours[i % len(colours)]
            points = [xy(s, v) for s, v in zip(steps, values, strict=True) if math.isfinite(v)]
            if len(points) >= 2:
                draw.line(points, fill=colour, width=1)
            draw.text((left + 10 + 110 * i, top + 5), name, fill=colour)
        for frac in (0.0, 0.5, 1.0):
            value = hi - frac * (hi - lo)
            y = top + frac * (height - top - bottom)
            draw.text((5, y - 6), f"{value:.3g}", fill=(0, 0, 0))
        draw.text((left, height - bottom + 8), f"step {x0}", fill=(0, 0, 0))
        draw.text((width - right - 100, height - bottom + 8), f"step {steps[-1]}", fill=(0, 0, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG")
    return path
