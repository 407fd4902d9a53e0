"""A FastGAN-class generator and discriminator for few-shot training at 64-256 px.

After Liu et al., "Towards Faster and Stabilized GAN Training for High-fidelity Few-shot
Image Synthesis" (ICLR 2021), written here from the paper:

- The generator upsamples a 4x4 map with nearest-neighbour doubling, 3x3 convolutions,
  batch norm and gated linear units (GLU), and **skip-layer excitation** (SLE): the 4x4,
  8x8 and 16x16 maps gate the channels of the 64, 128 and 256 px maps, so the coarse layout
  reaches the fine layers in one step.
- The discriminator is residual down-sampling blocks with spectral normalisation, scoring a
  5x5 patch map averaged to one logit, and is **self-supervised**: two small decoders
  rebuild the real picture from its 8x8 features and one quadrant of it from a quadrant of
  the 16x16 features, so it must learn features that describe the whole picture instead of
  a few tells (the paper's remedy for a discriminator that wins early on little data).

Left out from the paper: its noise injection (every image stays a function of its latent
alone, so a recipe reproduces), and LPIPS in the reconstruction loss (its weights would be
downloaded; a mean square error is used, which the paper reports also works).

Both classes share `save_pretrained` / `from_pretrained` with `generation.gan`; a model
folder's `config.json` names its class (`model_type`), and `load_generator` builds either.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from generation.gan import CONFIG_NAME, Generator, _init_dcgan, _PretrainedMixin

FAST_IMAGE_SIZES = (64, 128, 256)
# Channels per resolution, as multiples of `base_channels` (the paper's nfc table / 64).
_WIDTH = {4: 16, 8: 8, 16: 4, 32: 2, 64: 2, 128: 1, 256: 0.5}


def _width(base_channels: int, resolution: int) -> int:
    return max(8, int(base_channels * _WIDTH[resolution]))


def _check(image_size: int, base_channels: int) -> None:
    if image_size not in FAST_IMAGE_SIZES:
        raise ValueError(f"`image_size` must be one of {FAST_IMAGE_SIZES}, got {image_size}")
    if not isinstance(base_channels, int) or base_channels < 8:
        raise ValueError(f"`base_channels` must be an integer >= 8, got {base_channels}")


class _GLU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        value, gate = x.chunk(2, dim=1)
        return value * torch.sigmoid(gate)


def _up_block(c_in: int, c_out: int) -> nn.Sequential:
    """Double the side: nearest upsampling, then two (3x3 conv, batch norm, GLU)."""
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Conv2d(c_in, c_out * 2, 3, 1, 1, bias=False),
        nn.BatchNorm2d(c_out * 2),
        _GLU(),
        nn.Conv2d(c_out, c_out * 2, 3, 1, 1, bias=False),
        nn.BatchNorm2d(c_out * 2),
        _GLU(),
    )


class _Excite(nn.Module):
    """Skip-layer excitation: a small map gates the channels of a large one."""

    def __init__(self, c_small: int, c_big: int) -> None:
        super().__init__()
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(4),
            nn.Conv2d(c_small, c_big, 4, 1, 0, bias=False),
            nn.SiLU(),
            nn.Conv2d(c_big, c_big, 1, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, small: torch.Tensor, big: torch.Tensor) -> torch.Tensor:
        return big * self.gate(small)  # (B, C, 1, 1) gates


class FastGenerator(_PretrainedMixin, nn.Module):
    """FastGAN generator: latent vector -> RGB image in [-1, 1].

    Args:
        image_size: Output side (64, 128 or 256).
        latent_dim: Size of the latent vector.
        base_channels: Channels at 128 px; the others follow the paper's table (a 4x4 map has
            16x as many, 256 px half as many).
        seed: Seed of the weight initialisation.

    Raises:
        ValueError: If an argument is out of range.
    """

    def __init__(
        self, image_size: int = 128, latent_dim: int = 128, base_channels: int = 32, seed: int = 0
    ) -> None:
        super().__init__()
        _check(image_size, base_channels)
        if not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(f"`latent_dim` must be >= 1, got {latent_dim}")
        self.config = {
            "image_size": image_size,
            "latent_dim": latent_dim,
            "base_channels": base_channels,
            "seed": seed,
        }
        self.image_size, self.latent_dim = image_size, latent_dim
        w = {r: _width(base_channels, r) for r in _WIDTH}
        self.init = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, w[4] * 2, 4, 1, 0, bias=False),
            nn.BatchNorm2d(w[4] * 2),
            _GLU(),
        )
        sides = [2**i for i in range(3, int(math.log2(image_size)) + 1)]  # 8 .. image_size
        self.ups = nn.ModuleList(_up_block(w[s // 2], w[s]) for s in sides)
        # SLE: 4 -> 64, 8 -> 128, 16 -> 256.
        self.excite = nn.ModuleDict({str(s): _Excite(w[s // 16], w[s]) for s in sides if s >= 64})
        self.to_rgb = nn.Conv2d(w[image_size], 3, 3, 1, 1, bias=False)
        self._sides = sides
        _init_dcgan(self, seed)

    def features(self, z: torch.Tensor) -> dict[int, torch.Tensor]:
        """The maps by side (4 .. image_size) for latents `(B, latent_dim)`."""
        self.check_latents(z)
        maps = {4: self.init(z[:, :, None, None])}  # (B, w4, 4, 4)
        x = maps[4]
        for side, up in zip(self._sides, self.ups, strict=True):
            x = up(x)
            if str(side) in self.excite:
                x = self.excite[str(side)](maps[side // 16], x)
            maps[side] = x
        return maps

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Map latents `(B, latent_dim)` to images `(B, 3, image_size, image_size)` in [-1, 1]."""
        return torch.tanh(self.to_rgb(self.features(z)[self.image_size]))

    def gene_features(self, z: torch.Tensor) -> torch.Tensor:
        """The early features whose principal directions are the model's genes: the 8x8 map."""
        return self.features(z)[8].flatten(1)

    check_latents = Generator.check_latents
    sample_latents = Generator.sample_latents


