"""Running an image network over a large picture in overlapping, feathered tiles.

The style networks are trained and exported at small sizes (the arbitrary-style transform is
fixed at 384x384), and both normalise their activations per image (conditional instance
norm). Run tile by tile, each tile computes its own statistics, so neighbouring tiles disagree
a little, mostly in overall colour and contrast. Two things hide this:

1. Tiles overlap, and each pixel of an overlap is a raised-cosine ("Hann") blend of the
   tiles that cover it. The 1-D weights of neighbours sum to exactly 1, and the 2-D weight of a
   tile is the product of its row and column weights, so every pixel's weights sum to 1.
2. The low spatial frequencies of the tiled result are replaced by those of one "guide" run
   of the whole picture at the network's own size (`replace_low_frequencies`). The tiles
   supply the strokes; the single guide run supplies colour and tone, which therefore cannot
   change from tile to tile.

`seam_gradient_ratio` measures what is left: the mean horizontal gradient on the seam
columns against the rest. Everything here is numpy and Pillow over float32 HWC arrays in 0..1.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class TileGrid:
    """Where the tiles of a picture start, in pixels.

    Attributes:
        height, width: The size of the (padded) picture the grid covers.
        tile: The side of the square tiles.
        ys, xs: The first row and first column of each tile row and tile column.
    """

    height: int
    width: int
    tile: int
    ys: tuple[int, ...]
    xs: tuple[int, ...]

    @property
    def count(self) -> int:
        """How many tiles the grid has."""
        return len(self.ys) * len(self.xs)


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Evenly spread tile starts that cover `length` with overlaps of at least `overlap`.

    Args:
        length: The side to cover, >= `tile`.
        tile: The tile side.
        overlap: The smallest overlap between neighbours, 0 <= overlap < tile.

    Returns:
        The starts, first 0 and last `length - tile`.

    Raises:
        ValueError: a length shorter than a tile, or an overlap outside [0, tile).
    """
    if length < tile:
        raise ValueError(f"`length` must be >= `tile` ({tile}), got {length}")
    if not 0 <= overlap < tile:
        raise ValueError(f"`overlap` must be in [0, {tile}), got {overlap}")
    if length == tile:
        return [0]
    n = math.ceil((length - tile) / (tile - overlap)) + 1
    return [round(i * (length - tile) / (n - 1)) for i in range(n)]


def make_grid(height: int, width: int, tile: int, overlap: int) -> TileGrid:
    """The tile grid for a `height` x `width` picture (both at least `tile`)."""
    return TileGrid(
        height=height,
        width=width,
        tile=tile,
        ys=tuple(tile_starts(height, tile, overlap)),
        xs=tuple(tile_starts(width, tile, overlap)),
    )


def _rise(length: int, start: int, stop: int, feather: int) -> np.ndarray:
    """0 before the middle `feather` pixels of [start, stop), a raised cosine across them, 1 after.

    A tile's weight on its leading edge is this; its predecessor's on the same overlap is
    1 minus this, so the two always sum to 1.
    """
    overlap = stop - start
    feather = min(feather, overlap)
    lo = start + (overlap - feather) // 2
    x = np.arange(length, dtype=np.float64)
    if feather == 0:
        return (x >= lo).astype(np.float32)
    t = np.clip((x - lo + 0.5) / feather, 0.0, 1.0)
    return (0.5 - 0.5 * np.cos(np.pi * t)).astype(np.float32)


def axis_weights(length: int, starts: Sequence[int], tile: int, feather: int) -> list[np.ndarray]:
    """Each tile's blending weight along one axis, over that tile's own `tile` pixels.

    Args:
        length: The side of the picture.
        starts: The tile starts along this side (from `tile_starts`).
        tile: The tile side.
        feather: The width of the raised-cosine ramp inside each overlap; 0 cuts hard at
            the middle of the overlap (no blending: for comparison only).

    Returns:
        One float32 array of `tile` weights per tile; at every pixel the weights of the tiles
        covering it sum to 1.
    """
    rises = [np.ones(length, np.float32)]
    for i in range(1, len(starts)):
        rises.append(_rise(length, starts[i], starts[i - 1] + tile, feather))
    rises.append(np.zeros(length, np.float32))
    return [(rises[i] * (1.0 - rises[i + 1]))[s : s + tile] for i, s in enumerate(starts)]


