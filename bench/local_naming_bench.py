"""Local-feature naming alone, in memory, on identify_bench.py's sources and distractors.

    python bench/local_naming_bench.py --emoji /work/atelier-data/emoji128/images \\
        --wallpapers /tmp/gb/usr/share/backgrounds/gnome --split held-out \\
        --cache /work/atelier-data/localbench

The same four kinds of sources, the same tuning and held-out splits and the same 10,000
distractors as bench/identify_bench.py, with none of its database: every work is described
as registration describes it (`provenance.local_features.describe`), indexed by its visual
words, and each copy of each source goes through what `marketplace.local_matching` does for
a query: the word index's shortlist, PDQ's 5 nearest, verification, `name_source` (with
`tell_apart`), then the named work's PDQ twins and word neighbours checked beside it.
Around it, only PDQ is emulated: a distractor within PDQ's match distance of a source is
left out, as the copyright guard refuses it at registration (the full bench's guard also
refuses distractors that local features name); no exact, pixel, trimmed or PDQ naming comes
before the keypoints. So it measures the keypoint stage alone, in minutes rather than the
full bench's hours, and a change to that stage can be measured on the held-out split
against the one before it. `--cache` keeps the pictures, their features and hashes, so a
second run (another commit) skips them.

Prints, per copy family and kind, the share named right, and the wrong names; how many of
identify_bench.py's 200 never-registered look-alikes are named; the median time of one
query (features, shortlist, verification, naming); writes JSON to `--out`.
"""

from __future__ import annotations

import argparse
import io
import json
import pickle
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from copy_families import families, print_family_table
from identify_bench import (
    bench_pictures,
    look_alike_pictures,
    picture_arguments,
    stylised_contents,
    wallpaper_patches,
)
from PIL import Image

KINDS = ("emoji clip art", "wallpaper patches", "GAN outputs", "stylised works")


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def gan_model(args) -> Path:
    from generation.gan_pipeline import default_model_dir

    return args.gan_model or default_model_dir()


def pictures(args) -> dict:
    """identify_bench.py's sources (kind, split, PNG) and distractors (PNG)."""
    n = args.per_kind
    kinds, distractors, _ = bench_pictures(
        args.emoji,
        args.wallpapers,
        n,
        args.distractors,
        args.emoji_offset,
        gan_model(args),
        args.photos,
    )
    return {
        "sources": [
            (kind, "tuning" if i < n else "held-out", png(img))
            for kind, (items, _) in kinds.items()
            for i, img in enumerate(items)
        ],
        "distractors": [png(img) for img in distractors],
    }


def cache_key(args) -> list:
    key = [args.per_kind, args.distractors, args.emoji_offset, str(gan_model(args))]
    return [*key, str(args.photos)] if args.photos else key  # (older caches had no photos)


def setup(args) -> dict:
    """The pictures and each one's stored features, from `--cache` when it has them."""
    from provenance import local_features as lf

    cached = args.cache / "setup.pkl" if args.cache else None
    if cached and cached.exists():
        data = pickle.loads(cached.read_bytes())
        if data["key"] == cache_key(args):
            return data
    data = pictures(args)
    data["key"] = cache_key(args)
    everything = [b for *_, b in data["sources"]] + data["distractors"]
    data["features"] = [
        lf.describe(Image.open(io.BytesIO(b)).convert("RGB")).to_bytes() for b in everything
    ]
    if cached:
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(pickle.dumps(data))
    return data


def look_alikes(args) -> list[bytes]:
    """identify_bench.py's never-registered look-alikes (cached beside the setup)."""
    cached = args.cache / "look_alikes.pkl" if args.cache else None
    if cached and cached.exists():
        return pickle.loads(cached.read_bytes())
    emoji = [Image.open(p).convert("RGB") for p in sorted(args.emoji.glob("*.png"))]
    patches = wallpaper_patches(args.wallpapers, 100_000, 0)
    contents = stylised_contents(emoji, patches)
    made = look_alike_pictures(gan_model(args), contents, args.per_kind, args.look_alikes)
    out = [png(img) for img in made]
    if cached:
        cached.write_bytes(pickle.dumps(out))
    return out


