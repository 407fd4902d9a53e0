"""Training a `generation.gan` generator on a folder of images.

Hinge-loss GAN with DiffAugment (colour, translation, cutout), an EMA copy of
the generator (the one that is exported), checkpoints that resume exactly
(models, optimisers, EMA, every RNG state and the position in the data order),
sample grids and a loss curve. `train` is the library entry point that the CLI
and web jobs call; it never installs signal handlers itself (a web job runs in
a worker thread), so callers turn SIGTERM into `should_cancel`.

Output directory layout:
    checkpoint.pt          everything needed to resume (written atomically)
    model/                 EMA generator: config.json, model.safetensors, training_data.json
    samples/step_XXXXXXXXX.png   sample grid from fixed latents
    loss_curve.png         discriminator and generator loss against step
    progress.json          latest `TrainProgress`, for pollers
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from generation.augment import POLICIES, diff_augment
from generation.fastgan import (
    FAST_IMAGE_SIZES,
    FastDiscriminator,
    FastGenerator,
    load_generator,
    reconstruction_loss,
)
from generation.gan import Discriminator, Generator, weights_sha256
from generation.image_folder import MIN_IMAGES, load_image_folder, pdq_hash
from generation.training_report import draw_loss_curve, image_grid

CHECKPOINT_NAME = "checkpoint.pt"
MODEL_DIR_NAME = "model"
TRAINING_DATA_NAME = "training_data.json"
CHECKPOINT_FORMAT = 1
ARCHITECTURES = ("dcgan", "fastgan")
PRECISIONS = ("auto", "fp32", "bf16")

# Fields that only change how often things are written or how long training runs;
# they may differ when resuming. Every other field shapes the trajectory.
_RESUMABLE_FIELDS = frozenset(
    {
        "total_steps",
        "checkpoint_every_steps",
        "checkpoint_every_seconds",
        "sample_every_steps",
        "log_every_steps",
        "num_samples",
        "export_dtype",
        "min_images",
    }
)


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of a GAN training run.

    Attributes:
        image_size: Training and output resolution (64 or 128).
        latent_dim: Generator latent size.
        g_channels: Generator `base_channels`.
        d_channels: Discriminator `base_channels`.
        max_channels: Channel cap for both networks.
        batch_size: Real images per step (the same number of fakes).
        total_steps: Optimisation steps to reach; may be raised when resuming.
        g_lr: Generator Adam learning rate.
        d_lr: Discriminator Adam learning rate.
        betas: Adam betas for both optimisers.
        ema_decay: Decay of the exported EMA generator.
        augment_policy: DiffAugment transforms.
        random_flip: Flip real images horizontally at random.
        seed: Seed of initialisation, data order, augmentation and latents.
        min_images: Fewest training images accepted.
        checkpoint_every_steps: Checkpoint interval in steps (0: only by time).
        checkpoint_every_seconds: Checkpoint interval in wall-clock seconds (0: only by steps).
        sample_every_steps: Sample-grid interval in steps (0: never).
        log_every_steps: Loss-averaging interval for the history and curve.
        num_samples: Images in each sample grid.
        export_dtype: dtype of the exported `model.safetensors` ("float16" or "float32").
        architecture: "dcgan" (`generation.gan`, the first bundled model's) or "fastgan"
            (`generation.fastgan`: skip-layer excitation and a self-supervised
            discriminator; 64, 128 or 256 px).
        recon_weight: Weight of the FastGAN discriminator's reconstruction loss.
    """

    image_size: int = 64
    latent_dim: int = 128
    g_channels: int = 32
    d_channels: int = 32
    max_channels: int = 512
    batch_size: int = 64
    total_steps: int = 100_000
    g_lr: float = 2e-4
    d_lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    ema_decay: float = 0.999
    augment_policy: tuple[str, ...] = POLICIES
    random_flip: bool = True
    seed: int = 0
    min_images: int = MIN_IMAGES
    checkpoint_every_steps: int = 0
    checkpoint_every_seconds: float = 300.0
    sample_every_steps: int = 1000
    log_every_steps: int = 50
    num_samples: int = 64
    export_dtype: str = "float16"
    architecture: str = "dcgan"
    recon_weight: float = 1.0

    def __post_init__(self) -> None:
        positive = (
            "latent_dim",
            "g_channels",
            "d_channels",
            "batch_size",
            "total_steps",
            "log_every_steps",
            "num_samples",
        )
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be a positive integer, got {value!r}")
        for name in ("checkpoint_every_steps", "sample_every_steps"):
            if getattr(self, name) < 0:
                raise ValueError(f"`{name}` must be >= 0, got {getattr(self, name)}")
        if self.checkpoint_every_seconds < 0:
            raise ValueError(
                f"`checkpoint_every_seconds` must be >= 0, got {self.checkpoint_every_seconds}"
            )
        for name in ("g_lr", "d_lr"):
            if not getattr(self, name) > 0:
                raise ValueError(f"`{name}` must be > 0, got {getattr(self, name)}")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"`ema_decay` must be in [0, 1), got {self.ema_decay}")
        if self.export_dtype not in ("float16", "float32"):
            raise ValueError(
                f"`export_dtype` must be 'float16' or 'float32', got {self.export_dtype!r}"
            )
        if self.architecture not in ARCHITECTURES:
            raise ValueError(
                f"`architecture` must be one of {ARCHITECTURES}, got {self.architecture!r}"
            )
        if self.architecture == "fastgan" and self.image_size not in FAST_IMAGE_SIZES:
            raise ValueError(
                f"a fastgan `image_size` must be one of {FAST_IMAGE_SIZES}, got {self.image_size}"
            )
        if self.architecture == "fastgan" and min(self.g_channels, self.d_channels) < 8:
            raise ValueError("a fastgan needs `g_channels` and `d_channels` of at least 8")
        if not self.recon_weight >= 0:
            raise ValueError(f"`recon_weight` must be >= 0, got {self.recon_weight}")
        unknown = [p for p in self.augment_policy if p not in POLICIES]
        if unknown:
            raise ValueError(
                f"`augment_policy` must contain only {POLICIES}, got {self.augment_policy}"
            )
        # Normalise sequences loaded from JSON so equality checks work.
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))
        object.__setattr__(self, "augment_policy", tuple(self.augment_policy))

    def to_json(self) -> dict:
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()
        }

    @classmethod
    def from_json(cls, data: dict) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class TrainProgress:
    """A detailed report passed to the `on_report` callback (losses, throughput, files).

    Attributes:
        event: "step", "sample", "checkpoint", "stopped" or "done".
        step: Optimisation steps completed.
        total_steps: Steps the run aims for.
        images_seen: Real images shown to the discriminator so far.
        d_loss: Mean discriminator hinge loss over the last logging interval.
        g_loss: Mean generator loss over the last logging interval.
        images_per_second: Recent throughput of this process.
        eta_seconds: Estimated seconds to `total_steps`, None until measurable.
        path: File written by a "sample" or "checkpoint" event.
    """

    event: str
    step: int
    total_steps: int
    images_seen: int
    d_loss: float | None
    g_loss: float | None
    images_per_second: float | None
    eta_seconds: float | None
    path: str | None = None


