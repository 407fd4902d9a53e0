"""Text-to-image and image-to-image with diffusers Stable Diffusion-family pipelines, on CPU.

The model is a diffusers pipeline folder (one with a `model_index.json`) or a Hugging Face
hub id, named by the `ATELIER_DIFFUSION_MODEL` environment variable or given explicitly. Hub
ids are loaded from the local hub cache when the hub cannot be reached (`HF_HUB_OFFLINE=1`,
or a failed 3-second connection to the hub), so a machine without network fails in
milliseconds with a `ModelUnavailable` that says what was tried and what to do.

Every image comes with a recipe (model id and weights hash, prompt, seed, steps, guidance,
size, scheduler, and for image-to-image the strength and the starting image's pixel hash);
`render_diffusion_recipe` makes the same pixels again from it on the same machine.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import os
import re
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from generation.errors import GenerationCancelled, GenerationError, ModelUnavailable

MODEL_ENV = "ATELIER_DIFFUSION_MODEL"
TXT2IMG_KIND = "diffusion_txt2img"
IMG2IMG_KIND = "diffusion_img2img"
RECIPE_KINDS = (TXT2IMG_KIND, IMG2IMG_KIND)
EXAMPLE_HUB_ID = "stable-diffusion-v1-5/stable-diffusion-v1-5"
MIN_STEPS, MAX_STEPS = 1, 150
MIN_GUIDANCE, MAX_GUIDANCE = 0.0, 30.0
MIN_SIZE, MAX_SIZE, SIZE_MULTIPLE = 64, 2048, 8
MAX_SEED = 2**32 - 1
MAX_PROMPT_CHARS = 2000
MAX_IMAGES = 8
DEFAULT_STRENGTH = 0.75
HUB_PROBE_TIMEOUT_S = 3.0
DEFAULT_HUB_ENDPOINT = "https://huggingface.co"
# files whose bytes are model weights, for the model hash
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".ckpt", ".pt", ".pth", ".onnx", ".msgpack", ".gguf")
# `owner/name` as the hub spells repository ids
_HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
# what `DiffusionImagePipeline.__call__` passes to every diffusers pipeline it runs
_NEEDED_CALL_ARGS = (
    "prompt",
    "negative_prompt",
    "num_inference_steps",
    "guidance_scale",
    "generator",
    "callback_on_step_end",
)
_RECIPE_KEYS = (
    "kind",
    "model",
    "model_sha256",
    "prompt",
    "negative_prompt",
    "seed",
    "steps",
    "guidance",
    "width",
    "height",
    "scheduler",
)


def configured_model(env: Mapping[str, str] = os.environ) -> str | None:
    """Return the text-to-image model named by `ATELIER_DIFFUSION_MODEL`, or None if unset.

    Args:
        env: The environment to read (the process environment by default).

    Returns:
        The folder or hub id as written, without surrounding spaces; None if unset or blank.
    """
    value = (env.get(MODEL_ENV) or "").strip()
    return value or None


def how_to_provide_a_model() -> str:
    """One sentence telling an operator how to give Atelier a text-to-image model."""
    return (
        f"set {MODEL_ENV} (or pass --model) to a local diffusers pipeline folder, the one "
        'that holds model_index.json (make it on a machine with network: `python -c "from '
        f"diffusers import DiffusionPipeline as P; P.from_pretrained('{EXAMPLE_HUB_ID}')"
        ".save_pretrained('sd15')\"`, then copy sd15 here), or to a hub id such as "
        f"{EXAMPLE_HUB_ID} on a machine with network access; see docs/DIFFUSION.md"
    )


def hub_unreachable_reason(env: Mapping[str, str] = os.environ) -> str | None:
    """Say why the Hugging Face hub cannot be used now, or None if it answers.

    `HF_HUB_OFFLINE=1` (or `TRANSFORMERS_OFFLINE=1`) means offline without trying the
    network; otherwise one TCP connection to the hub endpoint (`HF_ENDPOINT`) is tried with a
    3-second timeout.

    Args:
        env: The environment to read (the process environment by default).

    Returns:
        A short reason such as "HF_HUB_OFFLINE=1 is set", or None when the hub is reachable.
    """
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if (env.get(name) or "").strip().lower() in {"1", "true", "yes", "on"}:
            return f"{name}={env[name].strip()} is set"
    endpoint = (env.get("HF_ENDPOINT") or DEFAULT_HUB_ENDPOINT).strip()
    parts = urlsplit(endpoint)
    if not parts.hostname:
        return f"HF_ENDPOINT {endpoint!r} is not a URL"
    port = parts.port or (80 if parts.scheme == "http" else 443)
    try:
        with socket.create_connection((parts.hostname, port), timeout=HUB_PROBE_TIMEOUT_S):
            return None
    except OSError as exc:
        return f"{parts.hostname}:{port} cannot be reached ({exc.strerror or exc})"


def model_weights_sha256(folder: str | Path) -> str:
    """Return the model hash of a pipeline folder: SHA-256 over its weight files' hashes.

    The digest covers one line `relative/path\\tsha256-of-the-file\\n` per weight file
    (`.safetensors`, `.bin`, `.ckpt`, `.pt`, `.pth`, `.onnx`, `.msgpack`, `.gguf`), sorted by
    path, with hidden folders skipped and links followed (the hub cache links to blobs).

    Args:
        folder: The pipeline folder.

    Returns:
        64 lowercase hex characters.

    Raises:
        ModelUnavailable: If the folder holds no weight files.
    """
    folder = Path(folder)
    lines = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.name.endswith(WEIGHT_SUFFIXES) and path.is_file():
            digest = hashlib.sha256()
            with path.open("rb") as f:
                while chunk := f.read(1 << 20):
                    digest.update(chunk)
            lines.append(f"{relative.as_posix()}\t{digest.hexdigest()}\n")
    if not lines:
        raise ModelUnavailable(
            f"{folder} holds no weight files ({', '.join(WEIGHT_SUFFIXES)}), so it is not a "
            f"usable diffusers pipeline: {how_to_provide_a_model()}"
        )
    return hashlib.sha256("".join(sorted(lines)).encode()).hexdigest()


def code_version() -> str:
    """The versions of the code that turns a recipe into pixels, for the recipe."""
    from importlib.metadata import version

    import diffusers
    import torch
    import transformers

    # the installed distribution's version (the same as `atelier.__version__`): generation
    # does not import the application package
    return (
        f"atelier {version('atelier')}; diffusers {diffusers.__version__}; "
        f"transformers {transformers.__version__}; torch {torch.__version__}"
    )


@dataclass(frozen=True)
class DiffusionOutput:
    """Images made by `DiffusionImagePipeline`, each with the recipe that remakes it.

    Attributes:
        images: RGB `PIL.Image.Image`s, one per seed.
        recipes: One recipe dict per image (JSON-ready); `render_diffusion_recipe` remakes it.
        nsfw_content_detected: Per image, whether the model's safety checker blacked it out;
            None when the model runs without a safety checker.
    """

    images: list
    recipes: list[dict[str, Any]]
    nsfw_content_detected: list[bool] | None

    @property
    def image(self):
        """The first image."""
        return self.images[0]

    @property
    def recipe(self) -> dict[str, Any]:
        """The first image's recipe."""
        return self.recipes[0]


