"""Choose identification's disambiguation values (marketplace.identification).

    python scripts/build_training_set.py --out /work/atelier-data/emoji128 --size 128
    python scripts/tune_disambiguation.py --emoji /work/atelier-data/emoji128/images

Every one of the first `--sources` emoji is copied through bench/identify_bench.py's
transformations; each copy's PDQ hash (8 dihedral variants) is compared with every emoji's
(strong hashes only). For each (margin, colour ratio, colour maximum) the table counts the
copies a rule would name correctly and wrongly: name the nearest work when no other lies
within `margin` bits of it; otherwise name the work with the smallest colour distance if it
is below `ratio` times the next and at most `maximum`; otherwise name none ("similar to").
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import numpy as np
from PIL import Image


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--emoji", type=Path, required=True)
    parser.add_argument("--sources", type=int, default=240)
    args = parser.parse_args()

    from identify_bench import TRANSFORMS

    from provenance.fingerprint import (
        PDQ_MATCH_DISTANCE,
        colour_distance,
        colour_histogram,
        hashes_to_array,
        perceptual_hash,
    )
    from provenance.images import decode_image

    images = [Image.open(p).convert("RGB") for p in sorted(args.emoji.glob("*.png"))]
    hashes = [perceptual_hash(im, dihedral=False) for im in images]
    strong = np.array([h.strong for h in hashes])
    bits = np.unpackbits(hashes_to_array([h.hex for h in hashes]), axis=1)  # (N, 256)
    histograms: dict[int, np.ndarray] = {}

    cases = []  # (source, best distance, {candidate: pdq distance}, {candidate: colour})
    for source in range(args.sources):
        for transform in TRANSFORMS.values():
            copy = decode_image(transform(images[source])).rgb
            phash = perceptual_hash(copy)
            if not phash.strong:
                continue
            query = np.unpackbits(hashes_to_array(list(phash.dihedral)), axis=1)  # (8, 256)
            d = (query[:, None, :] != bits[None, :, :]).sum(-1).min(0)
            d = np.where(strong, d, 999)
            best = int(d.min())
            if best > PDQ_MATCH_DISTANCE:
                continue
            near = {int(j): int(d[j]) for j in np.flatnonzero(d <= best + 16)}
            q = colour_histogram(copy)
            colours = {}
            for j in near:
                if j not in histograms:
                    histograms[j] = colour_histogram(images[j])
                colours[j] = colour_distance(q, histograms[j])
            cases.append((source, best, near, colours))

    print(f"{len(cases)} copies within PDQ distance {PDQ_MATCH_DISTANCE} of some emoji")
    print("| margin | ratio | maximum | named correctly | named wrongly |")
    print("|---|---|---|---|---|")
    for margin in (0, 8, 12, 16):
        for ratio in (0.6, 0.8):
            for maximum in (2.0, 0.3, 0.15):
                right = wrong = 0
                for source, best, near, colours in cases:
                    rivals = [j for j, dist in near.items() if dist <= best + margin]
                    if margin == 0:
                        rivals = [j for j, dist in near.items() if dist == best]
                    if len(rivals) == 1:
                        pick = rivals[0]
                    else:
                        first, second = sorted(rivals, key=colours.get)[:2]
                        ok = colours[first] < ratio * colours[second]
                        pick = first if ok and colours[first] <= maximum else None
                    if pick is not None:
                        right += pick == source
                        wrong += pick != source
                print(f"| {margin} | {ratio} | {maximum} | {right} | {wrong} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
