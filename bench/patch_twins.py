"""Which patch sources of the identify bench another registered patch already shows.

    python bench/patch_twins.py --wallpapers /tmp/gb/usr/share/backgrounds/gnome \\
        --photos /work/atelier-data/photos --results bench/results/identify.json

The bench's wallpaper patches and photograph patches are tiles of a few large pictures, and
every other tile of the same picture is registered too (as another source or a
distractor). Where a wallpaper repeats (stripes, a pixel grid, wood grain, truchet tiles),
another tile shows what a crop of a source shows, and no method can say which of them the
copy was made from: "similar to" is the honest answer. For each source this finds its
**twin score**: the best normalised cross-correlation (OpenCV's TM_CCOEFF_NORMED) of its
centred 70%-area crop anywhere inside another tile of the same picture (1.0: the crop
appears there unchanged). It then splits identify_bench.py's results (the `outcomes` it
writes) by twin score, in fixed bands chosen before looking at any result: below 0.9
(nothing else shows it), 0.9 to 0.97, and 0.97 and above (another tile shows the crop as
closely as a JPEG of it would). Writes bench/results/patch_twins.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from copy_families import families
from identify_bench import PATCH, labelled_patches

BANDS = ((0.0, 0.9, "below 0.9"), (0.9, 0.97, "0.9 to 0.97"), (0.97, 1.01, "0.97 and above"))


def grey(img) -> np.ndarray:
    return np.asarray(img.convert("L"), dtype=np.float32)


def twin_score(source, others) -> float:
    """The best correlation of `source`'s centred 70%-area crop inside any of `others`."""
    import cv2

    side = round(PATCH * 0.7**0.5)
    start = (PATCH - side) // 2
    crop = grey(source)[start : start + side, start : start + side]
    if float(crop.std()) < 1e-3:
        return 1.0  # a flat crop is shown by any flat tile
    best = 0.0
    for other in others:
        best = max(best, float(cv2.matchTemplate(grey(other), crop, cv2.TM_CCOEFF_NORMED).max()))
    return best


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--wallpapers", type=Path, required=True)
    parser.add_argument("--photos", type=Path, default=None)
    parser.add_argument("--per-kind", type=int, default=30)
    parser.add_argument("--results", type=Path, default=Path("bench/results/identify.json"))
    parser.add_argument("--out", type=Path, default=Path("bench/results/patch_twins.json"))
    args = parser.parse_args()

    outcomes = json.loads(args.results.read_text()).get("outcomes", {})
    n = args.per_kind
    folders = {"wallpaper patches": args.wallpapers, "photographs": args.photos}
    names = list(families())
    report = {"sources": [], "bands": []}
    tally = defaultdict(lambda: defaultdict(int))
    for kind, folder in folders.items():
        if folder is None:
            continue
        patches = labelled_patches(kind, folder)
        for i, (name, patch) in enumerate(patches[: 2 * n]):
            others = [p for j, (other, p) in enumerate(patches) if other == name and j != i]
            score = twin_score(patch, others)
            split = "tuning" if i < n else "held-out"
            letters = outcomes.get(f"{kind}/{i}", "")
            report["sources"].append(
                {
                    "kind": kind,
                    "split": split,
                    "index": i,
                    "file": name,
                    "twin_score": round(score, 4),
                    "outcomes": letters,
                }
            )
            band = next(label for low, high, label in BANDS if low <= score < high)
            row = tally[(kind, split, band)]
            row["sources"] += 1
            row["copies"] += len(letters)
            row["named"] += letters.count("N")
            row["wrong"] += letters.count("W")
            for family, letter in zip(names, letters, strict=False):
                if family.startswith("crop"):
                    row["crop copies"] += 1
                    row["crop named"] += letter == "N"
    print("| kind | split | twin score | sources | named (all copies) | named (crops) | wrong |")
    print("|---|---|---|---|---|---|---|")
    for (kind, split, band), row in sorted(tally.items()):
        named = f"{row['named'] / row['copies']:.0%}" if row["copies"] else "-"
        crops = f"{row['crop named'] / row['crop copies']:.0%}" if row["crop copies"] else "-"
        print(
            f"| {kind} | {split} | {band} | {row['sources']} | {named} | {crops} | {row['wrong']} |"
        )
        report["bands"].append({"kind": kind, "split": split, "band": band, **row})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