def check_request(
    prompt: object,
    *,
    seed: object = 0,
    steps: object = 20,
    guidance: object = 7.5,
    width: object = None,
    height: object = None,
    negative_prompt: object = "",
    strength: object = None,
    img2img: bool = False,
    num_images: object = 1,
) -> None:
    """Refuse a generation request with bad values before any model is loaded.

    Args:
        prompt: Non-empty text, at most 2000 characters.
        seed: An integer in [0, 2**32 - 1].
        steps: Denoising steps, an integer in [1, 150].
        guidance: Classifier-free guidance scale in [0, 30] (<= 1 turns guidance off).
        width, height: None (the model's or the starting image's size) or a multiple of 8 in
            [64, 2048].
        negative_prompt: Text (may be empty), at most 2000 characters.
        strength: Image-to-image only: how much of the starting image to repaint, in (0, 1];
            `steps * strength` must give at least one step.
        img2img: Whether the request starts from an image.
        num_images: How many images (seeds `seed`, `seed + 1`, ...), 1 to 8.

    Raises:
        GenerationError: Naming the first bad argument and its value.
    """
    if not isinstance(prompt, str) or not prompt.strip():
        raise GenerationError(f"`prompt` must be non-empty text, got {prompt!r}")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise GenerationError(
            f"`prompt` must be at most {MAX_PROMPT_CHARS} characters, got {len(prompt)}"
        )
    if not isinstance(negative_prompt, str):
        raise GenerationError(f"`negative_prompt` must be text, got {negative_prompt!r}")
    if len(negative_prompt) > MAX_PROMPT_CHARS:
        raise GenerationError(
            f"`negative_prompt` must be at most {MAX_PROMPT_CHARS} characters, "
            f"got {len(negative_prompt)}"
        )
    _check_int("seed", seed, 0, MAX_SEED)
    _check_int("steps", steps, MIN_STEPS, MAX_STEPS)
    _check_int("num_images", num_images, 1, MAX_IMAGES)
    if (
        isinstance(guidance, bool)
        or not isinstance(guidance, int | float)
        or not math.isfinite(guidance)
        or not MIN_GUIDANCE <= guidance <= MAX_GUIDANCE
    ):
        raise GenerationError(
            f"`guidance` must be a number in [{MIN_GUIDANCE:g}, {MAX_GUIDANCE:g}], got {guidance!r}"
        )
    for name, value in (("width", width), ("height", height)):
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not MIN_SIZE <= value <= MAX_SIZE
            or value % SIZE_MULTIPLE
        ):
            raise GenerationError(
                f"`{name}` must be a multiple of {SIZE_MULTIPLE} in [{MIN_SIZE}, {MAX_SIZE}], "
                f"got {value!r}"
            )
    if not img2img:
        if strength is not None:
            raise GenerationError(
                "`strength` applies only to image-to-image (give a starting image), "
                f"got {strength!r}"
            )
        return
    if strength is None:
        return
    if (
        isinstance(strength, bool)
        or not isinstance(strength, int | float)
        or not math.isfinite(strength)
        or not 0 < strength <= 1
    ):
        raise GenerationError(f"`strength` must be a number in (0, 1], got {strength!r}")
    if int(steps * strength) < 1:
        raise GenerationError(
            f"`strength` {strength} with `steps` {steps} leaves no denoising step "
            f"(int(steps * strength) = {int(steps * strength)}); raise either"
        )


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise GenerationError(f"`{name}` must be an integer in [{low}, {high}], got {value!r}")


