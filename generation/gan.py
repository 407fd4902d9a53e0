"""A small DCGAN-class generator/discriminator family for CPU training and inference.

The generator is DCGAN's (transposed 4x4 convolutions, BatchNorm, ReLU, tanh);
the discriminator is DCGAN's with spectral normalisation instead of BatchNorm,
which keeps hinge-loss training stable on small data sets. Both support any
power-of-two image size from 16 px up; 64 px and 128 px are the supported ones.

A model is identified by the SHA-256 of its `model.safetensors` file
(`weights_sha256`).
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import torch
from torch import nn

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
SUPPORTED_IMAGE_SIZES = (16, 32, 64, 128, 256)
# GANSpace reads the activations after the second transposed convolution, its BatchNorm and
# ReLU (8x8 for every supported size): generator.net[:6]
GENE_LAYERS = 6


def _check_common(image_size: int, base_channels: int, max_channels: int) -> None:
    if image_size not in SUPPORTED_IMAGE_SIZES:
        raise ValueError(f"`image_size` must be one of {SUPPORTED_IMAGE_SIZES}, got {image_size}")
    if base_channels < 1:
        raise ValueError(f"`base_channels` must be >= 1, got {base_channels}")
    if max_channels < base_channels:
        raise ValueError(
            f"`max_channels` must be >= `base_channels` ({base_channels}), got {max_channels}"
        )


def _channels(base_channels: int, max_channels: int, level: int) -> int:
    return min(max_channels, base_channels * 2**level)


class _PretrainedMixin:
    """`save_pretrained` / `from_pretrained` for modules whose constructor args are the config."""

    config: dict

    def save_pretrained(
        self, save_directory: str | Path, dtype: torch.dtype = torch.float32
    ) -> Path:
        """Write `config.json` and `model.safetensors` into `save_directory`.

        Args:
            save_directory: Directory to create or overwrite files in.
            dtype: Floating-point dtype the weights are stored in (float32 or
                float16; float16 halves the file for committing to the repo).

        Returns:
            Path of the written `model.safetensors`.

        Raises:
            ValueError: If `dtype` is not float32, float16 or bfloat16.
        """
        from safetensors.torch import save_file

        if dtype not in (torch.float32, torch.float16, torch.bfloat16):
            raise ValueError(f"`dtype` must be float32, float16 or bfloat16, got {dtype}")
        directory = Path(save_directory)
        directory.mkdir(parents=True, exist_ok=True)
        tensors = {
            name: (t.detach().to(dtype) if t.is_floating_point() else t.detach()).cpu().contiguous()
            for name, t in self.state_dict().items()
        }
        config = {
            "model_type": type(self).__name__,
            **self.config,
            "torch_dtype": str(dtype).removeprefix("torch."),
        }
        (directory / CONFIG_NAME).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
        weights = directory / WEIGHTS_NAME
        save_file(tensors, str(weights), metadata={"format": "pt"})
        return weights

    @classmethod
    def from_pretrained(cls, pretrained_directory: str | Path):
        """Build a model from `config.json` and load `model.safetensors` (float32, CPU, eval mode).

        Args:
            pretrained_directory: A directory written by `save_pretrained`.

        Returns:
            The model in eval mode.

        Raises:
            FileNotFoundError: If either file is missing.
            ValueError: If the config names another model type.
        """
        from safetensors.torch import load_file

        directory = Path(pretrained_directory)
        config_path, weights_path = directory / CONFIG_NAME, directory / WEIGHTS_NAME
        for path in (config_path, weights_path):
            if not path.is_file():
                raise FileNotFoundError(f"{path} does not exist")
        config = json.loads(config_path.read_text())
        model_type = config.pop("model_type", cls.__name__)
        config.pop("torch_dtype", None)
        if model_type != cls.__name__:
            raise ValueError(f"`{config_path}` describes a {model_type}, not a {cls.__name__}")
        model = cls(**config)
        state = {
            k: (v.float() if v.is_floating_point() else v)
            for k, v in load_file(str(weights_path)).items()
        }
        model.load_state_dict(state)
        return model.eval()


class Generator(_PretrainedMixin, nn.Module):
    """DCGAN generator: latent vector -> RGB image in [-1, 1].

    Args:
        image_size: Output side length in pixels (64 or 128; any of 16..256 works).
        latent_dim: Size of the latent vector.
        base_channels: Channels at the last (full-resolution / 2) block; halving
            resolution doubles channels up to `max_channels`.
        max_channels: Upper bound on channels in any block.
        seed: Seed of the weight initialisation.

    Raises:
        ValueError: If an argument is out of range.
    """

    def __init__(
        self,
        image_size: int = 64,
        latent_dim: int = 128,
        base_channels: int = 32,
        max_channels: int = 512,
        seed: int = 0,
    ) -> None:
        super().__init__()
        _check_common(image_size, base_channels, max_channels)
        if latent_dim < 1:
            raise ValueError(f"`latent_dim` must be >= 1, got {latent_dim}")
        self.config = {
            "image_size": image_size,
            "latent_dim": latent_dim,
            "base_channels": base_channels,
            "max_channels": max_channels,
            "seed": seed,
        }
        self.image_size = image_size
        self.latent_dim = latent_dim
        num_up = int(math.log2(image_size)) - 2  # 4x4 -> image_size
        top = _channels(base_channels, max_channels, num_up - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(latent_dim, top, 4, 1, 0, bias=False),
            nn.BatchNorm2d(top),
            nn.ReLU(inplace=True),
        ]
        for level in range(num_up - 1, 0, -1):
            c_in = _channels(base_channels, max_channels, level)
            c_out = _channels(base_channels, max_channels, level - 1)
            layers += [
                nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True),
            ]
        layers += [nn.ConvTranspose2d(base_channels, 3, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        _init_dcgan(self, seed)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Map latents `(B, latent_dim)` to images `(B, 3, image_size, image_size)` in [-1, 1]."""
        self.check_latents(z)
        x = z[:, :, None, None]  # (B, latent_dim, 1, 1)
        return self.net(x)  # (B, 3, image_size, image_size)

    def gene_features(self, z: torch.Tensor) -> torch.Tensor:
        """The early features whose principal directions are the model's genes (GANSpace):
        the output of the second block, flattened `(B, F)`."""
        self.check_latents(z)
        return self.net[:GENE_LAYERS](z[:, :, None, None]).flatten(1)

    def check_latents(self, z: torch.Tensor) -> None:
        """Raise ValueError unless `z` has shape (B, latent_dim)."""
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"`z` must have shape (B, {self.latent_dim}), got {tuple(z.shape)}")

    def sample_latents(self, num: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw `num` standard-normal latents `(num, latent_dim)` on the model's device."""
        if num < 1:
            raise ValueError(f"`num` must be >= 1, got {num}")
        device = next(self.parameters()).device
        return torch.randn(num, self.latent_dim, generator=generator, device=device)


class Discriminator(_PretrainedMixin, nn.Module):
    """DCGAN discriminator with spectral normalisation; returns one real/fake logit per image.

    Args:
        image_size: Input side length in pixels.
        base_channels: Channels after the first (stride-2) convolution.
        max_channels: Upper bound on channels in any block.
        seed: Seed of the weight initialisation and of spectral norm's power-iteration vectors.

    Raises:
        ValueError: If an argument is out of range.
    """

    def __init__(
        self,
        image_size: int = 64,
        base_channels: int = 32,
        max_channels: int = 512,
        seed: int = 0,
    ) -> None:
        super().__init__()
        _check_common(image_size, base_channels, max_channels)
        self.config = {
            "image_size": image_size,
            "base_channels": base_channels,
            "max_channels": max_channels,
            "seed": seed,
        }
        self.image_size = image_size
        sn = nn.utils.parametrizations.spectral_norm
        num_down = int(math.log2(image_size)) - 2  # image_size -> 4x4
        # spectral_norm draws its power-iteration vectors from the global RNG; fork it so
        # construction is reproducible and leaves the caller's RNG untouched.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            layers: list[nn.Module] = [
                sn(nn.Conv2d(3, base_channels, 4, 2, 1)),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            for level in range(1, num_down):
                c_in = _channels(base_channels, max_channels, level - 1)
                c_out = _channels(base_channels, max_channels, level)
                layers += [sn(nn.Conv2d(c_in, c_out, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True)]
            top = _channels(base_channels, max_channels, num_down - 1)
            layers.append(sn(nn.Conv2d(top, 1, 4, 1, 0)))
            self.net = nn.Sequential(*layers)
        _init_dcgan(self, seed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Score images `(B, 3, image_size, image_size)`; returns logits `(B,)`."""
        if x.ndim != 4 or tuple(x.shape[1:]) != (3, self.image_size, self.image_size):
            raise ValueError(
                f"`x` must have shape (B, 3, {self.image_size}, {self.image_size}), "
                f"got {tuple(x.shape)}"
            )
        return self.net(x).flatten()  # (B, 1, 1, 1) -> (B,)


def _init_dcgan(module: nn.Module, seed: int) -> None:
    """DCGAN initialisation (N(0, 0.02) convolutions, N(1, 0.02) BatchNorm scales) from `seed`."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                weight = (
                    m.parametrizations.weight.original
                    if hasattr(m, "parametrizations")
                    else m.weight
                )
                weight.normal_(0.0, 0.02, generator=generator)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.normal_(1.0, 0.02, generator=generator)
                m.bias.zero_()


def count_parameters(module: nn.Module) -> int:
    """Return the number of trainable parameters of `module`."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def weights_sha256(path: str | Path) -> str:
    """Return the model id: the hex SHA-256 of a `model.safetensors` file.

    Args:
        path: The weights file, or a directory containing `model.safetensors`.

    Returns:
        64 lowercase hex characters.

    Raises:
        FileNotFoundError: If the weights file does not exist.
    """
    path = Path(path)
    if path.is_dir():
        path = path / WEIGHTS_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
