"""Sampling images from a trained `generation.gan.Generator`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from generation.gan import Generator, weights_sha256
from generation.training_report import to_uint8


@dataclass(frozen=True)
class GANPipelineOutput:
    """Images made by `GANPipeline`.

    Attributes:
        images: RGB `PIL.Image.Image`s, one per seed.
        seeds: The seed of each image; `pipeline(seed=s, num_images=1)` remakes image s.
        model_sha256: Id of the model that made them, when known.
    """

    images: list
    seeds: list[int]
    model_sha256: str | None


class GANPipeline:
    """Turns seeds into images with a GAN generator, on CPU in float32 unless moved.

    Args:
        generator: A trained generator (put in eval mode here).
        model_sha256: The generator's model id, recorded in outputs.
    """

    def __init__(self, generator: Generator, model_sha256: str | None = None) -> None:
        self.generator = generator.eval()
        self.model_sha256 = model_sha256

    @classmethod
    def from_pretrained(cls, pretrained_directory: str | Path) -> GANPipeline:
        """Load a generator saved with `save_pretrained` and remember its model id."""
        return cls(
            Generator.from_pretrained(pretrained_directory), weights_sha256(pretrained_directory)
        )

    def __call__(self, num_images: int = 1, seed: int = 0) -> GANPipelineOutput:
        """Generate `num_images` images from seeds `seed`, `seed + 1`, ...

        Each image's latent comes from its own seeded `torch.Generator`, so an
        image depends only on the model and its seed, not on the batch.

        Args:
            num_images: How many images, 1 to 256.
            seed: Seed of the first image, >= 0.

        Returns:
            A `GANPipelineOutput`.

        Raises:
            ValueError: If `num_images` or `seed` is out of range.
        """
        from PIL import Image

        if not 1 <= num_images <= 256:
            raise ValueError(f"`num_images` must be in [1, 256], got {num_images}")
        if seed < 0:
            raise ValueError(f"`seed` must be >= 0, got {seed}")
        seeds = list(range(seed, seed + num_images))
        latents = torch.cat(
            [self.generator.sample_latents(1, torch.Generator().manual_seed(s)) for s in seeds]
        )  # (N, latent_dim)
        with torch.no_grad():
            images = self.generator(latents)  # (N, 3, S, S)
        pixels = to_uint8(images).permute(0, 2, 3, 1).numpy()  # (N, S, S, 3)
        return GANPipelineOutput([Image.fromarray(p) for p in pixels], seeds, self.model_sha256)