def run_tiled(
    image: np.ndarray,
    run_tile: Callable[[np.ndarray], np.ndarray],
    *,
    tile: int,
    overlap: int,
    feather: int,
    before_tile: Callable[[int, int], None] | None = None,
    background: Executor | None = None,
) -> np.ndarray:
    """Run `run_tile` over `image` in overlapping tiles and blend the results.

    A side shorter than `tile` is reflect-padded up to it first, and the padding is cropped
    off the result.

    Args:
        image: float32 (H, W, 3) in 0..1.
        run_tile: maps a float32 (tile, tile, 3) array to one of the same shape.
        tile: The tile side.
        overlap: The smallest overlap between neighbouring tiles.
        feather: The raised-cosine ramp width inside each overlap (<= overlap; 0: hard cut).
        before_tile: called with (tile index, tile count) before each tile; it may raise to
            stop the run.
        background: a one-thread executor that blends each tile into the result while the
            next tile runs; tasks run in order on its one thread, so the sums and the pixels
            are those of blending in the loop.

    Returns:
        float32 (H, W, 3).

    Raises:
        ValueError: bad tile, overlap or feather sizes.
    """
    if tile < 1:
        raise ValueError(f"`tile` must be >= 1, got {tile}")
    if not 0 <= feather <= overlap:
        raise ValueError(f"`feather` must be in [0, overlap={overlap}], got {feather}")
    height, width = image.shape[:2]
    padded = np.pad(
        image,
        ((0, max(0, tile - height)), (0, max(0, tile - width)), (0, 0)),
        mode="reflect",
    )
    grid = make_grid(padded.shape[0], padded.shape[1], tile, overlap)
    row_w = axis_weights(grid.height, grid.ys, tile, feather)
    col_w = axis_weights(grid.width, grid.xs, tile, feather)
    out = np.zeros(padded.shape, np.float32)  # (H', W', 3)

    def blend(result: np.ndarray, j: int, i: int, y: int, x: int) -> None:
        weight = row_w[j][:, None, None] * col_w[i][None, :, None]  # (tile, tile, 1)
        out[y : y + tile, x : x + tile] += np.multiply(result, weight, dtype=np.float32)

    pending = []
    index = 0
    try:
        for j, y in enumerate(grid.ys):
            for i, x in enumerate(grid.xs):
                if before_tile is not None:
                    before_tile(index, grid.count)
                result = run_tile(np.ascontiguousarray(padded[y : y + tile, x : x + tile]))
                if background is None:
                    blend(result, j, i, y, x)
                else:
                    pending.append(background.submit(blend, result, j, i, y, x))
                index += 1
    finally:
        wait(pending)  # every blend finished before `out` is read or dropped
    for job in pending:
        job.result()  # a blend that failed raises here
    return out[:height, :width]


_resize_pool: ThreadPoolExecutor | None = None
_resize_pool_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """Three threads for the three channels: Pillow lets go of the GIL while it resamples."""
    global _resize_pool
    with _resize_pool_lock:
        if _resize_pool is None:
            _resize_pool = ThreadPoolExecutor(3, thread_name_prefix="atelier-resize")
        return _resize_pool


def resize_float(image: np.ndarray, width: int, height: int, resample=Image.BICUBIC) -> np.ndarray:
    """Resize a float32 (H, W, C) array channel by channel with Pillow ("F" mode).

    The channels resize at once on a small thread pool; each channel's result is the same
    as a resize on its own, so the pixels do not depend on the threads.
    """

    def one(c: int) -> np.ndarray:
        plane = Image.fromarray(np.ascontiguousarray(image[..., c], dtype=np.float32), mode="F")
        return np.asarray(plane.resize((width, height), resample))

    return np.stack(list(_pool().map(one, range(image.shape[2]))), axis=-1)


