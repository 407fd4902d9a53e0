"""Does "tune my model on what collectors liked" move a model toward the liked pictures?

The mechanism of `marketplace.tuning` (generation.training.train with `init_model` and
`sample_weights`, then `generation.quality.compare_generators`), measured on the bundled
model without a database: its own samples stand in for its training images (weight 1), and
the `--liked` samples nearest in style to one anchor sample stand in for the works collectors
favourited (weight 1 + 4 x 2, two favourites each). Prints the figures before and after;
held-out latents (another seed) measure them, so the liked pictures themselves are not
simply regenerated.

    python bench/tuning_bench.py --steps 150 --out /tmp/tuning.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--training", type=int, default=48, help="stand-in training images")
    parser.add_argument("--liked", type=int, default=6)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    import numpy as np
    import torch

    from generation.gan import Generator
    from generation.gan_pipeline import default_model_dir
    from generation.quality import _render, compare_generators, style_features
    from generation.training import TrainConfig, train

    base_dir = default_model_dir()
    base = Generator.from_pretrained(base_dir)
    pool = _render(base, base.sample_latents(args.training, torch.Generator().manual_seed(1)))
    features = style_features(pool)
    anchor = features[0]
    order = np.argsort(np.linalg.norm(features - anchor, axis=1))
    liked_ids = set(order[: args.liked].tolist())
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "images"
        data.mkdir()
        weights = {}
        for i, picture in enumerate(pool):
            name = f"{'liked' if i in liked_ids else 't'}{i:04d}.png"
            picture.save(data / name)
            if i in liked_ids:
                weights[name] = 1 + 4 * 2.0
        config = TrainConfig(
            image_size=64,
            latent_dim=base.latent_dim,
            g_channels=base.config["base_channels"],
            max_channels=base.config["max_channels"],
            batch_size=32,
            total_steps=args.steps,
            g_lr=1e-4,
            d_lr=1e-4,
            min_images=1,
            sample_every_steps=0,
            checkpoint_every_seconds=0,
            log_every_steps=max(1, args.steps // 10),
            num_samples=16,
        )
        started = time.perf_counter()
        result = train(config, data, Path(tmp) / "run", init_model=base_dir, sample_weights=weights)
        seconds = time.perf_counter() - started
        liked = [pool[i] for i in sorted(liked_ids)]
        training = [pool[i] for i in range(len(pool)) if i not in liked_ids]
        figures = compare_generators(
            base_dir, result.model_dir, liked, training, samples=64, seed=12345
        )
        grids = figures.pop("grids")
        if args.out:
            for name, grid in zip(("before", "after"), grids, strict=True):
                grid.save(args.out.with_name(f"{args.out.stem}-{name}.png"))
    report = {"steps": args.steps, "train_seconds": round(seconds, 1), **figures}
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