@dataclass(frozen=True)
class TrainResult:
    """What `train` leaves behind.

    Attributes:
        step: Steps completed.
        stopped: True if `should_cancel` ended the run before `total_steps`.
        checkpoint: Path of the last checkpoint.
        model_dir: Directory of the exported EMA generator.
        model_sha256: Model id (SHA-256 of its `model.safetensors`).
    """

    step: int
    stopped: bool
    checkpoint: Path
    model_dir: Path
    model_sha256: str


@dataclass
class _DataOrder:
    """Epoch-wise random permutation of the data, drawn from its own generator; with
    `weights`, each batch is drawn with replacement in proportion to them instead."""

    num_items: int
    generator: torch.Generator
    permutation: torch.Tensor = field(default_factory=lambda: torch.empty(0, dtype=torch.long))
    cursor: int = 0
    epoch: int = 0
    weights: torch.Tensor | None = None

    def next_indices(self, batch_size: int) -> torch.Tensor:
        if self.weights is not None:
            return torch.multinomial(
                self.weights, batch_size, replacement=True, generator=self.generator
            )
        # The tail of an epoch shorter than a batch is dropped, as DataLoader(drop_last=True) does.
        if self.cursor + batch_size > self.permutation.numel():
            self.permutation = torch.randperm(self.num_items, generator=self.generator)
            self.cursor = 0
            self.epoch += 1
        indices = self.permutation[self.cursor : self.cursor + batch_size]
        self.cursor += batch_size
        return indices

    def state_dict(self) -> dict:
        return {
            "generator": self.generator.get_state(),
            "permutation": self.permutation.clone(),
            "cursor": self.cursor,
            "epoch": self.epoch,
        }

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
        self.permutation = state["permutation"].clone()
        self.cursor = int(state["cursor"])
        self.epoch = int(state["epoch"])


