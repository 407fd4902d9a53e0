"""Tuning runs for local-feature naming: the identify bench's pipeline in memory, on the
*tuning* split only, so thresholds are chosen without touching the held-out sources.

    python bench/tune_local_features.py --per-kind 8 --distractors 1500 \
        --families "meme text,caption bars,sticker 10%,crop 50% off-centre,rotate 15,jpeg q30"

Builds the word index over `--per-kind` x 2 sources per kind (all within the identify
bench's tuning split: its first 30) and `--distractors` more, copies each source through the
families, and records for every candidate the keypoint and pixel figures; then prints, per
family, the share named, the wrong names and how often the source was shortlisted, for the
thresholds in provenance.local_features and for a range of edge-agreement bars. Reads the
images cached by bench/identify_bench.py's pools under --data (wallpaper/, gan/, stylised/
PNGs) and the emoji folder.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from itertools import zip_longest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from copy_families import families
from identify_bench import gan_images, stylised_contents, stylised_images, wallpaper_patches
from PIL import Image


def decide(rows, edge_bar):
    """name_source's rule over recorded figures, with another edge-agreement bar."""
    from provenance import local_features as lf

    ok = [
        r
        for r in rows
        if r["inliers"] >= lf.MIN_INLIERS
        and r["edge"] >= edge_bar
        and r["overlap"] >= lf.MIN_OVERLAP
    ]
    if len(ok) <= 1:
        return ok[0] if ok else None
    ok.sort(key=lambda r: (r["colour"], r["mirrored"]))
    if ok[0]["colour"] < lf.COLOUR_RATIO * ok[1]["colour"]:
        return ok[0]
    close = [r for r in ok if lf.COLOUR_RATIO * r["colour"] <= ok[0]["colour"]]
    unmirrored = [r for r in close if not r["mirrored"]]
    return unmirrored[0] if len(unmirrored) == 1 else None


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--emoji", type=Path, required=True)
    parser.add_argument("--wallpapers", type=Path, required=True)
    parser.add_argument("--per-kind", type=int, default=8)
    parser.add_argument("--distractors", type=int, default=1500)
    parser.add_argument("--families", default="", help="comma-separated; default: all")
    args = parser.parse_args()

    from generation.gan_pipeline import default_model_dir
    from marketplace.local_matching import PIXEL_CHECKS, SHORTLIST
    from provenance import local_features as lf
    from provenance.images import decode_image

    n = 2 * args.per_kind
    emoji = [Image.open(p).convert("RGB") for p in sorted(args.emoji.glob("*.png"))]
    patches = wallpaper_patches(args.wallpapers, 100_000, 0)
    contents = stylised_contents(emoji, patches)
    stylised = stylised_images(contents, n + 300, 0)
    model = default_model_dir()
    kinds = {
        "emoji": (emoji[1000 : 1000 + n], emoji[:1000] + emoji[1000 + 60 :]),
        "wallpaper": (patches[:n], patches[60:]),
        "gan": (gan_images(model, n, 0), gan_images(model, 600, 100_000)),
        "stylised": (stylised[:n], stylised[n:]),
    }
    pools = [extra for _, extra in kinds.values()]
    mixed = [im for group in zip_longest(*pools) for im in group if im is not None]
    vocabulary = lf.bundled_vocabulary()
    index, refs, sources = lf.WordIndex(), {}, []
    for kind, (items, _) in kinds.items():
        for img in items:
            ident = len(refs) + 1
            refs[ident] = lf.describe(img)
            index.add(ident, vocabulary.words(refs[ident].descriptors))
            sources.append((kind, ident, img))
    for img in mixed[: args.distractors]:
        ident = len(refs) + 1
        refs[ident] = lf.describe(img)
        index.add(ident, vocabulary.words(refs[ident].descriptors))
    wanted = [f for f in args.families.split(",") if f] or list(families())
    records = []
    for _kind, ident, img in sources:
        for name in wanted:
            rgb = decode_image(families()[name](img, str(ident))).rgb
            query = lf.Query.of(rgb)
            ids = sorted(lf.shortlist(index, query, vocabulary, SHORTLIST))
            rows = [
                {
                    "cid": ids[i],
                    "true": ids[i] == ident,
                    "inliers": v.inliers,
                    "edge": v.pixels.edge_agreement,
                    "overlap": v.pixels.overlap,
                    "colour": v.pixels.colour_error,
                    "mirrored": v.mirrored,
                }
                for i, v in lf.check_all(query, [refs[i] for i in ids], PIXEL_CHECKS)
            ]
            records.append((name, rows, any(r["true"] for r in rows)))
    for bar in sorted({0.8, 0.85, 0.9, lf.MIN_EDGE_AGREEMENT}):
        named = wrong = 0
        for _name, rows, _listed in records:
            d = decide(rows, bar)
            named += bool(d and d["true"])
            wrong += bool(d and not d["true"])
        print(f"edge bar {bar:.2f}: {named} of {len(records)} named, {wrong} wrong")
    per = defaultdict(lambda: [0, 0, 0, 0])
    for name, rows, listed in records:
        d = decide(rows, lf.MIN_EDGE_AGREEMENT)
        row = per[name]
        row[0] += bool(d and d["true"])
        row[1] += bool(d and not d["true"])
        row[2] += listed
        row[3] += 1
    for name, (named, wrong, listed, total) in per.items():
        print(
            f"{name:22s} named {named / total:.0%} wrong {wrong} shortlisted {listed / total:.0%}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