def _looks_like_hub_id(model: str) -> bool:
    return bool(_HUB_ID.fullmatch(model)) and ".." not in model and not model.startswith(("~", "."))


def resolve_model_folder(model: str, env: Mapping[str, str] = os.environ) -> Path:
    """Return the local pipeline folder for a folder path or a hub id, downloading if online.

    Args:
        model: A folder path or a hub id (`owner/name`).
        env: The environment (`HF_HUB_OFFLINE`, `HF_ENDPOINT`) for the hub decision.

    Returns:
        An existing folder that holds `model_index.json`.

    Raises:
        ModelUnavailable: The folder is missing or not a diffusers pipeline, or the hub id is
            neither cached nor downloadable; the message says what was tried and what to do.
    """
    path = Path(model).expanduser()
    if path.exists() or not _looks_like_hub_id(model):
        if not path.exists():
            raise ModelUnavailable(
                f"the text-to-image model {model!r} is neither an existing folder nor a hub id "
                f"(owner/name): {how_to_provide_a_model()}"
            )
        if not path.is_dir():
            raise ModelUnavailable(
                f"the text-to-image model {model!r} is a file, not a diffusers pipeline folder "
                "(single-file .safetensors/.ckpt checkpoints are not supported; save it as a "
                f"folder with diffusers' save_pretrained): {how_to_provide_a_model()}"
            )
        if not (path / "model_index.json").is_file():
            raise ModelUnavailable(
                f"the folder {model!r} is not a diffusers pipeline: it has no model_index.json; "
                f"{how_to_provide_a_model()}"
            )
        return path.resolve()

    from huggingface_hub import try_to_load_from_cache

    offline_reason = hub_unreachable_reason(env)
    not_cached = ModelUnavailable(
        f"the hub model {model!r} is not in the local Hugging Face cache and the hub "
        f"cannot be used ({offline_reason}): {how_to_provide_a_model()}"
    )
    # answer before the slow diffusers import when the cache cannot have it
    if offline_reason is not None and not isinstance(
        try_to_load_from_cache(model, "model_index.json"), str
    ):
        raise not_cached
    try:
        with _quiet_imports():
            from diffusers import DiffusionPipeline
        with _quiet_loading():
            folder = DiffusionPipeline.download(model, local_files_only=offline_reason is not None)
    except Exception as exc:  # diffusers/huggingface_hub raise many kinds; all mean "not here"
        detail = _first_line(exc)
        if offline_reason is not None:
            raise not_cached from exc
        raise ModelUnavailable(
            f"the hub model {model!r} could not be downloaded ({detail}): "
            f"{how_to_provide_a_model()}"
        ) from exc
    return Path(folder)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