class Hashes:
    """PDQ hashes of the registered pictures, searched as marketplace's PDQ index is."""

    def __init__(self, pictures: list[bytes], cache: Path | None) -> None:
        import numpy as np

        from provenance.fingerprint import perceptual_hash

        cached = cache / "pdq.pkl" if cache else None
        if cached and cached.exists():
            self.bits, self.quality = pickle.loads(cached.read_bytes())
        else:
            hashes = [
                perceptual_hash(Image.open(io.BytesIO(b)).convert("RGB"), dihedral=False)
                for b in pictures
            ]
            self.bits = np.stack([self.as_bits(h.hex) for h in hashes])
            self.quality = np.array([h.quality for h in hashes])
            if cached:
                cached.write_bytes(pickle.dumps((self.bits, self.quality)))
        self.registered = np.ones(len(self.bits), bool)

    @staticmethod
    def as_bits(hexed: str):
        import numpy as np

        return np.unpackbits(np.frombuffer(bytes.fromhex(hexed), np.uint8))

    def distances(self, hexes) -> object:
        """Each registered picture's smallest distance to any of `hexes` (unregistered: 257)."""
        import numpy as np

        query = np.stack([self.as_bits(h) for h in hexes])
        d = (self.bits[None, :, :] != query[:, None, :]).sum(axis=2).min(axis=0)
        return np.where(self.registered, d, 257)

    def nearest(self, hexes, k: int) -> list[int]:
        import numpy as np

        d = self.distances(hexes)
        order = np.lexsort((np.arange(len(d)), d))[:k]
        return [int(i) + 1 for i in order if d[i] < 257]

    def near_copies(self, hexes) -> list[int]:
        """find_near_copies: strong hashes within the match distance, nearest first."""
        import numpy as np

        from provenance.fingerprint import PDQ_MATCH_DISTANCE, PDQ_MIN_QUALITY

        d = self.distances(hexes)
        close = np.flatnonzero((d <= PDQ_MATCH_DISTANCE) & (self.quality >= PDQ_MIN_QUALITY))
        return [int(i) + 1 for i in sorted(close.tolist(), key=lambda i: (d[i], i))]


