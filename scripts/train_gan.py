"""Train a GAN on a folder of images (thin command line over `generation.training.train`).

SIGTERM or Ctrl-C stops the run gracefully: the current step finishes, a
checkpoint and the model are written, and `--resume` continues exactly there.

Examples:
    python scripts/train_gan.py --data /work/atelier-data/emoji64/images \\
        --out /work/atelier-train/emoji64 --total-steps 120000 --threads 1 --resume
    kill -TERM <pid>      # stop; the last checkpoint is kept
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def parse_args(argv: list[str] | None):
    from generation.training import TrainConfig

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True, help="folder of training images")
    parser.add_argument(
        "--out", type=Path, required=True, help="run directory (checkpoints, samples, model)"
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue from OUT/checkpoint.pt if it exists"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--no-progress-bar", action="store_true")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto")
    parser.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto")
    defaults = TrainConfig()
    for f in dataclasses.fields(TrainConfig):
        value = getattr(defaults, f.name)
        flag = "--" + f.name.replace("_", "-")
        if isinstance(value, bool):
            parser.add_argument(
                flag, type=lambda s: s.lower() in ("1", "true", "yes"), default=value
            )
        elif isinstance(value, tuple):
            parser.add_argument(flag, nargs="+", type=type(value[0]), default=list(value))
        else:
            parser.add_argument(flag, type=type(value), default=value)
    args = parser.parse_args(argv)
    config = TrainConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)})
    return args, config


def main(argv: list[str] | None = None) -> int:
    args, config = parse_args(argv)

    import torch

    from generation.training import stop_on_signals, train

    torch.set_num_threads(args.threads)

    def progress(p) -> None:
        if p.event != "step":
            print(
                f"[{p.event}] step {p.step}/{p.total_steps} {p.path or ''}",
                file=sys.stderr,
                flush=True,
            )

    print(f"config: {config}", file=sys.stderr, flush=True)
    with stop_on_signals() as stop:
        result = train(
            config,
            args.data,
            args.out,
            resume=args.resume,
            on_report=progress,
            should_cancel=stop.is_set,
            progress_bar=not args.no_progress_bar,
            device=args.device,
            precision=args.precision,
        )
    print(
        f"{'stopped' if result.stopped else 'finished'} at step {result.step}; "
        f"model {result.model_dir} sha256 {result.model_sha256}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
