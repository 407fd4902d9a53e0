"""AUTOMATIC1111-compatible generation parameters ("infotext") in PNG text chunks.

Stable Diffusion web UI (AUTOMATIC1111) stores how a picture was made in a PNG `tEXt`
chunk named `parameters`; many tools (image viewers, Civitai, ComfyUI loaders) read it.
Its format is

    <prompt>
    Negative prompt: <negative prompt>          (optional line)
    Steps: 20, Sampler: Euler a, Seed: 123, Size: 512x512, Model hash: 0123456789, ...

The last line holds `Key: value` pairs separated by ", "; a value containing ",", ":" or a
newline is written as a JSON string (A1111's `quote`). "Model hash" is the first 10 hex
digits of the model file's SHA-256 (A1111 >= 1.0 does the same for checkpoints).

A GAN has no prompt and no sampler steps, so Atelier writes a description as the prompt
("Atelier GAN emoji64"), `Steps: 1` and `Sampler: GAN`, and adds its own keys (truncation,
upscaler, recipe kind, parents). The full recipe goes into a second chunk,
`atelier_recipe`, as JSON: the infotext is for people and other tools, the recipe for
regenerating the picture.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zlib
from typing import Any

PARAMETERS_KEY = "parameters"
# zlib level of the PNGs the studio writes. Measured with bench/png_bench.py (docs/BENCHMARKS.md,
# "PNG files"): level 4 writes a 2048 px stylised picture in 0.51 s instead of 0.95 s at level 6
# for the same size (4.81 vs 4.82 MB), and a 512 px GAN picture in 12.6 ms instead of 27.8 ms
# for 4% more bytes. Pixels do not depend on it; recipes are checked on pixels.
PNG_COMPRESS_LEVEL = 4
RECIPE_KEY = "atelier_recipe"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Refuse to inflate compressed text chunks beyond this (untrusted files may be zip bombs).
MAX_TEXT_BYTES = 1 << 20
MODEL_HASH_DIGITS = 10

# A1111's `re_param_code`: `Key: value` where value is a JSON string or runs to the next ",".
_PARAM_RE = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')


def quote_value(value: object) -> str:
    """Write one infotext value as A1111 does: JSON-quoted if it holds ",", ":" or a newline."""
    text = str(value)
    if "," not in text and "\n" not in text and ":" not in text:
        return text
    return json.dumps(text, ensure_ascii=False)


def _unquote(text: str) -> str:
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def infotext(prompt: str, params: dict[str, Any], negative_prompt: str = "") -> str:
    """Compose an A1111 infotext from a prompt and ordered `Key: value` pairs (None values skipped).

    Args:
        prompt: First line(s): the prompt, or a description for prompt-less models.
        params: Ordered keys and values for the last line.
        negative_prompt: Written as a "Negative prompt:" line when not empty.

    Returns:
        The infotext.

    Raises:
        ValueError: If a key is not a word followed by words, spaces, "-" or "/".
    """
    for key in params:
        if not re.fullmatch(r"\w[\w \-/]+", key):
            raise ValueError(f"infotext key {key!r} must match A1111's key pattern")
    negative = f"\nNegative prompt: {negative_prompt}" if negative_prompt else ""
    line = ", ".join(f"{k}: {quote_value(v)}" for k, v in params.items() if v is not None)
    return f"{prompt}{negative}\n{line}"


def parse_a1111_parameters(text: str) -> dict[str, str]:
    """Split an infotext into its prompt, negative prompt and `Key: value` pairs, as A1111 does.

    Args:
        text: The value of a `parameters` chunk.

    Returns:
        A dict with "Prompt", "Negative prompt" (maybe empty) and one entry per key, values
        unquoted strings.
    """
    lines = text.strip().split("\n")
    last = lines[-1]
    if len(_PARAM_RE.findall(last)) < 3:
        last = ""
    else:
        lines = lines[:-1]
    prompt, negative, in_negative = [], [], False
    for line in lines:
        if line.startswith("Negative prompt:"):
            in_negative = True
            line = line[len("Negative prompt:") :].strip()
        (negative if in_negative else prompt).append(line)
    result = {"Prompt": "\n".join(prompt), "Negative prompt": "\n".join(negative)}
    for key, value in _PARAM_RE.findall(last):
        result[key.strip()] = _unquote(value.strip())
    return result


def a1111_parameters(recipe: dict) -> str:
    """The A1111 infotext describing a GAN recipe (see the module docstring).

    Args:
        recipe: A validated `generation.recipes` recipe (`gan_sample`, `gan_breed` or
            `gan_morph`).

    Returns:
        The infotext, e.g. "Atelier GAN emoji64\\nSteps: 1, Sampler: GAN, Seed: 123, ...".

    Raises:
        GenerationError: If the recipe is not a valid GAN recipe.
    """
    from generation.recipes import (
        KIND_BREED,
        KIND_MORPH,
        KIND_PROJECTION,
        KIND_SAMPLE,
        recipe_sha256,
        validate_recipe,
    )

    recipe = validate_recipe(recipe)
    kind = recipe["kind"]
    name = recipe.get("model_name") or "gan"
    size = recipe["size"]
    params: dict[str, Any] = {"Steps": 1, "Sampler": "GAN"}
    if kind == KIND_SAMPLE:
        prompt = f"Atelier GAN {name}"
        params["Seed"] = recipe["seed"]
    elif kind == KIND_PROJECTION:
        prompt = f"Atelier GAN {name}, projected from a picture"
        params["Seed"] = recipe["search"].get("seed", 0)
    elif kind == KIND_BREED:
        prompt = f"Atelier GAN {name}, bred from two parents"
        params["Seed"] = recipe["crossover_seed"]
    else:
        prompt = f"Atelier GAN {name}, morph of {recipe['frames']} frames"
        params["Seed"] = _endpoint_seed(recipe["start"])
    params["Size"] = f"{size}x{size}"
    params["Model hash"] = recipe["model_sha256"][:MODEL_HASH_DIGITS]
    params["Model"] = name
    if kind == KIND_SAMPLE:
        params["Truncation"] = recipe["truncation"]
    elif kind == KIND_BREED:
        parent_a, parent_b = recipe["parents"]
        params["Child"] = recipe["child_index"]
        params["Mutation"] = recipe["mutation"]
        params["Crossover"] = recipe["crossover"]
        params["Parent A"] = recipe_sha256(parent_a)[:16]
        params["Parent B"] = recipe_sha256(parent_b)[:16]
    elif kind == KIND_PROJECTION:
        params["Source hash"] = recipe["source"]["sha256"][:10]
    elif kind == KIND_MORPH:
        params["Frames"] = recipe["frames"]
        params["Frame ms"] = recipe["frame_ms"]
        params["Interpolation"] = recipe["interpolation"]
        params["End seed"] = _endpoint_seed(recipe["end"])
    if recipe.get("genes"):
        # A1111 quotes a value holding commas: "person +2.0; hair +1.0" needs none
        params["Genes"] = "; ".join(f"{n} {a:+g}" for n, a in sorted(recipe["genes"].items()))
    params["Upscaler"] = recipe["upscale"].capitalize()
    params["Atelier kind"] = kind
    params["Atelier recipe"] = recipe_sha256(recipe)[:16]
    params["Version"] = f"atelier-gan-{recipe['code_version']}"
    return infotext(prompt, params)


def style_parameters(recipe: dict) -> str:
    """The A1111 infotext describing a style-transfer recipe (`generation.style`): the same
    text whichever path wrote the file (the Style page, `atelier style`, a signed download).

    Raises:
        KeyError, TypeError, ValueError: If the recipe lacks what a style recipe holds.
    """
    from generation.style_presets import PRESET_NAMES

    style = recipe["style"]
    size = recipe["size"]
    models = recipe["models"]
    params: dict[str, Any] = {
        "Steps": 1,
        "Sampler": "Magenta arbitrary stylization",
        "Size": f"{size['width']}x{size['height']}",
        "Model hash": str(next(iter(models.values())))[:MODEL_HASH_DIGITS],
    }
    if style["kind"] == "presets":
        chosen = [(i, w) for i, w in enumerate(style["weights"]) if w > 0]
        params["Style"] = " + ".join(
            f"{i} {PRESET_NAMES[i]}" + (f" ({w:g})" if len(chosen) > 1 else "") for i, w in chosen
        )
    else:
        params["Style"] = " + ".join(
            f"image {str(i['sha256'])[:MODEL_HASH_DIGITS]}" for i in style["images"]
        )
        if len(style["images"]) > 1:
            params["Blend"] = " ".join(f"{w:g}" for w in style["blend"])
    params["Strength"] = recipe["strength"]
    params["Colour"] = recipe["colour"]
    params["Content"] = str(recipe["content"]["sha256"])[:MODEL_HASH_DIGITS]
    params["Atelier kind"] = "style"
    params["Version"] = f"atelier-{recipe['code_version']}"
    return infotext("Atelier style transfer", params)


def _endpoint_seed(recipe: dict) -> int:
    if "seed" in recipe:
        return recipe["seed"]
    if "crossover_seed" in recipe:
        return recipe["crossover_seed"]
    return recipe["search"].get("seed", 0)  # a projection


def png_with_parameters(image, text: str, extra_chunks: dict[str, str] | None = None) -> bytes:
    """Encode `image` as PNG with a `parameters` text chunk (and any extra text chunks).

    The bytes depend only on the pixels, the texts and the Pillow/zlib build: no time
    stamp or other varying chunk is written, so the same input gives the same bytes.

    Args:
        image: A `PIL.Image.Image` (RGB, RGBA, L, ...).
        text: The infotext, stored under the key "parameters" (tEXt, or iTXt when it is
            not Latin-1).
        extra_chunks: More key -> text chunks, in order (e.g. {"atelier_recipe": json}).

    Returns:
        The PNG file's bytes.

    Raises:
        ValueError: If `text` is not a string, or a chunk key is empty, longer than 79
            characters, not Latin-1, repeated, or "parameters".
    """
    from PIL import PngImagePlugin

    if not isinstance(text, str):
        raise ValueError(f"`text` must be a string, got {type(text).__name__}")
    info = PngImagePlugin.PngInfo()
    info.add_text(PARAMETERS_KEY, text)
    for key, value in (extra_chunks or {}).items():
        if key == PARAMETERS_KEY:
            raise ValueError(f"`extra_chunks` must not contain {PARAMETERS_KEY!r}")
        if not isinstance(key, str) or not 1 <= len(key) <= 79 or key.strip() != key:
            raise ValueError(f"PNG text key must be 1-79 characters, got {key!r}")
        try:
            key.encode("latin-1")
        except UnicodeEncodeError:
            raise ValueError(f"PNG text key must be Latin-1, got {key!r}") from None
        if not isinstance(value, str):
            raise ValueError(f"`extra_chunks[{key!r}]` must be a string")
        info.add_text(key, value)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info, compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


def read_png_text(png_bytes: bytes) -> dict[str, str]:
    """Every text chunk (tEXt, zTXt, iTXt) of a PNG file, key -> text, first one of a key wins.

    Chunks are read without decoding the image; chunks with a bad CRC, unknown compression
    or text over 1 MiB are skipped.

    Args:
        png_bytes: The file's bytes.

    Returns:
        The texts; empty when the bytes are not a PNG.
    """
    data = bytes(png_bytes)
    if not data.startswith(PNG_SIGNATURE):
        return {}
    texts: dict[str, str] = {}
    pos = len(PNG_SIGNATURE)
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        end = pos + 12 + length
        if end > len(data):
            break
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        pos = end
        if kind == b"IEND":
            break
        if kind not in (b"tEXt", b"zTXt", b"iTXt") or zlib.crc32(kind + body) != crc:
            continue
        parsed = _text_chunk(kind, body)
        if parsed is not None and parsed[0] not in texts:
            texts[parsed[0]] = parsed[1]
    return texts


def _text_chunk(kind: bytes, body: bytes) -> tuple[str, str] | None:
    key, sep, rest = body.partition(b"\0")
    if not sep or not key:
        return None
    name = key.decode("latin-1")
    try:
        if kind == b"tEXt":
            return name, rest.decode("latin-1")
        if kind == b"zTXt":
            if rest[:1] != b"\0":
                return None
            return name, _inflate(rest[1:]).decode("latin-1")
        compressed, method, rest = rest[0], rest[1], rest[2:]
        _language, _, rest = rest.partition(b"\0")
        _translated, _, text = rest.partition(b"\0")
        if compressed:
            if method != 0:
                return None
            text = _inflate(text)
        return name, text.decode("utf-8")
    except (zlib.error, UnicodeDecodeError, IndexError, ValueError):
        return None


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, MAX_TEXT_BYTES + 1)
    if len(out) > MAX_TEXT_BYTES:
        raise ValueError("text chunk too large")
    return out


def read_parameters(png_bytes: bytes) -> str | None:
    """The A1111 `parameters` text of a PNG file, or None when it has none (or is no PNG).

    Args:
        png_bytes: The file's bytes.

    Returns:
        The infotext, or None.
    """
    return read_png_text(png_bytes).get(PARAMETERS_KEY)


def read_recipe(png_bytes: bytes) -> dict | None:
    """The Atelier recipe stored in a PNG's `atelier_recipe` chunk, or None if absent or not JSON.

    Args:
        png_bytes: The file's bytes.

    Returns:
        The recipe dict (not validated), or None.
    """
    text = read_png_text(png_bytes).get(RECIPE_KEY)
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