def name(index, refs, hashes, vocabulary, rgb):
    """What identification's keypoint stage does for one query: the id named, or None."""
    from marketplace.identification import LOCAL_PDQ_CANDIDATES
    from marketplace.local_matching import (
        NEIGHBOUR_CHECKS,
        PIXEL_CHECKS,
        SHORTLIST,
        TWIN_CHECKS,
        leaves_room,
    )
    from provenance import local_features as lf
    from provenance.fingerprint import perceptual_hash

    query = lf.Query.of(rgb)
    if len(query.features) < lf.MIN_MATCHES:
        return None
    ids = lf.shortlist(index, query, vocabulary, SHORTLIST)
    nearest = hashes.nearest(perceptual_hash(rgb).dihedral, LOCAL_PDQ_CANDIDATES)
    ids += [i for i in nearest if i not in ids]
    ids = sorted(ids)  # as local_verdict takes them: lowest id first among equals
    checked = [
        (ids[i], v) for i, v in lf.check_all(query, [refs[i - 1] for i in ids], PIXEL_CHECKS)
    ]

    def tell(i, j):
        (a, va), (b, vb) = checked[i], checked[j]
        pick = lf.tell_apart(query, (refs[a - 1], va), (refs[b - 1], vb))
        return None if pick is None else (i, j)[pick]

    naming = lf.name_source([v for _, v in checked], tell)
    if naming.named is not None:  # the named work's twins, as local_verdict checks them
        named, fit = checked[naming.named]
        seen = {i for i, _ in checked}
        twins = hashes.near_copies(perceptual_hash(Image.fromarray(refs[named - 1].align)).dihedral)
        twins = [i for i in twins if i not in seen][:TWIN_CHECKS]
        seen |= set(twins)
        neighbours = []
        if leaves_room(fit):
            words = vocabulary.words(refs[named - 1].descriptors)
            near = index.search(words, NEIGHBOUR_CHECKS + len(seen))
            neighbours = [i for i, _ in near if i not in seen][:NEIGHBOUR_CHECKS]
        beside = twins + neighbours
        found = lf.check_beside(
            query, [refs[i - 1] for i in twins], [refs[i - 1] for i in neighbours]
        )
        checked += [(beside[position], v) for position, v in found]
        if found:
            naming = lf.name_source([v for _, v in checked], tell)
    return None if naming.named is None else checked[naming.named][0]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    picture_arguments(parser)
    parser.add_argument("--split", choices=("tuning", "held-out"), default="held-out")
    parser.add_argument("--families", default="", help="comma-separated; default: all")
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("bench/results/local_naming.json"))
    args = parser.parse_args()

    import numpy as np

    from provenance import local_features as lf
    from provenance.images import decode_image

    wanted = [f for f in args.families.split(",") if f] or list(families())
    unknown = sorted(set(wanted) - set(families()))
    if unknown:
        parser.error(f"unknown families: {', '.join(unknown)}")
    data = setup(args)
    refs = [lf.Features.from_bytes(b) for b in data["features"]]
    sources = len(data["sources"])
    hashes = Hashes([b for *_, b in data["sources"]] + data["distractors"], args.cache)
    # the copyright guard: a distractor within PDQ's match distance of a source is refused
    from provenance.fingerprint import perceptual_hash

    hashes.registered[:sources] = False  # search the distractors only
    guarded = set()
    for *_, b in data["sources"]:
        guarded |= set(
            hashes.near_copies(perceptual_hash(Image.open(io.BytesIO(b)).convert("RGB")).dihedral)
        )
    hashes.registered[:sources] = True
    for ident in guarded:
        hashes.registered[ident - 1] = False
    vocabulary = lf.bundled_vocabulary()
    index = lf.WordIndex()
    for ident, features in enumerate(refs, start=1):
        if hashes.registered[ident - 1]:
            index.add(ident, vocabulary.words(features.descriptors))
    refused = int((~hashes.registered).sum())
    counts = defaultdict(lambda: defaultdict(int))
    seconds, wrong = [], []
    for ident, (kind, split, source) in enumerate(data["sources"], start=1):
        if split != args.split:
            continue
        img = Image.open(io.BytesIO(source)).convert("RGB")
        for family in wanted:
            rgb = decode_image(families()[family](img, str(ident))).rgb
            t = time.perf_counter()
            named = name(index, refs, hashes, vocabulary, rgb)
            seconds.append(time.perf_counter() - t)
            row = counts[(kind, family)]
            row["copies"] += 1
            if named == ident:
                row["named"] += 1
            elif named is not None:
                row["wrong"] += 1
                wrong.append([kind, family, ident, named])
    alike_named = sum(
        name(index, refs, hashes, vocabulary, Image.open(io.BytesIO(b)).convert("RGB")) is not None
        for b in look_alikes(args)
    )
    total = sum(r["copies"] for r in counts.values())
    named = sum(r["named"] for r in counts.values())
    print(
        f"\n{args.split} split: {total // len(wanted)} sources x {len(wanted)} families among "
        f"{len(data['distractors']) - refused} distractors ({refused} refused by the "
        "emulated guard); the keypoint stage alone\n"
    )
    print_family_table(lambda kind, family: counts[(kind, family)], KINDS, wanted)
    print(f"\nlook-alikes never registered: {alike_named} of {args.look_alikes} named")
    median = statistics.median(seconds) * 1000
    print(f"\nquery median {median:.1f} ms (p90 {np.percentile(seconds, 90) * 1000:.1f} ms)")
    report = {
        "split": args.split,
        "sources": total // len(wanted),
        "distractors": len(data["distractors"]) - refused,
        "distractors_refused": refused,
        "named": round(named / total, 4),
        "wrong": wrong,
        "look_alikes_named": alike_named,
        "look_alikes_checked": args.look_alikes,
        "query_ms_median": round(median, 1),
        "rows": [{"kind": k, "family": f, **r} for (k, f), r in sorted(counts.items())],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
