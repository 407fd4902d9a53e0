"""Identification recall: copies as people make them, among many distractors.

    python scripts/build_training_set.py --out /work/atelier-data/emoji128 --size 128
    apt-get download gnome-backgrounds=43.1-1 && dpkg-deb -x gnome-backgrounds_*.deb /tmp/gb
    python bench/identify_bench.py --emoji /work/atelier-data/emoji128/images \\
        --wallpapers /tmp/gb/usr/share/backgrounds/gnome

The emoji sources start at `--emoji-offset` (default 1000), away from the first 240 emoji on
which scripts/tune_disambiguation.py chose identification's disambiguation values. The GAN
sources come from the bundled model unless `--gan-model` names another.

Sources (registered by one user) are three kinds: emoji clip art (Noto Color Emoji), our
GAN's outputs (alike by nature), and 384 px patches of the gnome-backgrounds wallpapers.
Distractors (registered by another user) are more of the same kinds. Every source is
copied through a suite of transformations at several strengths and identified twice:
- PDQ alone: the nearest registered hash within distance 31 over the 8 dihedral variants;
- Atelier: `marketplace.identification.identify` (exact, pixels, PDQ, then trimmed margins
  and keypoints).
A copy counts as found when the work named is its source ("copy of", "registered original"
or "manifest valid"); a false match names another work. "Similar to" names nobody.
Writes bench/results/identify.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image, ImageDraw, ImageEnhance, ImageOps

PATCH = 384


def encode(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def crop_sides(img: Image.Image, left: float, top: float, right: float, bottom: float):
    w, h = img.size
    return img.crop((int(w * left), int(h * top), int(w * (1 - right)), int(h * (1 - bottom))))


def caption(img: Image.Image) -> Image.Image:
    h = img.height
    out = ImageOps.expand(img, border=(0, 0, 0, max(16, h // 6)), fill="white")
    ImageDraw.Draw(out).text((4, h + 2), "look what I found #art", fill="black")
    return out


TRANSFORMS = {
    "jpeg q75": lambda im: encode(im, "JPEG", quality=75),
    "jpeg q40": lambda im: encode(im, "JPEG", quality=40),
    "resize 50%": lambda im: encode(im.resize((im.width // 2, im.height // 2))),
    "resize 25% jpeg": lambda im: encode(
        im.resize((im.width // 4, im.height // 4)), "JPEG", quality=80
    ),
    "mirrored": lambda im: encode(ImageOps.mirror(im)),
    "rotated 90": lambda im: encode(im.rotate(90, expand=True)),
    "rotated 5 deg": lambda im: encode(im.rotate(5, expand=True, fillcolor="white")),
    "brighter +30%": lambda im: encode(ImageEnhance.Brightness(im).enhance(1.3)),
    "darker -30%": lambda im: encode(ImageEnhance.Brightness(im).enhance(0.7)),
    "crop 5% one side": lambda im: encode(crop_sides(im, 0.05, 0, 0, 0)),
    "crop 10% two sides": lambda im: encode(crop_sides(im, 0.1, 0.1, 0, 0)),
    "crop 20% centre": lambda im: encode(crop_sides(im, 0.1, 0.1, 0.1, 0.1)),
    "border 10%": lambda im: encode(ImageOps.expand(im, border=im.width // 10, fill="black")),
    "caption bar": lambda im: encode(caption(im), "JPEG", quality=85),
    "screenshot (webp)": lambda im: encode(im.convert("RGB"), "WEBP", quality=80),
}


def wallpaper_patches(folder: Path, count: int, offset: int):
    """Textured 384 px patches of the wallpapers (strong PDQ hash), files interleaved."""
    from provenance.fingerprint import perceptual_hash

    per_file = []
    for path in sorted(folder.glob("*.webp")) + sorted(folder.glob("*.jpg")):
        img = Image.open(path).convert("RGB")
        if min(img.size) < PATCH:
            continue
        patches = []
        for y in range(0, img.height - PATCH + 1, PATCH):
            for x in range(0, img.width - PATCH + 1, PATCH):
                patch = img.crop((x, y, x + PATCH, y + PATCH))
                if perceptual_hash(patch, dihedral=False).strong:
                    patches.append(patch)
        per_file.append(patches)
    from itertools import zip_longest

    interleaved = [p for group in zip_longest(*per_file) for p in group if p is not None]
    return interleaved[offset : offset + count]


def gan_images(model: Path, count: int, seed: int):
    from generation.gan_pipeline import GANPipeline

    pipe = GANPipeline.from_pretrained(model)
    out = []
    for start in range(0, count, 64):
        batch = pipe(num_images=min(64, count - start), seed=seed + start).images
        out += [im.resize((256, 256), Image.Resampling.LANCZOS) for im in batch]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--emoji", type=Path, required=True)
    parser.add_argument("--wallpapers", type=Path, required=True)
    parser.add_argument("--gan-model", type=Path, default=None)
    parser.add_argument("--emoji-offset", type=int, default=1000)
    parser.add_argument("--per-kind", type=int, default=80)
    parser.add_argument("--distractors", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=Path("bench/results/identify.json"))
    args = parser.parse_args()

    from atelier.bootstrap import Services
    from atelier.config import Settings
    from generation.gan import weights_sha256
    from generation.gan_pipeline import default_model_dir
    from marketplace.accounts import sign_up
    from marketplace.artworks import find_near_copies, register_artwork
    from marketplace.errors import MarketplaceError
    from marketplace.identification import identify
    from provenance.checkpoint import NoteSigner
    from provenance.fingerprint import perceptual_hash
    from provenance.images import decode_image
    from tests.factories import FAST_HASHER

    emoji = [Image.open(p).convert("RGB") for p in sorted(args.emoji.glob("*.png"))]
    first, last = args.emoji_offset, args.emoji_offset + args.per_kind
    gan_model = args.gan_model or default_model_dir()
    kinds = {
        "emoji clip art": (emoji[first:last], emoji[:first] + emoji[last:]),
        "wallpaper patches": (
            wallpaper_patches(args.wallpapers, args.per_kind, 0),
            wallpaper_patches(args.wallpapers, 10_000, args.per_kind),
        ),
    }
    kinds["GAN outputs"] = (
        gan_images(gan_model, args.per_kind, 0),
        gan_images(gan_model, args.distractors, 100_000),
    )
    # distractors drawn from every kind in turn
    from itertools import zip_longest

    pools = [extra for _, extra in kinds.values()]
    mixed = [im for group in zip_longest(*pools) for im in group if im is not None]
    distractors = mixed[: args.distractors]

    tmp = Path(tempfile.mkdtemp())
    services = Services.from_settings(
        Settings(data_dir=tmp, database_url=f"sqlite:///{tmp / 'bench.db'}")
    )
    sessions, blobs = services.sessions, services.blobs
    with sessions() as s, s.begin():
        owner = sign_up(s, "owner", "password 1234", hasher=FAST_HASHER).id
        crowd = sign_up(s, "crowd", "password 1234", hasher=FAST_HASHER).id
    start = time.perf_counter()
    # sources first, as works already on the platform: the copyright guard then refuses the
    # distractors that are near copies of them (another owner's near copy cannot register)
    sources = []
    for kind, (items, _) in kinds.items():
        for i, img in enumerate(items):
            try:
                with sessions() as s, s.begin():
                    aid = register_artwork(
                        s, blobs, encode(img), owner_id=owner, title=f"{kind} {i}"
                    ).id
                sources.append((kind, aid, img))
            except MarketplaceError:
                pass
    registered_distractors = refused_distractors = 0
    for i, img in enumerate(distractors):
        try:
            with sessions() as s, s.begin():
                register_artwork(s, blobs, encode(img), owner_id=crowd, title=f"d{i}")
            registered_distractors += 1
        except MarketplaceError:
            refused_distractors += 1
    setup = time.perf_counter() - start

    signer = NoteSigner.generate("bench.example/log")
    counts = defaultdict(lambda: defaultdict(int))
    seconds = defaultdict(float)
    for kind, aid, img in sources:
        for name, transform in TRANSFORMS.items():
            data = transform(img)
            row = counts[(kind, name)]
            row["copies"] += 1
            with sessions() as s:
                hashes = perceptual_hash(decode_image(data).rgb)
                near = find_near_copies(s, hashes.dihedral) if hashes.strong else []
            if near:
                row["pdq found" if near[0].artwork_id == aid else "pdq false"] += 1
            t = time.perf_counter()
            with sessions() as s, s.begin():
                result = identify(s, data, anchor_pem=None, signer=signer, blobs=blobs)
            seconds[name] += time.perf_counter() - t
            if result.artwork_id is not None and result.verdict != "tampered":
                row["ours found" if result.artwork_id == aid else "ours false"] += 1
            elif result.verdict == "similar_to":
                row["ours similar"] += 1
    report = {
        "gan_model_sha256": weights_sha256(gan_model),
        "emoji_offset": args.emoji_offset,
        "sources": len(sources),
        "distractors": registered_distractors,
        "distractors_refused_by_the_guard": refused_distractors,
        "setup_seconds": round(setup, 1),
        "rows": [],
    }
    print(f"\n{len(sources)} sources among {registered_distractors} distractors\n")
    print(
        "| kind | copy | PDQ alone found | PDQ false | Atelier found | Atelier false | "
        "Atelier 'similar' |"
    )
    print("|---|---|---|---|---|---|---|")
    for (kind, name), row in sorted(counts.items()):
        n = row["copies"]
        entry = {"kind": kind, "transform": name, "copies": n, **row}
        report["rows"].append(entry)
        print(
            f"| {kind} | {name} | {row['pdq found'] / n:.0%} | {row['pdq false']} | "
            f"{row['ours found'] / n:.0%} | {row['ours false']} | {row['ours similar']} |"
        )
    report["ms_per_identify"] = {
        name: round(seconds[name] / max(1, len(sources)) * 1000, 1) for name in TRANSFORMS
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