def build_models(config: TrainConfig):
    """Create the freshly initialised generator and discriminator for `config`."""
    if config.architecture == "fastgan":
        return (
            FastGenerator(
                image_size=config.image_size,
                latent_dim=config.latent_dim,
                base_channels=config.g_channels,
                seed=config.seed,
            ),
            FastDiscriminator(
                image_size=config.image_size, base_channels=config.d_channels, seed=config.seed + 1
            ),
        )
    generator = Generator(
        image_size=config.image_size,
        latent_dim=config.latent_dim,
        base_channels=config.g_channels,
        max_channels=config.max_channels,
        seed=config.seed,
    )
    discriminator = Discriminator(
        image_size=config.image_size,
        base_channels=config.d_channels,
        max_channels=config.max_channels,
        seed=config.seed + 1,
    )
    return generator, discriminator


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event that Ctrl-C (SIGINT) or SIGTERM sets instead of killing the process.

    Pass its `is_set` as `train(should_cancel=...)`: the step in progress finishes, a checkpoint
    and the model are written, and `--resume` continues there. The previous handlers come
    back on exit. Off the main thread (where Python cannot install handlers) the event is
    never set by a signal.
    """
    stop = threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():

        def request_stop(signum, frame) -> None:
            print(
                f"signal {signum}: stopping after this step and writing a checkpoint",
                file=sys.stderr,
                flush=True,
            )
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, request_stop)
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def train(
    config: TrainConfig,
    data_dir: str | Path,
    out_dir: str | Path,
    resume: bool = False,
    progress: Callable[[float, str], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    progress_bar: bool = False,
    on_report: Callable[[TrainProgress], None] | None = None,
    init_model: str | Path | None = None,
    sample_weights: Mapping[str, float] | None = None,
    device: str = "cpu",
    precision: str = "auto",
) -> TrainResult:
    """Train a GAN on the images in `data_dir`; checkpoints, samples and model go to `out_dir`.

    Args:
        config: Hyper-parameters.
        data_dir: Folder of at least `config.min_images` images (and nothing else).
        out_dir: Run directory (see the module docstring for its layout).
        resume: Continue from `out_dir/checkpoint.pt` if it exists; without it an
            existing checkpoint is an error, so a run is never overwritten by accident.
        progress: Called as `progress(fraction, message)`, the one progress shape of
            `generation` (style transfer, diffusion, GAN morphs), with each report below.
        on_report: Called with a `TrainProgress` (losses, throughput, ETA, the file written)
            every `log_every_steps` steps and on samples, checkpoints and the end of the run.
        should_cancel: Polled once per step, as everywhere in `generation`; returning True
            ends training gracefully: the step finishes, a checkpoint and the model are
            written, and the result says `stopped` (`resume` continues there).
        progress_bar: Show a tqdm bar with ETA on stderr.
        init_model: A saved generator folder to start from instead of a random
            initialisation (fine-tuning; its architecture must match `config`); the
            discriminator starts fresh. Ignored when resuming a checkpoint.
        sample_weights: File name -> weight (> 0) of each image in `data_dir`: batches are
            drawn with replacement in proportion to them (an image not named weighs 1).
        device: "cpu", "cuda" (or "cuda:N"), or "auto" (a GPU when torch sees one). Every
            random draw comes from CPU generators, and checkpoints hold CPU tensors, so a run
            started on one device resumes on another.
        precision: "fp32", "bf16" (autocast of the forward passes to bfloat16; losses and
            weights stay float32), or "auto": bf16 on a GPU that supports it, else fp32.

    Returns:
        A `TrainResult`.

    Raises:
        FileNotFoundError: If `data_dir` does not exist.
        FileExistsError: If `out_dir` has a checkpoint and `resume` is False.
        ValueError: If the images are unusable, the device or precision cannot be used, or
            the checkpoint was made with a different trajectory-shaping config or different
            training images.
    """
    run_device, use_bf16 = resolve_device(device, precision)
    out = Path(out_dir)
    checkpoint_path = out / CHECKPOINT_NAME
    if checkpoint_path.exists() and not resume:
        raise FileExistsError(f"{checkpoint_path} exists; pass `resume=True` to continue that run")
    folder = load_image_folder(
        data_dir, config.image_size, min_images=config.min_images, perceptual_hasher=pdq_hash
    )
    if config.batch_size > len(folder):
        raise ValueError(
            f"`batch_size` must be <= the number of images ({len(folder)}), got {config.batch_size}"
        )
    data_hashes = [img.sha256 for img in folder.images]
    weights = _weights(folder, sample_weights)

    generator, discriminator = build_models(config)
    if init_model is not None:
        _load_generator(generator, init_model)
    generator.to(run_device)
    discriminator.to(run_device)
    ema = copy.deepcopy(generator).eval().requires_grad_(False)
    opt_g = torch.optim.Adam(generator.parameters(), lr=config.g_lr, betas=config.betas)
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=config.d_lr, betas=config.betas)
    order = _DataOrder(
        len(folder),
        torch.Generator().manual_seed(config.seed + 2),
        weights=None if weights is None else torch.tensor(weights, dtype=torch.float64),
    )
    aug_rng = torch.Generator().manual_seed(config.seed + 3)
    noise_rng = torch.Generator().manual_seed(config.seed + 4)
    step, history = 0, {"step": [], "d_loss": [], "g_loss": []}

    if resume and checkpoint_path.exists():
        ckpt = torch.load(checkpoint_path, map_location="cpu", weights_only=True)
        _check_resumable(ckpt, config, data_hashes, checkpoint_path)
        if ckpt.get("sample_weights") != weights:
            raise ValueError(f"cannot resume {checkpoint_path} with different sample weights")
        generator.load_state_dict(ckpt["generator"])
        discriminator.load_state_dict(ckpt["discriminator"])
        ema.load_state_dict(ckpt["ema"])
        opt_g.load_state_dict(ckpt["opt_g"])
        opt_d.load_state_dict(ckpt["opt_d"])
        order.load_state_dict(ckpt["order"])
        aug_rng.set_state(ckpt["rng"]["augment"])
        noise_rng.set_state(ckpt["rng"]["noise"])
        torch.set_rng_state(ckpt["rng"]["torch"])
        step, history = int(ckpt["step"]), {k: list(v) for k, v in ckpt["history"].items()}

    out.mkdir(parents=True, exist_ok=True)
    # Fixed latents so successive grids show the same "people" improving.
    sample_latents = torch.randn(
        config.num_samples,
        config.latent_dim,
        generator=torch.Generator().manual_seed(config.seed + 5),
    )
    pixels = folder.pixels.to(run_device)
    batch = config.batch_size
    fastgan = config.architecture == "fastgan"

    def autocast():
        return torch.autocast(run_device.type, dtype=torch.bfloat16, enabled=use_bf16)

    def save_everything() -> Path:
        state = {
            "format": CHECKPOINT_FORMAT,
            "config": config.to_json(),
            "step": step,
            "generator": generator.state_dict(),
            "discriminator": discriminator.state_dict(),
            "ema": ema.state_dict(),
            "opt_g": opt_g.state_dict(),
            "opt_d": opt_d.state_dict(),
            "order": order.state_dict(),
            "rng": {
                "augment": aug_rng.get_state(),
                "noise": noise_rng.get_state(),
                "torch": torch.get_rng_state(),
            },
            "history": history,
            "training_data_sha256": data_hashes,
            "sample_weights": weights,
            "device": str(run_device),
            "bf16": use_bf16,
        }
        tmp = checkpoint_path.with_name(checkpoint_path.name + ".tmp")
        torch.save(_on_cpu(state), tmp)
        os.replace(tmp, checkpoint_path)
        _export_model(ema, out / MODEL_DIR_NAME, config, folder, step, data_dir)
        if history["step"]:
            draw_loss_curve(
                history["step"],
                {"d_loss": history["d_loss"], "g_loss": history["g_loss"]},
                out / "loss_curve.png",
            )
        return checkpoint_path

    bar = None
    if progress_bar:
        from tqdm import tqdm

        bar = tqdm(
            total=config.total_steps, initial=step, unit="step", mininterval=10.0, smoothing=0.05
        )

    d_sum = g_sum = 0.0
    n_sum = 0
    last_d = last_g = None
    rate = None
    t_mark, step_mark = time.monotonic(), step
    last_checkpoint_time = time.monotonic()
    stopped = False

    def report(event: str, path: Path | None = None) -> TrainProgress:
        eta = (config.total_steps - step) * batch / rate if rate else None
        info = TrainProgress(
            event,
            step,
            config.total_steps,
            step * batch,
            last_d,
            last_g,
            rate,
            eta,
            str(path) if path else None,
        )
        (out / "progress.json").write_text(json.dumps(dataclasses.asdict(info)) + "\n")
        if on_report is not None:
            on_report(info)
        if progress is not None:
            progress(min(step / config.total_steps, 1.0), f"step {step}/{config.total_steps}")
        return info

    generator.train()
    discriminator.train()
    while step < config.total_steps:
        if should_cancel is not None and should_cancel():
            stopped = True
            break
        indices = order.next_indices(batch).to(run_device)
        real = pixels[indices].float().div_(127.5).sub_(1.0)  # (B, 3, S, S)
        if config.random_flip:
            flip = (torch.rand(batch, generator=aug_rng) < 0.5).to(run_device)
            real = torch.where(flip[:, None, None, None], real.flip(3), real)
        z = torch.randn(batch, config.latent_dim, generator=noise_rng).to(run_device)
        with autocast():
            fake = generator(z)  # (B, 3, S, S)

        discriminator.requires_grad_(True)
        if fastgan:
            # FastGAN: real and fake in separate passes, so the discriminator's batch norm
            # sees one kind at a time, as it will in the generator's step (a mixed batch
            # there collapsed the generator); D also rebuilds the real pictures (whole, and
            # one quadrant) from its own features, so it cannot win on a few tells.
            real_aug = diff_augment(real, config.augment_policy, aug_rng)  # (B, 3, S, S)
            fake_aug = diff_augment(fake.detach().float(), config.augment_policy, aug_rng)
            part = int(torch.randint(4, (1,), generator=aug_rng))
            with autocast():
                real_logits, whole, piece = discriminator(real_aug, reconstruct=batch, part=part)
                fake_logits = discriminator(fake_aug)
            recon = reconstruction_loss(real_aug, whole, piece, part)
        else:
            # One pass over real and fake together (one spectral-norm power iteration).
            both = diff_augment(
                torch.cat([real, fake.detach().float()]), config.augment_policy, aug_rng
            )  # (2B, 3, S, S)
            with autocast():
                logits = discriminator(both)  # (2B,)
            real_logits, fake_logits, recon = logits[:batch], logits[batch:], None
        d_loss = F.relu(1.0 - real_logits.float()).mean() + F.relu(1.0 + fake_logits.float()).mean()
        if recon is not None:
            d_loss = d_loss + config.recon_weight * recon
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()

        # Generator: reuse the same fakes, now with gradients through D.
        discriminator.requires_grad_(False)
        augmented = diff_augment(fake.float(), config.augment_policy, aug_rng)
        with autocast():
            g_loss = -discriminator(augmented).float().mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        _update_ema(ema, generator, config.ema_decay, step)
        step += 1

        d_sum += d_loss.item()
        g_sum += g_loss.item()
        n_sum += 1
        if bar is not None:
            bar.update(1)
        if step % config.log_every_steps == 0 or step == config.total_steps:
            last_d, last_g = d_sum / n_sum, g_sum / n_sum
            history["step"].append(step)
            history["d_loss"].append(last_d)
            history["g_loss"].append(last_g)
            d_sum = g_sum = 0.0
            n_sum = 0
            now = time.monotonic()
            if now > t_mark:
                current = (step - step_mark) * batch / (now - t_mark)
                rate = current if rate is None else 0.8 * rate + 0.2 * current
            t_mark, step_mark = now, step
            if bar is not None:
                bar.set_postfix(
                    d=f"{last_d:.3f}", g=f"{last_g:.3f}", img_s=f"{rate:.0f}", refresh=False
                )
            report("step")
        if config.sample_every_steps and step % config.sample_every_steps == 0:
            report(
                "sample",
                save_sample_grid(ema, sample_latents, out / "samples" / f"step_{step:09d}.png"),
            )
        by_steps = config.checkpoint_every_steps and step % config.checkpoint_every_steps == 0
        by_time = (
            config.checkpoint_every_seconds
            and time.monotonic() - last_checkpoint_time >= config.checkpoint_every_seconds
        )
        if (by_steps or by_time) and step < config.total_steps:
            report("checkpoint", save_everything())
            last_checkpoint_time = time.monotonic()

    if bar is not None:
        bar.close()
    path = save_everything()
    if not stopped:
        save_sample_grid(ema, sample_latents, out / "samples" / f"step_{step:09d}.png")
    report("stopped" if stopped else "done", path)
    model_dir = out / MODEL_DIR_NAME
    return TrainResult(
        step=step,
        stopped=stopped,
        checkpoint=path,
        model_dir=model_dir,
        model_sha256=weights_sha256(model_dir),
    )


def _weights(folder, sample_weights: Mapping[str, float] | None) -> list[float] | None:
    """The per-image sampling weights in the folder's order, or None for plain epochs."""
    if sample_weights is None:
        return None
    names = {img.file for img in folder.images}
    unknown = sorted(set(sample_weights) - names)
    if unknown:
        raise ValueError(f"`sample_weights` names files that are not images here: {unknown[:5]}")
    weights = [float(sample_weights.get(img.file, 1.0)) for img in folder.images]
    if not all(math.isfinite(w) and w > 0 for w in weights):
        raise ValueError("`sample_weights` must all be finite and greater than 0")
    return weights