def low_frequencies(image: np.ndarray, cutoff: int) -> np.ndarray:
    """The picture's content coarser than about `cutoff` pixels: box-shrunk, then bicubic back."""
    height, width = image.shape[:2]
    small = resize_float(
        image, max(1, round(width / cutoff)), max(1, round(height / cutoff)), Image.BOX
    )
    return resize_float(small, width, height, Image.BICUBIC)


def replace_low_frequencies(
    image: np.ndarray,
    guide: np.ndarray | None,
    cutoff: int,
    *,
    guide_low: np.ndarray | None = None,
) -> np.ndarray:
    """`image` with its features coarser than `cutoff` pixels taken from `guide` instead.

    Args:
        image: float32 (H, W, 3), the tiled result.
        guide: float32 (H, W, 3), a single run of the whole picture, upscaled to (H, W);
            None when `guide_low` is given.
        cutoff: The scale in pixels below which `image` is kept.
        guide_low: `low_frequencies(guide, cutoff)` computed already (for example while the
            tiles ran); the result is the same as passing `guide`.

    Returns:
        float32 (H, W, 3), not clipped.
    """
    if guide_low is None:
        if guide is None:
            raise ValueError("give `guide` or `guide_low`")
        if guide.shape != image.shape:
            raise ValueError(f"`guide` must have shape {image.shape}, got {guide.shape}")
        guide_low = low_frequencies(guide, cutoff)
    elif guide_low.shape != image.shape:
        raise ValueError(f"`guide_low` must have shape {image.shape}, got {guide_low.shape}")
    out = image - low_frequencies(image, cutoff)
    out += guide_low  # in place: the same sum, one array fewer
    return out


def seam_columns(width: int, tile: int, overlap: int) -> list[int]:
    """The columns where tiling can leave a mark: tile edges and overlap middles.

    Args:
        width: The picture's width (at least `tile`).
        tile, overlap: The tiling used.

    Returns:
        Sorted column indices c: the step between columns c - 1 and c is the one to check.
    """
    starts = tile_starts(width, tile, overlap)
    columns = set()
    for i in range(1, len(starts)):
        end_of_previous = starts[i - 1] + tile
        columns.update({starts[i], end_of_previous, (starts[i] + end_of_previous) // 2})
    return sorted(c for c in columns if 0 < c < width)


def seam_gradient_ratio(image: np.ndarray, columns: Sequence[int], margin: int = 4) -> float:
    """Mean |horizontal gradient| on the seam columns over that on the columns away from them.

    A visible vertical seam is a step between two columns, so the gradient there rises above
    the picture's usual texture; 1.0 means the seams look like any other column.

    Args:
        image: (H, W) or (H, W, C) array; channels are averaged.
        columns: The seam columns c (the step between c - 1 and c is measured).
        margin: columns within this distance of a seam count as neither seam nor interior.

    Returns:
        The ratio (> 0).

    Raises:
        ValueError: no seam columns, or no interior columns left.
    """
    grey = np.asarray(image, dtype=np.float64)
    if grey.ndim == 3:
        grey = grey.mean(axis=2)
    gradient = np.abs(np.diff(grey, axis=1)).mean(axis=0)  # (W - 1,): step c-1 -> c at c-1
    seams = sorted({c - 1 for c in columns if 1 <= c < grey.shape[1]})
    if not seams:
        raise ValueError(f"`columns` must name columns inside the image, got {list(columns)}")
    near = np.zeros(gradient.shape[0], bool)
    for c in seams:
        near[max(0, c - margin) : c + margin + 1] = True
    if near.all():
        raise ValueError("no interior columns are left to compare the seams with")
    return float(gradient[seams].mean() / max(gradient[~near].mean(), 1e-12))