@contextmanager
def _quiet_imports() -> Iterator[None]:
    """Hide transformers' import-time notices (e.g. "requires torchvision ... falling back")."""
    from transformers.utils import logging as transformers_logging

    verbosity = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()
    try:
        yield
    finally:
        transformers_logging.set_verbosity(verbosity)


@contextmanager
def _quiet_loading() -> Iterator[None]:
    """Hide diffusers' and transformers' loading progress bars, then restore them."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    was = (
        diffusers_logging.is_progress_bar_enabled(),
        transformers_logging.is_progress_bar_enabled(),
    )
    diffusers_logging.disable_progress_bar()
    transformers_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was[0]:
            diffusers_logging.enable_progress_bar()
        if was[1]:
            transformers_logging.enable_progress_bar()


@contextmanager
def _torch_threads(count: int) -> Iterator[None]:
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _weights_variant(folder: Path) -> str | None:
    """'fp16' when the UNet exists only as an fp16 variant (upcast to float32 on load)."""
    unet = folder / "unet"
    if not unet.is_dir():
        return None
    names = [p.name for p in unet.iterdir() if p.name.endswith((*WEIGHT_SUFFIXES, ".json"))]
    plain = [n for n in names if n.startswith("diffusion_pytorch_model") and ".fp16" not in n]
    has_fp16 = any(".fp16" in n for n in names)
    return "fp16" if has_fp16 and not plain else None


def _safety_checker_kwargs(folder: Path, index: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Load the model's safety checker when it ships one; pass None when it cannot be loaded.

    Returns:
        The `from_pretrained` keyword arguments and whether the safety checker will run.
    """
    if "safety_checker" not in index:
        return {}, False  # the pipeline class has none (e.g. SDXL)
    entry = index.get("safety_checker")
    shipped = (
        isinstance(entry, list)
        and entry[:1] != [None]
        and (folder / "safety_checker").is_dir()
        and (folder / "feature_extractor").is_dir()
    )
    if shipped:
        return {}, True
    # offline there is nowhere else to load it from: run without, and say so in the recipe
    kwargs: dict[str, Any] = {"safety_checker": None, "requires_safety_checker": False}
    if not (folder / "feature_extractor").is_dir():
        kwargs["feature_extractor"] = None  # only the safety checker reads it
    return kwargs, False