class _DownBlock(nn.Module):
    """Halve the side: a strided 4x4 + 3x3 path and an average-pool shortcut, averaged.

    Batch norm after each spectral-norm convolution, as in the paper: without it the stacked
    1-Lipschitz layers shrink the activations until the logits are near 0 and the
    discriminator cannot tell real from fake (measured: logits' spread 0.0004 at start, a
    hinge loss stuck at chance and grey, collapsed samples after 51 k images).
    """

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        sn = nn.utils.parametrizations.spectral_norm
        self.main = nn.Sequential(
            sn(nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False)),
            nn.BatchNorm2d(c_out),
            nn.LeakyReLU(0.2),
            sn(nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)),
            nn.BatchNorm2d(c_out),
            nn.LeakyReLU(0.2),
        )
        self.shortcut = nn.Sequential(
            nn.AvgPool2d(2),
            sn(nn.Conv2d(c_in, c_out, 1, 1, 0, bias=False)),
            nn.BatchNorm2d(c_out),
            nn.LeakyReLU(0.2),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.main(x) + self.shortcut(x)) / 2


def _decoder(c_in: int, ups: int, width: int) -> nn.Sequential:
    """A small decoder from an 8x8 map to a picture `2**ups` times larger, in [-1, 1]."""
    layers: list[nn.Module] = [nn.AdaptiveAvgPool2d(8)]
    c = c_in
    for _ in range(ups):
        layers += [
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(c, width * 2, 3, 1, 1, bias=False),
            nn.BatchNorm2d(width * 2),
            _GLU(),
        ]
        c = width
    layers += [nn.Conv2d(c, 3, 3, 1, 1, bias=False), nn.Tanh()]
    return nn.Sequential(*layers)