def _on_cpu(value):
    """`value` with every tensor inside moved to the CPU (checkpoints load on any device)."""
    if isinstance(value, torch.Tensor):
        return value.cpu()
    if isinstance(value, dict):
        return {k: _on_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_on_cpu(v) for v in value)
    return value


def resolve_device(device: str = "auto", precision: str = "auto") -> tuple[torch.device, bool]:
    """The torch device a run uses and whether it autocasts to bfloat16.

    Raises:
        ValueError: If the device is unknown or absent, or the precision cannot run there.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"`precision` must be one of {PRECISIONS}, got {precision!r}")
    name = str(device).strip().lower()
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name != "cpu" and not (name == "cuda" or name.startswith("cuda:")):
        raise ValueError(f"`device` must be 'cpu', 'cuda', 'cuda:N' or 'auto', got {device!r}")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("`device` is 'cuda' but torch sees no GPU here; use --device cpu")
    try:
        run_device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"`device` {device!r} is not a device torch knows") from None
    if run_device.type == "cuda" and (run_device.index or 0) >= torch.cuda.device_count():
        raise ValueError(f"`device` {device!r}: there are {torch.cuda.device_count()} GPUs")
    if precision == "auto":
        use_bf16 = run_device.type == "cuda" and torch.cuda.is_bf16_supported()
    else:
        use_bf16 = precision == "bf16"
    return run_device, use_bf16


def _load_generator(generator, model_dir: str | Path) -> None:
    """Start `generator` from a saved one (fine-tuning); the architectures must match."""
    saved = load_generator(model_dir)
    if type(saved) is not type(generator) or saved.config != generator.config | {
        "seed": saved.config.get("seed")
    }:
        raise ValueError(
            f"`init_model` is a {saved.config} generator; the run builds {generator.config}"
        )
    generator.load_state_dict(saved.state_dict())


def save_sample_grid(generator: Generator, latents: torch.Tensor, path: str | Path) -> Path:
    """Render `latents` with `generator` (in eval mode) and save them as one PNG grid.

    Args:
        generator: The generator, normally the EMA copy.
        latents: `(N, latent_dim)` latents.
        path: Output PNG path.

    Returns:
        The written path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    was_training = generator.training
    generator.eval()
    device = next(generator.parameters()).device
    with torch.no_grad():
        images = generator(latents.to(device)).float().cpu()  # (N, 3, S, S)
    generator.train(was_training)
    image_grid(images).save(path, format="PNG")
    return path


