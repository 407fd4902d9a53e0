"""Memorisation audit of a GAN: how close do its samples come to its training images?

For `--samples` seeded samples (at the model's own size, truncation `--truncation`):
- PDQ: the Hamming distance to the nearest training image, over all 8 rotations and
  mirrors of the sample (`provenance.fingerprint.perceptual_hash`), against the PDQ
  hashes recorded in the model's `training_data.json` (converted from its bit order, see
  `generation.training_data`). Distance <= 31 is what the marketplace treats as a copy.
- Pixels: the RMS difference (0-255 levels) to the nearest training image or its mirror
  image (training flips images horizontally), on the training images themselves.
  As a scale, the same figure between each training image and its nearest other
  training image is reported too.

Writes a JSON report and a picture of the 8 closest pairs by pixels and by PDQ.

Example:
    python scripts/memorisation_audit.py --data /work/atelier-data/emoji64/images
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PAIRS = 8


def load_training_set(model_dir: Path, data: Path, image_size: int):
    """Training records from `training_data.json` and the matching decoded images `(M, S, S, 3)`."""
    import hashlib

    import numpy as np
    from PIL import Image

    from generation.training_data import training_pdq_to_provenance_hex

    record = json.loads((model_dir / "training_data.json").read_text())
    if not data.is_dir():
        print(f"{data} is missing; rebuilding it with scripts/build_training_set.py", flush=True)
        subprocess.run(
            [
                sys.executable,
                str(REPO / "scripts" / "build_training_set.py"),
                "--out",
                str(data.parent),
                "--size",
                str(image_size),
            ],
            check=True,
        )
    pixels, mismatched = [], 0
    for item in record["images"]:
        raw = (data / item["file"]).read_bytes()
        if hashlib.sha256(raw).hexdigest() != item["sha256"]:
            mismatched += 1
        image = Image.open(data / item["file"]).convert("RGB")
        if image.size != (image_size, image_size):
            image = image.resize((image_size, image_size), Image.Resampling.LANCZOS)
        pixels.append(np.asarray(image, dtype=np.uint8))
    if mismatched:
        raise SystemExit(
            f"{mismatched} of {len(record['images'])} files in {data} differ from the "
            "model's training_data.json; point --data at the images it was trained on"
        )
    legacy = record.get("perceptual_hash") == "pdq"  # bit 0 first, before pdq-provenance
    hashes = [
        (training_pdq_to_provenance_hex(item["pdq"]) if legacy else item["pdq"])
        if item.get("pdq")
        else None
        for item in record["images"]
    ]
    return record, np.stack(pixels), hashes


def nearest_pixels(samples, training, chunk: int = 256):
    """Nearest training image (or its mirror) by L2 for each sample: (index, rms levels) arrays."""
    import numpy as np
    import torch

    n, m = samples.shape[0], training.shape[0]
    flat_t = torch.from_numpy(training.reshape(m, -1).astype(np.float32))  # (M, D)
    mirrored = torch.from_numpy(training[:, :, ::-1].reshape(m, -1).astype(np.float32))
    bank = torch.cat([flat_t, mirrored])  # (2M, D)
    bank_sq = (bank * bank).sum(1)  # (2M,)
    dims = bank.shape[1]
    best_i, best_d = np.empty(n, dtype=np.int64), np.empty(n)
    for start in range(0, n, chunk):
        q = torch.from_numpy(samples[start : start + chunk].reshape(-1, dims).astype(np.float32))
        d2 = (q * q).sum(1, keepdim=True) + bank_sq[None, :] - 2 * q @ bank.T  # (c, 2M)
        d2 = d2.clamp_min_(0)
        values, index = d2.min(1)
        best_i[start : start + chunk] = (index % m).numpy()
        best_d[start : start + chunk] = np.sqrt(values.double().numpy() / dims)
    return best_i, best_d


def training_self_distance(training, chunk: int = 256):
    """RMS distance from each training image to its nearest *other* training image (or mirror)."""
    import numpy as np
    import torch

    m = training.shape[0]
    flat = torch.from_numpy(training.reshape(m, -1).astype(np.float32))
    mirrored = torch.from_numpy(training[:, :, ::-1].reshape(m, -1).astype(np.float32))
    bank = torch.cat([flat, mirrored])
    bank_sq = (bank * bank).sum(1)
    dims = bank.shape[1]
    out = np.empty(m)
    for start in range(0, m, chunk):
        q = flat[start : start + chunk]
        d2 = ((q * q).sum(1, keepdim=True) + bank_sq[None, :] - 2 * q @ bank.T).clamp_min_(0)
        rows = torch.arange(q.shape[0])
        d2[rows, start + rows] = float("inf")  # itself
        d2[rows, m + start + rows] = float("inf")  # its own mirror
        out[start : start + chunk] = np.sqrt(d2.min(1).values.double().numpy() / dims)
    return out


def nearest_pdq(sample_hashes, training_hashes):
    """Per sample: (nearest training hash index, distance), the minimum over 8 dihedral variants."""
    import numpy as np

    from provenance.fingerprint import distances, hashes_to_array

    valid = [i for i, h in enumerate(training_hashes) if h]
    packed = hashes_to_array([training_hashes[i] for i in valid])
    best_i, best_d = [], []
    for variants in sample_hashes:
        d = np.min(np.stack([distances(v, packed) for v in variants]), axis=0)
        j = int(np.argmin(d))
        best_i.append(valid[j])
        best_d.append(int(d[j]))
    return np.array(best_i), np.array(best_d)


def pairs_picture(rows: list[tuple[str, list[tuple]]], samples, training, tile: int = 128):
    """Rows of (sample, nearest training image) pairs with captions, as one RGB image."""
    from PIL import Image, ImageDraw

    pad, caption, title = 6, 28, 22
    width = PAIRS * (2 * tile + 3 * pad) + pad
    height = len(rows) * (title + tile + caption + pad) + pad
    canvas = Image.new("RGB", (width, height), (236, 236, 236))
    draw = ImageDraw.Draw(canvas)
    y = pad
    for heading, pairs in rows:
        draw.text((pad, y + 4), heading, fill=(0, 0, 0))
        y += title
        for k, (sample_i, train_i, text) in enumerate(pairs):
            x = pad + k * (2 * tile + 3 * pad)
            a = Image.fromarray(samples[sample_i]).resize((tile, tile), Image.Resampling.NEAREST)
            b = Image.fromarray(training[train_i]).resize((tile, tile), Image.Resampling.NEAREST)
            canvas.paste(a, (x, y))
            canvas.paste(b, (x + tile + pad, y))
            draw.text((x, y + tile + 3), text, fill=(0, 0, 0))
        y += tile + caption + pad
    return canvas


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=None, help="default: the bundled model")
    parser.add_argument("--data", type=Path, default=Path("/work/atelier-data/emoji64/images"))
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0, help="seed of the first sample")
    parser.add_argument("--truncation", type=float, default=1.0)
    parser.add_argument(
        "--out", type=Path, default=REPO / "docs" / "model_card" / "memorisation.json"
    )
    parser.add_argument(
        "--image", type=Path, default=REPO / "docs" / "model_card" / "memorisation_pairs.png"
    )
    args = parser.parse_args(argv)

    import numpy as np
    import torch

    from generation.gan_pipeline import load_model
    from provenance.fingerprint import PDQ_MATCH_DISTANCE, PDQ_MIN_QUALITY, perceptual_hash

    torch.set_num_threads(1)
    started = time.monotonic()
    pipe = load_model(args.model)
    model_dir = Path(args.model) if args.model else None
    if model_dir is None:
        from generation.gan_pipeline import default_model_dir

        model_dir = default_model_dir()
    elif (model_dir / "model" / "training_data.json").is_file():
        model_dir = model_dir / "model"
    record, training, training_hashes = load_training_set(model_dir, args.data, pipe.image_size)
    print(f"{len(training)} training images; sampling {args.samples} ...", flush=True)

    images = []
    for start in range(0, args.samples, 250):
        count = min(250, args.samples - start)
        images += pipe(num_images=count, seed=args.seed + start, truncation=args.truncation).images
    samples = np.stack([np.asarray(im, dtype=np.uint8) for im in images])  # (N, S, S, 3)
    hashes = [perceptual_hash(im) for im in images]

    pdq_i, pdq_d = nearest_pdq([h.dihedral for h in hashes], training_hashes)
    strong = np.array([h.quality >= PDQ_MIN_QUALITY for h in hashes])
    px_i, px_d = nearest_pixels(samples, training)
    self_d = training_self_distance(training)

    def summary(values) -> dict:
        values = np.asarray(values, dtype=np.float64)
        return {
            "min": float(values.min()),
            "p05": float(np.percentile(values, 5)),
            "median": float(np.median(values)),
            "mean": float(values.mean()),
        }

    files = [item["file"] for item in record["images"]]
    by_px = np.argsort(px_d, kind="stable")[:PAIRS]
    by_pdq = np.lexsort((px_d, pdq_d))[:PAIRS]
    matches = np.flatnonzero(pdq_d <= PDQ_MATCH_DISTANCE)
    result = {
        "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "model_sha256": pipe.model_sha256,
        "model_step": record.get("step"),
        "training_images": len(training),
        "samples": args.samples,
        "seeds": [args.seed, args.seed + args.samples - 1],
        "truncation": args.truncation,
        "pdq": {
            "nearest_distance": summary(pdq_d),
            "match_threshold": PDQ_MATCH_DISTANCE,
            "samples_within_threshold": len(matches),
            "strong_samples": int(strong.sum()),
            "strong_samples_within_threshold": int((strong & (pdq_d <= PDQ_MATCH_DISTANCE)).sum()),
            "within_threshold": [
                {
                    "seed": args.seed + int(i),
                    "training_file": files[pdq_i[i]],
                    "distance": int(pdq_d[i]),
                    "sample_quality": hashes[i].quality,
                    "pixel_rms_to_that_image": None,
                }
                for i in matches
            ],
        },
        "pixels": {
            "nearest_rms_levels": summary(px_d),
            "training_to_nearest_other_training_rms_levels": summary(self_d),
            # some training images are (mirror) duplicates of others, so compare with the
            # distribution, not with the closest training pair
            "samples_closer_than_training_p05": int((px_d < np.percentile(self_d, 5)).sum()),
            "samples_closer_than_training_median": int((px_d < np.median(self_d)).sum()),
        },
        "closest_by_pixels": [
            {
                "seed": args.seed + int(i),
                "training_file": files[px_i[i]],
                "rms_levels": float(px_d[i]),
                "pdq_distance_to_nearest": int(pdq_d[i]),
            }
            for i in by_px
        ],
        "closest_by_pdq": [
            {
                "seed": args.seed + int(i),
                "training_file": files[pdq_i[i]],
                "pdq_distance": int(pdq_d[i]),
                "sample_quality": hashes[i].quality,
            }
            for i in by_pdq
        ],
    }
    for entry, i in zip(result["pdq"]["within_threshold"], matches, strict=True):
        diff = samples[i].astype(np.float64) - training[pdq_i[i]].astype(np.float64)
        entry["pixel_rms_to_that_image"] = float(np.sqrt(np.mean(diff**2)))
    result["seconds"] = round(time.monotonic() - started, 1)

    rows = [
        (
            f"closest by pixels (sample | nearest training image or its mirror), "
            f"{args.samples} samples, psi {args.truncation:g}",
            [(i, px_i[i], f"seed {args.seed + i}: rms {px_d[i]:.1f}") for i in by_px],
        ),
        (
            "closest by PDQ over 8 rotations/mirrors (sample | training image)",
            [
                (i, pdq_i[i], f"seed {args.seed + i}: pdq {pdq_d[i]} q{hashes[i].quality}")
                for i in by_pdq
            ],
        ),
    ]
    args.image.parent.mkdir(parents=True, exist_ok=True)
    pairs_picture(rows, samples, training).save(args.image, format="PNG")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")

    p, x = result["pdq"], result["pixels"]
    print(
        f"model {pipe.model_sha256[:12]} (step {record.get('step')}), {args.samples} samples, "
        f"psi {args.truncation:g}\n"
        f"  PDQ to nearest training image: min {p['nearest_distance']['min']:.0f}, "
        f"median {p['nearest_distance']['median']:.0f}; "
        f"{p['samples_within_threshold']} samples within {PDQ_MATCH_DISTANCE} "
        f"({p['strong_samples_within_threshold']} of {p['strong_samples']} with quality >= "
        f"{PDQ_MIN_QUALITY})\n"
        f"  pixel RMS to nearest training image: min {x['nearest_rms_levels']['min']:.1f}, "
        f"median {x['nearest_rms_levels']['median']:.1f} levels; between training images: "
        f"p05 {x['training_to_nearest_other_training_rms_levels']['p05']:.1f}, median "
        f"{x['training_to_nearest_other_training_rms_levels']['median']:.1f}; samples closer "
        f"than that p05: {x['samples_closer_than_training_p05']}, than that median: "
        f"{x['samples_closer_than_training_median']}\n"
        f"  wrote {args.out} and {args.image} in {result['seconds']} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