class DiffusionImagePipeline:
    """Makes images from text (or text and a starting image) with a diffusers pipeline.

    Runs on CPU in float32 with `num_threads` torch threads (restored after each call), one
    call at a time per instance; every image has its own seeded `torch.Generator`, so an image
    depends only on the model, its recipe and the machine.

    Args:
        pipe: A loaded diffusers text-to-image pipeline (e.g. `StableDiffusionPipeline`).
        model_id: The folder or hub id it was loaded from, as recorded in recipes.
        model_sha256: `model_weights_sha256` of its folder.
        safety_checker: Whether the pipeline runs its safety checker.
        num_threads: torch threads used during calls.
    """

    def __init__(
        self,
        pipe: Any,
        *,
        model_id: str,
        model_sha256: str,
        safety_checker: bool,
        num_threads: int = 1,
    ) -> None:
        _check_int("num_threads", num_threads, 1, 256)
        if getattr(pipe, "unet", None) is None:
            raise ModelUnavailable(
                f"{type(pipe).__name__} from {model_id!r} is not a UNet-based Stable "
                "Diffusion-family pipeline (SD 1.x, 2.x, SDXL and their fine-tunes are)"
            )
        missing = [
            name
            for name in _NEEDED_CALL_ARGS
            if name not in inspect.signature(pipe.__call__).parameters
        ]
        if missing:
            raise ModelUnavailable(
                f"{type(pipe).__name__} from {model_id!r} is not a Stable Diffusion-style "
                f"text-to-image pipeline (its __call__ lacks {', '.join(missing)})"
            )
        pipe.set_progress_bar_config(disable=True)
        self.text_to_image = pipe
        self.model_id = model_id
        self.model_sha256 = model_sha256
        self.safety_checker = safety_checker
        self.num_threads = num_threads
        self._scheduler_config = dict(pipe.scheduler.config)
        self._scheduler_name = type(pipe.scheduler).__name__
        self._image_to_image = None
        self._lock = threading.Lock()

    @classmethod
    def from_pretrained(
        cls,
        model: str | Path | None = None,
        *,
        env: Mapping[str, str] = os.environ,
        num_threads: int = 1,
    ) -> DiffusionImagePipeline:
        """Load a pipeline from a folder or a hub id (default: `ATELIER_DIFFUSION_MODEL`).

        Args:
            model: A diffusers pipeline folder or a hub id; None reads `ATELIER_DIFFUSION_MODEL`.
            env: The environment for the model name and the hub decision.
            num_threads: torch threads used while loading and during calls.

        Returns:
            The loaded pipeline, float32 on CPU, with its model hash computed.

        Raises:
            ModelUnavailable: No model is configured, or it cannot be found or loaded here;
                the message says what was tried and how to provide one.
        """
        if model is None:
            model = configured_model(env)
            if model is None:
                raise ModelUnavailable(
                    f"no text-to-image model is configured: {how_to_provide_a_model()}"
                )
        model_id = str(model).strip()
        if not model_id:
            raise ModelUnavailable(f"the model name is empty: {how_to_provide_a_model()}")
        _check_int("num_threads", num_threads, 1, 256)
        folder = resolve_model_folder(model_id, env)
        try:
            index = json.loads((folder / "model_index.json").read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelUnavailable(
                f"cannot read {folder / 'model_index.json'} ({_first_line(exc)}): "
                f"{how_to_provide_a_model()}"
            ) from exc
        if not isinstance(index, dict) or not isinstance(index.get("_class_name"), str):
            raise ModelUnavailable(
                f"{folder / 'model_index.json'} names no pipeline class (_class_name): "
                f"{how_to_provide_a_model()}"
            )
        model_sha256 = model_weights_sha256(folder)

        import torch

        with _quiet_imports():
            from diffusers import AutoPipelineForText2Image

        kwargs, safety_checker = _safety_checker_kwargs(folder, index)
        variant = _weights_variant(folder)
        if variant:
            kwargs["variant"] = variant
        try:
            with _torch_threads(num_threads), _quiet_loading():
                pipe = AutoPipelineForText2Image.from_pretrained(
                    str(folder),
                    dtype=torch.float32,  # fp16 weights are upcast
                    local_files_only=True,
                    low_cpu_mem_usage=False,
                    **kwargs,
                )
        except Exception as exc:  # any loading failure means "this folder is not usable here"
            raise ModelUnavailable(
                f"cannot load the {index['_class_name']} in {folder} ({_first_line(exc)}): "
                f"{how_to_provide_a_model()}"
            ) from exc
        return cls(
            pipe,
            model_id=model_id,
            model_sha256=model_sha256,
            safety_checker=safety_checker,
            num_threads=num_threads,
        )

    @property
    def scheduler_name(self) -> str:
        """The class name of the model's own scheduler, used when a call names none."""
        return self._scheduler_name

    @property
    def scheduler_names(self) -> list[str]:
        """Scheduler class names this model can run with, sorted."""
        names = {c.__name__ for c in self.text_to_image.scheduler.compatibles}
        return sorted(names | {self.scheduler_name})

    @property
    def default_size(self) -> tuple[int, int]:
        """The model's native (width, height) in pixels."""
        pipe = self.text_to_image
        sample = pipe.unet.config.sample_size
        height, width = (sample, sample) if isinstance(sample, int) else sample
        return width * pipe.vae_scale_factor, height * pipe.vae_scale_factor

    def __call__(
        self,
        prompt: str,
        *,
        seed: int = 0,
        steps: int = 20,
        guidance: float = 7.5,
        width: int | None = None,
        height: int | None = None,
        negative_prompt: str = "",
        init_image: Any = None,
        strength: float | None = None,
        scheduler: str | None = None,
        num_images: int = 1,
        progress: Callable[[float, str], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> DiffusionOutput:
        """Make `num_images` images from a prompt, or from a prompt and a starting image.

        Image i uses seed `seed + i` in its own `torch.Generator` and is made alone (a batch
        of one), so `render_diffusion_recipe` of its recipe gives the same pixels.

        Args:
            prompt: What to draw, non-empty.
            seed: Seed of the first image, in [0, 2**32 - 1].
            steps: Denoising steps, 1 to 150 (image-to-image runs `int(steps * strength)`).
            guidance: Classifier-free guidance scale, 0 to 30 (<= 1 turns it off).
            width, height: Output size, multiples of 8 in [64, 2048]; None takes the model's
                native size, or for image-to-image the starting image's size rounded down to 8.
            negative_prompt: What to steer away from ("" for none).
            init_image: An RGB `PIL.Image.Image` to start from (image-to-image), resized to
                `width` x `height`; None for text-to-image.
            strength: Image-to-image only: how much to repaint, in (0, 1]; default 0.75.
            scheduler: A scheduler class name from `scheduler_names`; None uses the model's.
            num_images: How many images, 1 to 8.
            progress: Called as `progress(fraction, message)` after every denoising step,
                counting over all images (`message` is "step k/n"): the one progress shape of
                `generation` (style transfer, GAN morphs and training report the same way).
            should_cancel: Called after every step; returning True stops the run.

        Returns:
            A `DiffusionOutput` with the images and one recipe per image.

        Raises:
            GenerationError: A bad argument, named with its value.
            GenerationCancelled: `should_cancel` returned True.
        """
        from PIL import Image

        img2img = init_image is not None
        check_request(
            prompt,
            seed=seed,
            steps=steps,
            guidance=guidance,
            width=width,
            height=height,
            negative_prompt=negative_prompt,
            strength=strength,
            img2img=img2img,
            num_images=num_images,
        )
        if img2img:
            if not isinstance(init_image, Image.Image):
                raise GenerationError(
                    f"`init_image` must be a PIL image, got {type(init_image).__name__}"
                )
            if init_image.mode != "RGB":
                raise GenerationError(
                    f"`init_image` must be an RGB image, got mode {init_image.mode}"
                )
            strength = DEFAULT_STRENGTH if strength is None else float(strength)
            if width is None:
                width = init_image.width // SIZE_MULTIPLE * SIZE_MULTIPLE
            if height is None:
                height = init_image.height // SIZE_MULTIPLE * SIZE_MULTIPLE
        else:
            default_width, default_height = self.default_size
            width = default_width if width is None else width
            height = default_height if height is None else height
        # a size taken from the model or the starting image is checked too
        check_request(prompt, width=width, height=height)
        scheduler = self.scheduler_name if scheduler is None else scheduler
        if scheduler not in self.scheduler_names:
            raise GenerationError(
                f"`scheduler` must be one of {', '.join(self.scheduler_names)}, got {scheduler!r}"
            )
        if seed + num_images - 1 > MAX_SEED:
            raise GenerationError(
                f"`seed` + `num_images` - 1 must be at most {MAX_SEED}, got {seed + num_images - 1}"
            )
        if should_cancel is not None and should_cancel():
            raise GenerationCancelled("generation was cancelled before it started")

        recipe: dict[str, Any] = {
            "kind": IMG2IMG_KIND if img2img else TXT2IMG_KIND,
            "model": self.model_id,
            "model_sha256": self.model_sha256,
            "pipeline": type(self.text_to_image).__name__,
            "prompt": prompt,
            "negative_prompt": negative_prompt,
            "seed": seed,
            "steps": steps,
            "guidance": float(guidance),
            "width": width,
            "height": height,
            "scheduler": scheduler,
            "safety_checker": self.safety_checker,
            "code_version": code_version(),
        }
        start_image = None
        if img2img:
            from provenance.fingerprint import pixel_hash

            recipe["strength"] = strength
            recipe["init_image_sha256"] = pixel_hash(init_image)
            start_image = init_image
            if init_image.size != (width, height):
                start_image = init_image.resize((width, height), Image.Resampling.LANCZOS)

        with self._lock, _torch_threads(self.num_threads):
            return self._run(recipe, num_images, start_image, progress, should_cancel)

    def _image_to_image_pipeline(self) -> Any:
        if self._image_to_image is None:
            with _quiet_imports():
                from diffusers import AutoPipelineForImage2Image

            try:
                pipe = AutoPipelineForImage2Image.from_pipe(self.text_to_image)
            except Exception as exc:  # no image-to-image sibling for this pipeline class
                raise GenerationError(
                    f"{type(self.text_to_image).__name__} has no image-to-image pipeline "
                    f"({_first_line(exc)})"
                ) from exc
            pipe.set_progress_bar_config(disable=True)
            self._image_to_image = pipe
        return self._image_to_image

    def _run(
        self,
        recipe: dict[str, Any],
        num_images: int,
        start_image: Any,
        progress: Callable[[float, str], None] | None,
        should_cancel: Callable[[], bool] | None,
    ) -> DiffusionOutput:
        import diffusers
        import torch

        img2img = start_image is not None
        pipe = self._image_to_image_pipeline() if img2img else self.text_to_image
        scheduler_class = getattr(diffusers, recipe["scheduler"])
        images, recipes, flags = [], [], []
        for index in range(num_images):
            seed = recipe["seed"] + index
            # a fresh scheduler per image: schedulers keep state between steps
            pipe.scheduler = scheduler_class.from_config(self._scheduler_config)

            def on_step_end(p, step, timestep, tensors, index=index):
                if progress is not None:
                    done, total = index * p.num_timesteps + step + 1, num_images * p.num_timesteps
                    progress(done / total, f"step {done}/{total}")
                if should_cancel is not None and should_cancel():
                    raise GenerationCancelled(
                        f"generation was cancelled at step {step + 1} of image {index + 1}"
                    )
                return tensors

            kwargs: dict[str, Any] = {
                "prompt": recipe["prompt"],
                "negative_prompt": recipe["negative_prompt"] or None,
                "num_inference_steps": recipe["steps"],
                "guidance_scale": recipe["guidance"],
                "generator": torch.Generator(device="cpu").manual_seed(seed),
                "callback_on_step_end": on_step_end,
            }
            if img2img:
                kwargs.update(image=start_image, strength=recipe["strength"])
            else:
                kwargs.update(width=recipe["width"], height=recipe["height"])
            with torch.inference_mode():
                result = pipe(**kwargs)
            images.append(result.images[0].convert("RGB"))  # (H, W) RGB
            recipes.append({**recipe, "seed": seed})
            nsfw = result.nsfw_content_detected
            flags.append(bool(nsfw[0]) if nsfw else False)
        return DiffusionOutput(images, recipes, flags if self.safety_checker else None)


def render_diffusion_recipe(
    recipe: Mapping[str, Any],
    model_resolver: Callable[[str, str], DiffusionImagePipeline],
    *,
    init_image: Any = None,
    progress: Callable[[float, str], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> DiffusionOutput:
    """Make a recipe's image again; on the same machine the pixels are identical.

    Args:
        recipe: A recipe from `DiffusionOutput.recipes`.
        model_resolver: Called as `model_resolver(recipe["model"], recipe["model_sha256"])`;
            returns the `DiffusionImagePipeline` to use (e.g. one loaded with
            `DiffusionImagePipeline.from_pretrained`).
        init_image: For image-to-image, the starting image (RGB); its pixel hash must match
            the recipe's `init_image_sha256`.
        progress: As in `DiffusionImagePipeline.__call__`.
        should_cancel: As in `DiffusionImagePipeline.__call__`.

    Returns:
        A `DiffusionOutput` with one image, whose recipe equals `recipe` when the code
        versions agree.

    Raises:
        GenerationError: The recipe is not a diffusion recipe or lacks a field, the resolved
            model's hash differs, or the starting image is missing or differs.
    """
    if not isinstance(recipe, Mapping):
        raise GenerationError(f"`recipe` must be a dict, got {type(recipe).__name__}")
    kind = recipe.get("kind")
    if kind not in RECIPE_KINDS:
        raise GenerationError(
            f"`recipe` kind must be one of {', '.join(RECIPE_KINDS)}, got {kind!r}"
        )
    needed = (*_RECIPE_KEYS, *(("strength", "init_image_sha256") if kind == IMG2IMG_KIND else ()))
    missing = [key for key in needed if key not in recipe]
    if missing:
        raise GenerationError(f"`recipe` lacks {', '.join(missing)}")
    pipeline = model_resolver(recipe["model"], recipe["model_sha256"])
    if pipeline.model_sha256 != recipe["model_sha256"]:
        raise GenerationError(
            f"the model {recipe['model']!r} resolved to weights with hash "
            f"{pipeline.model_sha256}, but the recipe was made with {recipe['model_sha256']}"
        )
    strength = None
    if kind == IMG2IMG_KIND:
        from provenance.fingerprint import pixel_hash

        if init_image is None:
            raise GenerationError("`init_image` is needed to re-render an image-to-image recipe")
        if getattr(init_image, "mode", None) != "RGB" or (
            pixel_hash(init_image) != recipe["init_image_sha256"]
        ):
            raise GenerationError(
                "`init_image` is not the recipe's starting image (its pixel SHA-256 differs "
                f"from {recipe['init_image_sha256']})"
            )
        strength = recipe["strength"]
    else:
        init_image = None
    return pipeline(
        recipe["prompt"],
        seed=recipe["seed"],
        steps=recipe["steps"],
        guidance=recipe["guidance"],
        width=recipe["width"],
        height=recipe["height"],
        negative_prompt=recipe["negative_prompt"],
        init_image=init_image,
        strength=strength,
        scheduler=recipe["scheduler"],
        progress=progress,
        should_cancel=should_cancel,
    )


# A1111 sampler names for diffusers scheduler classes, for the `parameters` text
_A1111_SAMPLERS = {
    "DDIMScheduler": "DDIM",
    "PNDMScheduler": "PLMS",
    "LMSDiscreteScheduler": "LMS",
    "EulerDiscreteScheduler": "Euler",
    "EulerAncestralDiscreteScheduler": "Euler a",
    "HeunDiscreteScheduler": "Heun",
    "DPMSolverMultistepScheduler": "DPM++ 2M",
    "DPMSolverSinglestepScheduler": "DPM++ SDE",
    "KDPM2DiscreteScheduler": "DPM2",
    "KDPM2AncestralDiscreteScheduler": "DPM2 a",
    "UniPCMultistepScheduler": "UniPC",
    "DEISMultistepScheduler": "DEIS",
    "LCMScheduler": "LCM",
}


def a1111_infotext(recipe: Mapping[str, Any]) -> str:
    """The AUTOMATIC1111 `parameters` text for a diffusion recipe.

    Args:
        recipe: A recipe from `DiffusionOutput.recipes`.

    Returns:
        The prompt line, a "Negative prompt: ..." line when there is one, then
        "Steps: 20, Sampler: Euler, CFG scale: 7.5, Seed: 1, Size: 512x512, Model hash:
        <10 hex>, Model: <name>" (plus "Denoising strength" for image-to-image) and
        "Atelier kind".
    """
    from generation.parameters import MODEL_HASH_DIGITS, infotext

    model = str(recipe["model"])
    params: dict[str, Any] = {
        "Steps": recipe["steps"],
        "Sampler": _A1111_SAMPLERS.get(recipe["scheduler"], recipe["scheduler"]),
        "CFG scale": f"{float(recipe['guidance']):g}",
        "Seed": recipe["seed"],
        "Size": f"{recipe['width']}x{recipe['height']}",
        "Model hash": str(recipe["model_sha256"])[:MODEL_HASH_DIGITS],
        "Model": Path(model).name or model,
    }
    if recipe.get("kind") == IMG2IMG_KIND:
        params["Denoising strength"] = f"{float(recipe['strength']):g}"
    params["Atelier kind"] = recipe.get("kind")
    return infotext(str(recipe["prompt"]), params, str(recipe.get("negative_prompt") or ""))