def _update_ema(ema: Generator, model: Generator, decay: float, step: int) -> None:
    # Warm-up keeps the EMA from being dominated by the random initialisation.
    decay = min(decay, (1 + step) / (10 + step))
    with torch.no_grad():
        for p_ema, p in zip(ema.parameters(), model.parameters(), strict=True):
            p_ema.lerp_(p, 1.0 - decay)
        for b_ema, b in zip(ema.buffers(), model.buffers(), strict=True):
            b_ema.copy_(b)


def _check_resumable(ckpt: dict, config: TrainConfig, data_hashes: list[str], path: Path) -> None:
    if ckpt.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(
            f"{path} has checkpoint format {ckpt.get('format')}, expected {CHECKPOINT_FORMAT}"
        )
    saved = TrainConfig.from_json(ckpt["config"]).to_json()
    wanted = config.to_json()
    changed = sorted(k for k in wanted if k not in _RESUMABLE_FIELDS and saved.get(k) != wanted[k])
    if changed:
        details = ", ".join(f"{k}: {saved.get(k)!r} -> {wanted[k]!r}" for k in changed)
        raise ValueError(f"cannot resume {path} with a different config ({details})")
    if list(ckpt["training_data_sha256"]) != data_hashes:
        raise ValueError(
            f"cannot resume {path}: the training images differ from the ones it was trained on"
        )
    if ckpt["step"] > config.total_steps:
        raise ValueError(
            f"`total_steps` must be >= the checkpoint's step {ckpt['step']}, "
            f"got {config.total_steps}"
        )


def _export_model(
    ema: Generator, model_dir: Path, config: TrainConfig, folder, step: int, data_dir
) -> None:
    dtype = torch.float16 if config.export_dtype == "float16" else torch.float32
    ema.save_pretrained(model_dir, dtype=dtype)
    record = {
        "model_sha256": weights_sha256(model_dir),
        "step": step,
        "images_seen": step * config.batch_size,
        "train_config": config.to_json(),
        "data_dir_name": Path(data_dir).name,
        "image_count": len(folder.images),
        # "pdq-provenance": hex as provenance.fingerprint writes it ("pdq": older, bit 0 first)
        "perceptual_hash": "pdq-provenance" if any(img.pdq for img in folder.images) else None,
        "images": [img.to_json() for img in folder.images],
    }
    (model_dir / TRAINING_DATA_NAME).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
