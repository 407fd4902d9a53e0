"""Measure GAN training throughput (images/s) of candidate configs on this machine.

Each candidate trains for a fixed wall-clock time through `generation.training.train`
(the real code path: DiffAugment, EMA, hinge loss) in a throw-away directory.

Examples:
    python scripts/benchmark_gan.py --data /work/atelier-data/emoji64/images \\
        --seconds 60 --threads 1
    python scripts/benchmark_gan.py --data /work/atelier-data/mixed128/images --image-size 128 \\
        --only fastgan-64 --batch-size 32 --device cuda     # on a lent GPU, bf16 autocast
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CANDIDATES = {
    "dcgan-g32-d32": dict(g_channels=32, d_channels=32),
    "dcgan-g48-d48": dict(g_channels=48, d_channels=48),
    "dcgan-g64-d64": dict(g_channels=64, d_channels=64),
    "fastgan-16": dict(architecture="fastgan", g_channels=16, d_channels=16),
    "fastgan-32": dict(architecture="fastgan", g_channels=32, d_channels=32),
    "fastgan-64": dict(architecture="fastgan", g_channels=64, d_channels=64),
}


def measure(
    name: str, data: Path, seconds: float, batch_size: int, image_size: int, device: str = "cpu"
) -> dict:
    """Train candidate `name` for `seconds` and return its parameter counts and images/s."""
    from generation.gan import count_parameters
    from generation.training import TrainConfig, build_models, train

    config = TrainConfig(
        image_size=image_size,
        batch_size=batch_size,
        total_steps=10**9,
        sample_every_steps=0,
        checkpoint_every_seconds=0,
        log_every_steps=10,
        **CANDIDATES[name],
    )
    g, d = build_models(config)
    warmup_steps = 5
    marks: dict = {}

    def progress(p) -> None:
        if p.event == "step" and p.step >= warmup_steps and "t0" not in marks:
            marks["t0"], marks["s0"] = time.monotonic(), p.step
        if "t0" in marks:
            marks["t1"], marks["s1"] = time.monotonic(), p.step

    start = time.monotonic()
    with tempfile.TemporaryDirectory() as out:
        train(
            config,
            data,
            out,
            on_report=progress,
            should_cancel=lambda: time.monotonic() - start > seconds,
            device=device,
        )
    rate = (marks["s1"] - marks["s0"]) * batch_size / (marks["t1"] - marks["t0"])
    return {
        "name": name,
        "g_params": count_parameters(g),
        "d_params": count_parameters(d),
        "images_per_second": rate,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--only", nargs="*", default=list(CANDIDATES), choices=list(CANDIDATES))
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    for name in args.only:
        r = measure(name, args.data, args.seconds, args.batch_size, args.image_size, args.device)
        print(
            f"{r['name']}: G {r['g_params']:,} params, D {r['d_params']:,} params, "
            f"{r['images_per_second']:.1f} img/s "
            f"({args.device}, {args.threads} thread(s), batch {args.batch_size})",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