class FastDiscriminator(_PretrainedMixin, nn.Module):
    """FastGAN's self-supervised discriminator; `forward` returns one logit per image.

    Args:
        image_size: Input side (64, 128 or 256).
        base_channels: Channels at 128 px, as in `FastGenerator`.
        seed: Seed of the weight initialisation and spectral norm's vectors.
    """

    def __init__(self, image_size: int = 128, base_channels: int = 32, seed: int = 0) -> None:
        super().__init__()
        _check(image_size, base_channels)
        self.config = {"image_size": image_size, "base_channels": base_channels, "seed": seed}
        self.image_size = image_size
        w = {r: _width(base_channels, r) for r in _WIDTH}
        sn = nn.utils.parametrizations.spectral_norm
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            half = image_size // 2
            self.stem = nn.Sequential(
                sn(nn.Conv2d(3, w[half], 4, 2, 1, bias=False)), nn.LeakyReLU(0.2)
            )
            sides = [2**i for i in range(int(math.log2(half)), 3, -1)]  # half .. 16
            self.downs = nn.ModuleList(_DownBlock(w[s], w[s // 2]) for s in sides)
            self.head = nn.Sequential(
                sn(nn.Conv2d(w[8], w[8] // 2, 1, 1, 0, bias=False)),
                nn.BatchNorm2d(w[8] // 2),
                nn.LeakyReLU(0.2),
                sn(nn.Conv2d(w[8] // 2, 1, 4, 1, 0, bias=False)),  # 8x8 -> 5x5 patch logits
            )
            whole_ups = int(math.log2(image_size // 8))
            self.decode_whole = _decoder(w[8], whole_ups, max(8, base_channels // 2))
            self.decode_part = _decoder(w[16], whole_ups - 1, max(8, base_channels // 2))
        self._sides = sides
        _init_dcgan(self, seed)

    def forward(
        self, x: torch.Tensor, reconstruct: int = 0, part: int = 0
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Score images `(B, 3, S, S)`: logits `(B,)`.

        With `reconstruct=n`, also rebuild the first n images: the whole picture at S px from
        the 8x8 map, and quadrant `part` (0 top-left, 1 top-right, 2 bottom-left, 3
        bottom-right) at S/2 px from that quadrant of the 16x16 map. Returns (logits, whole,
        part picture).
        """
        if x.ndim != 4 or tuple(x.shape[1:]) != (3, self.image_size, self.image_size):
            raise ValueError(
                f"`x` must have shape (B, 3, {self.image_size}, {self.image_size}), "
                f"got {tuple(x.shape)}"
            )
        h = self.stem(x)
        maps = {}
        for side, down in zip(self._sides, self.downs, strict=True):
            h = down(h)
            maps[side // 2] = h
        logits = self.head(maps[8]).mean(dim=(1, 2, 3))  # (B,)
        if not reconstruct:
            return logits
        whole = self.decode_whole(maps[8][:reconstruct])
        row, col = divmod(part, 2)
        quadrant = maps[16][:reconstruct, :, row * 8 : row * 8 + 8, col * 8 : col * 8 + 8]
        return logits, whole, self.decode_part(quadrant)


def reconstruction_loss(
    real: torch.Tensor, whole: torch.Tensor, piece: torch.Tensor, part: int
) -> torch.Tensor:
    """Mean square error of the discriminator's two reconstructions of `real` (B, 3, S, S)."""
    size = real.shape[-1] // 2
    row, col = divmod(part, 2)
    target = real[:, :, row * size : row * size + size, col * size : col * size + size]
    return F.mse_loss(whole.float(), real.float()) + F.mse_loss(piece.float(), target.float())


GENERATOR_TYPES = {"Generator": Generator, "FastGenerator": FastGenerator}


def generator_class(model_dir: str | Path):
    """The generator class a model folder's `config.json` names.

    Raises:
        ValueError: If the config names no known generator.
    """
    config = json.loads((Path(model_dir) / CONFIG_NAME).read_text())
    kind = config.get("model_type", "Generator") if isinstance(config, dict) else None
    if kind not in GENERATOR_TYPES:
        kind = kind if isinstance(config, dict) else type(config).__name__
        raise ValueError(f"{Path(model_dir) / CONFIG_NAME} describes a {kind}, not a Generator")
    return GENERATOR_TYPES[kind]


def load_generator(model_dir: str | Path):
    """Build and load the generator saved in `model_dir` (either class; CPU, eval mode)."""
    return generator_class(model_dir).from_pretrained(model_dir)
