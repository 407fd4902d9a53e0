"""Train the visual-word vocabulary of provenance.local_features (provenance/data/orb_words.npy).

    python scripts/build_training_set.py --out /work/atelier-data/emoji128 --size 128
    apt-get download gnome-backgrounds=43.1-1 && dpkg-deb -x gnome-backgrounds_*.deb /tmp/gb
    python scripts/train_vocabulary.py --emoji /work/atelier-data/emoji128/images \\
        --wallpapers /tmp/gb/usr/share/backgrounds/gnome

Data: the first 1,000 Noto Color Emoji glyphs (Apache-2.0) and 384 px patches of the
gnome-backgrounds wallpapers (43.1-1; CC-BY-SA 3.0 and GPL as its copyright file says),
taken from the wallpapers' *last* patches. bench/identify_bench.py draws its sources from
emoji 1000 onwards and the wallpapers' first patches, so the words never saw a bench source.
The vocabulary is a codebook, not a picture: 4,096 binary centres of ORB descriptors.

Method: ORB descriptors (provenance.local_features.extract, the settings registration uses)
as 256 bits of 0/1, k-means in that space (faiss, 20 iterations, seed 1), each centre
rounded back to bits. Deterministic for the same inputs and faiss build.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from PIL import Image

OUT = Path(__file__).resolve().parents[1] / "provenance" / "data" / "orb_words.npy"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emoji", type=Path, required=True)
    parser.add_argument("--wallpapers", type=Path, required=True)
    parser.add_argument("--emoji-count", type=int, default=1000)
    parser.add_argument("--wallpaper-patches", type=int, default=300)
    parser.add_argument("--per-image", type=int, default=200)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    import faiss

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from identify_bench import wallpaper_patches

    from provenance.local_features import VOCABULARY_SIZE, extract

    images = [
        Image.open(p).convert("RGB") for p in sorted(args.emoji.glob("*.png"))[: args.emoji_count]
    ]
    patches = wallpaper_patches(args.wallpapers, 100_000, 0)
    images += patches[-args.wallpaper_patches :]
    rng = np.random.default_rng(1)
    sample = []
    for img in images:
        d = extract(img).descriptors
        if len(d) > args.per_image:
            d = d[rng.choice(len(d), args.per_image, replace=False)]
        sample.append(d)
    descriptors = np.concatenate(sample)
    bits = np.unpackbits(descriptors, axis=1).astype(np.float32)
    print(f"{len(images)} images, {len(descriptors)} descriptors")
    kmeans = faiss.Kmeans(256, VOCABULARY_SIZE, niter=20, seed=1, max_points_per_centroid=100)
    kmeans.train(bits)
    centres = np.packbits(kmeans.centroids > 0.5, axis=1).astype(np.uint8)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.save(args.out, centres, allow_pickle=False)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"wrote {args.out} ({centres.shape}, sha256 {digest})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
