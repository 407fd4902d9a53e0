"""Identification recall: copies as people make them, among many distractors.

    python scripts/build_training_set.py --out /work/atelier-data/emoji128 --size 128
    apt-get download gnome-backgrounds=43.1-1 && dpkg-deb -x gnome-backgrounds_*.deb /tmp/gb
    scripts/bench_photographs.sh /work/atelier-data/photos
    python bench/identify_bench.py --emoji /work/atelier-data/emoji128/images \\
        --wallpapers /tmp/gb/usr/share/backgrounds/gnome --photos /work/atelier-data/photos

The emoji sources start at `--emoji-offset` (default 1000), away from the first 240 emoji on
which scripts/tune_disambiguation.py chose identification's disambiguation values. The GAN
sources come from the bundled model unless `--gan-model` names another.

Sources (registered by one user), `--per-kind` per kind and split: emoji clip art (Noto
Color Emoji), 384 px patches of the gnome-backgrounds wallpapers, our GAN's outputs,
stylised works made by the Style page's pipeline and, with `--photos`, 384 px patches of
photographs (scripts/bench_photographs.sh). Distractors (registered by another user) are
more of the same kinds. Every source is copied through every family of
bench/copy_families.py and identified by `marketplace.identification.identify` (exact,
pixels, PDQ, trimmed margins, then keypoints). A copy counts as named when the work named
is its source; a wrong name names another work; "similar to" names nobody.
Writes bench/results/identify.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from copy_families import families, print_family_table
from PIL import Image

PATCH = 384


def encode(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


PHOTO_SIDE = 1536  # photographs are scaled to this long side before they are cut into patches


def _textured_patches(img: Image.Image) -> list:
    """The 384 px tiles of `img`, left to right and top to bottom, that have a strong PDQ
    hash (textured enough to be told apart by it)."""
    from provenance.fingerprint import perceptual_hash

    patches = []
    for y in range(0, img.height - PATCH + 1, PATCH):
        for x in range(0, img.width - PATCH + 1, PATCH):
            patch = img.crop((x, y, x + PATCH, y + PATCH))
            if perceptual_hash(patch, dihedral=False).strong:
                patches.append(patch)
    return patches


def labelled_patches(kind: str, folder: Path) -> list[tuple[str, Image.Image]]:
    """(file name, patch) of a kind's patches ("wallpaper patches": the wallpapers at their
    own size; "photographs": each scaled to PHOTO_SIDE on its long side first, so a patch
    shows a part of a scene, not a few leaves), files interleaved: the order the bench's
    sources and distractors are taken in."""
    from itertools import zip_longest

    if kind == "photographs":
        paths = sorted(folder.glob("*.jpg"))
    else:
        paths = sorted(folder.glob("*.webp")) + sorted(folder.glob("*.jpg"))
    per_file = []
    for path in paths:
        img = Image.open(path).convert("RGB")
        if kind == "photographs":
            scale = PHOTO_SIDE / max(img.size)
            size = (round(img.width * scale), round(img.height * scale))
            img = img.resize(size, Image.Resampling.LANCZOS)
        per_file.append([(path.name, patch) for patch in _textured_patches(img)])
    return [p for group in zip_longest(*per_file) for p in group if p is not None]


def wallpaper_patches(folder: Path, count: int, offset: int):
    """Textured 384 px patches of the wallpapers (strong PDQ hash), files interleaved."""
    patches = labelled_patches("wallpaper patches", folder)[offset : offset + count]
    return [patch for _, patch in patches]


def photo_patches(folder: Path) -> list:
    """Textured 384 px patches of the photographs in `folder`, files interleaved."""
    return [patch for _, patch in labelled_patches("photographs", folder)]


def gan_images(model: Path, count: int, seed: int):
    from generation.gan_pipeline import GANPipeline

    pipe = GANPipeline.from_pretrained(model)
    out = []
    for start in range(0, count, 64):
        batch = pipe(num_images=min(64, count - start), seed=seed + start).images
        out += [im.resize((256, 256), Image.Resampling.LANCZOS) for im in batch]
    return out


def stylised_images(contents: list[Image.Image], count: int, first_preset: int):
    """Works made by the Style page's pipeline: presets over wallpaper patches and emoji."""
    from generation.style import StylePipeline

    pipeline = StylePipeline()
    out = []
    for i in range(count):
        content = contents[i % len(contents)]
        out.append(pipeline(content, presets=(first_preset + i) % 26, size=384).image)
    return out


def picture_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that choose the bench's pictures (`bench_pictures`,
    `look_alike_pictures`), with the defaults every bench over them shares."""
    parser.add_argument("--emoji", type=Path, required=True)
    parser.add_argument("--wallpapers", type=Path, required=True)
    parser.add_argument(
        "--photos",
        type=Path,
        default=None,
        help="photographs (scripts/bench_photographs.sh): adds the photographs kind",
    )
    parser.add_argument("--gan-model", type=Path, default=None)
    parser.add_argument("--emoji-offset", type=int, default=1000)
    parser.add_argument("--per-kind", type=int, default=30, help="sources per kind and split")
    parser.add_argument("--distractors", type=int, default=10_000)
    parser.add_argument("--look-alikes", type=int, default=200)


def stylised_contents(emoji: list, patches: list) -> list:
    """What the stylised works are made from: the wallpapers' last patches and emoji 2000
    onwards, in turn."""
    return [im for pair in zip(patches[::-1], emoji[2000:], strict=False) for im in pair]


def bench_pictures(
    emoji_dir: Path,
    wallpapers: Path,
    n: int,
    count: int,
    emoji_offset: int,
    gan_model: Path,
    photos: Path | None = None,
):
    """The bench's pictures: for each kind, its 2 x `n` sources (the first `n`
    the tuning split, the next `n` the held-out one) and its pool of others; the first
    `count` distractors drawn from every pool in turn; and the stylised works' contents
    (`look_alike_pictures` takes unused ones). bench/local_naming_bench.py uses the same."""
    from itertools import zip_longest

    emoji = [Image.open(p).convert("RGB") for p in sorted(emoji_dir.glob("*.png"))]
    first, last = emoji_offset, emoji_offset + 2 * n
    patches = wallpaper_patches(wallpapers, 100_000, 0)
    style_contents = stylised_contents(emoji, patches)
    stylised = stylised_images(style_contents, 2 * n + 700, 0)
    photographs = photo_patches(photos) if photos else []
    others = (len(emoji) - 2 * n) + (len(patches) - 2 * n) + 700
    others += max(0, len(photographs) - 2 * n)
    gan_extra = max(3_000, count - others)  # GAN outputs fill up to `count`
    kinds = {
        "emoji clip art": (emoji[first:last], emoji[:first] + emoji[last:]),
        "wallpaper patches": (patches[: 2 * n], patches[2 * n :]),
        "GAN outputs": (gan_images(gan_model, 2 * n, 0), gan_images(gan_model, gan_extra, 100_000)),
        "stylised works": (stylised[: 2 * n], stylised[2 * n :]),
    }
    if photographs:
        kinds["photographs"] = (photographs[: 2 * n], photographs[2 * n :])
    pools = [extra for _, extra in kinds.values()]
    mixed = [im for group in zip_longest(*pools) for im in group if im is not None]
    return kinds, mixed[:count], style_contents


def look_alike_pictures(gan_model: Path, style_contents: list, n: int, count: int):
    """Never-registered look-alikes, checked but never registered: GAN outputs of other
    seeds and stylised works of contents no source or distractor was made from (emoji and
    wallpapers are all registered)."""
    half = count // 2
    unused = style_contents[2 * n + 700 : 2 * n + 700 + half]
    return gan_images(gan_model, count - half, 900_000) + stylised_images(unused, len(unused), 13)


def register_one(sessions, blobs, img, owner_id: int, title: str) -> int | None:
    """Register one picture (an image, or its file's bytes) through the copyright guard: its
    id, or None when refused."""
    from marketplace.artworks import register_artwork
    from marketplace.errors import MarketplaceError

    try:
        with sessions() as s, s.begin():
            data = img if isinstance(img, bytes) else encode(img)
            return register_artwork(s, blobs, data, owner_id=owner_id, title=title).id
    except MarketplaceError:
        return None


def register_everything(sessions, blobs, kinds, n, distractors):
    """Register the sources (one user), then the distractors (another); the copyright guard
    refuses the distractors that copy a source. Returns (sources, setup figures)."""
    from marketplace.accounts import sign_up
    from tests.factories import FAST_HASHER

    with sessions() as s, s.begin():
        owner = sign_up(s, "owner", "password 1234", hasher=FAST_HASHER).id
        crowd = sign_up(s, "crowd", "password 1234", hasher=FAST_HASHER).id
    start = time.perf_counter()
    sources = []
    for kind, (items, _) in kinds.items():
        for i, img in enumerate(items):
            aid = register_one(sessions, blobs, img, owner, f"{kind} {i}")
            if aid is not None:
                sources.append((kind, "tuning" if i < n else "held-out", aid, img))
    registered = refused = 0
    seconds = []
    for i, img in enumerate(distractors):
        t = time.perf_counter()
        if register_one(sessions, blobs, img, crowd, f"d{i}") is None:
            refused += 1
        else:
            registered += 1
        seconds.append(time.perf_counter() - t)
        if i % 1000 == 999:
            print(f"{i + 1} distractors", flush=True)
    return sources, {
        "distractors": registered,
        "refused": refused,
        "register_seconds": seconds,
        "setup_seconds": time.perf_counter() - start,
    }


def top_up(sessions, blobs, images) -> None:
    """Register more distractors as the crowd user (refusals by the guard are skipped)."""
    from sqlalchemy import select

    from db.models import User

    with sessions() as s:
        crowd = s.scalar(select(User.id).where(User.username == "crowd"))
    for i, img in enumerate(images):
        register_one(sessions, blobs, img, crowd, f"top-up {i}")
        if i % 500 == 499:
            print(f"{i + 1} more distractors", flush=True)


def timed_registrations(sessions, blobs, images) -> list[float]:
    """Seconds to register each of `images` (new works, by a third user) into the setup."""
    from marketplace.accounts import sign_up
    from tests.factories import FAST_HASHER

    with sessions() as s, s.begin():
        timer = sign_up(s, f"timer{int(time.time())}", "password 1234", hasher=FAST_HASHER).id
    seconds = []
    # the files are made first: encoding them is the uploader's work, not registration's
    for i, data in enumerate([encode(img) for img in images]):
        t = time.perf_counter()
        register_one(sessions, blobs, data, timer, f"t{i}")
        seconds.append(time.perf_counter() - t)
    return seconds


def sources_by_sha(sessions, kinds: dict, n: int) -> list:
    """(kind, split, artwork id, image) of each source an earlier run registered, found by
    its file's SHA-256, so a source the guard refused is skipped, never mislabelled; the
    first `n` of a kind are the tuning split."""
    import hashlib

    from sqlalchemy import select

    from db.models import Artwork

    with sessions() as s:
        by_sha = dict(s.execute(select(Artwork.content_sha256, Artwork.id)).all())
    sources = []
    for kind, items in kinds.items():
        for i, img in enumerate(items):
            aid = by_sha.get(hashlib.sha256(encode(img)).hexdigest())
            if aid is not None:
                sources.append((kind, "tuning" if i < n else "held-out", aid, img))
    return sources


def reused_setup(sessions, kinds, n, asked):
    """The sources of an earlier run's database (`--reuse DIR`), found by their files'
    SHA-256, so a source the guard refused is skipped, never mislabelled."""
    from sqlalchemy import func, select

    from db.models import Artwork, User

    with sessions() as s:
        crowd = s.scalar(
            select(func.count(Artwork.id))
            .join(User, User.id == Artwork.owner_id)
            .where(User.username == "crowd")
        )
    return sources_by_sha(sessions, {k: items for k, (items, _) in kinds.items()}, n), {
        "distractors": crowd,
        "refused": asked - crowd,
        "register_seconds": [float("nan")],
        "setup_seconds": float("nan"),
    }


def time_registrations_only(setup: Path, gan_model: Path, args) -> int:
    """`--registrations-only`: time new registrations into a kept setup, without making the
    bench's pictures first (they would take minutes and gigabytes of memory)."""
    from sqlalchemy import func, select

    from atelier.bootstrap import Services
    from atelier.config import Settings
    from db.models import Artwork, User

    services = Services.from_settings(
        Settings(data_dir=setup, database_url=f"sqlite:///{setup / 'bench.db'}")
    )
    sessions, blobs = services.sessions, services.blobs
    with sessions() as s:
        runs = s.scalar(select(func.count(User.id)).where(User.username.like("timer%")))
        works = s.scalar(select(func.count(Artwork.id)))
    seed = args.registration_seed
    if seed is None:  # past the pictures of earlier runs, which the guard would refuse
        seed = 500_000 + 1000 * runs
    pictures = gan_images(gan_model, args.time_registrations + 3, seed)
    start = time.perf_counter()
    # the first registrations of a process load the vocabulary, build the indexes and run
    # the features' backfill: timed apart
    timed_registrations(sessions, blobs, pictures[:3])
    warm = time.perf_counter() - start
    seconds = sorted(timed_registrations(sessions, blobs, pictures[3:]))
    print(
        f"{len(seconds)} new registrations among {works} works (first 3 apart: {warm:.1f} s): "
        f"median {statistics.median(seconds) * 1000:.1f} ms, "
        f"p90 {seconds[int(0.9 * len(seconds))] * 1000:.1f} ms"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    picture_arguments(parser)
    parser.add_argument("--out", type=Path, default=Path("bench/results/identify.json"))
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="keep the database and blobs here (for screenshots.py)",
    )
    parser.add_argument(
        "--reuse", type=Path, default=None, help="identify against the database a --keep run left"
    )
    parser.add_argument("--time-registrations", type=int, default=100)
    parser.add_argument(
        "--setup-only", action="store_true", help="register everything (with --keep), then stop"
    )
    parser.add_argument(
        "--registrations-only",
        action="store_true",
        help="with --reuse: time --time-registrations new registrations, then stop",
    )
    parser.add_argument(
        "--registration-seed",
        type=int,
        default=None,
        help="with --registrations-only: the GAN seed of the first new picture (default: "
        "past those of earlier runs)",
    )
    parser.add_argument(
        "--splits",
        default="tuning,held-out",
        help="which splits' copies to identify (comma-separated): tuning, held-out",
    )
    args = parser.parse_args()
    splits = [s for s in args.splits.split(",") if s]
    if not set(splits) <= {"tuning", "held-out"} or not splits:
        parser.error("--splits takes tuning, held-out or both")

    from sqlalchemy import func, select

    from atelier.bootstrap import Services
    from atelier.config import Settings
    from db.models import Artwork, User
    from generation.gan import weights_sha256
    from generation.gan_pipeline import default_model_dir
    from marketplace.identification import identify
    from provenance.checkpoint import NoteSigner

    n = args.per_kind
    gan_model = args.gan_model or default_model_dir()
    if args.registrations_only:
        if not args.reuse:
            parser.error("--registrations-only needs --reuse DIR")
        return time_registrations_only(args.reuse, gan_model, args)
    kinds, distractors, style_contents = bench_pictures(
        args.emoji, args.wallpapers, n, args.distractors, args.emoji_offset, gan_model, args.photos
    )
    look_alikes = look_alike_pictures(gan_model, style_contents, n, args.look_alikes)

    tmp = args.reuse or args.keep or Path(tempfile.mkdtemp())
    tmp.mkdir(parents=True, exist_ok=True)
    services = Services.from_settings(
        Settings(data_dir=tmp, database_url=f"sqlite:///{tmp / 'bench.db'}")
    )
    sessions, blobs = services.sessions, services.blobs
    if args.reuse:
        sources, setup_info = reused_setup(sessions, kinds, n, len(distractors))
        if setup_info["distractors"] < args.distractors:  # an earlier run had fewer: top up
            more = args.distractors - setup_info["distractors"]
            top_up(sessions, blobs, gan_images(gan_model, more, 200_000))
            sources, setup_info = reused_setup(sessions, kinds, n, len(distractors))
        # new pictures each run (GAN seeds past those of earlier runs), or the guard would
        # refuse them at once as already registered
        with sessions() as s:
            runs = s.scalar(select(func.count(User.id)).where(User.username.like("timer%")))
        setup_info["register_seconds"] = timed_registrations(
            sessions, blobs, gan_images(gan_model, args.time_registrations, 500_000 + 1000 * runs)
        )
    else:
        sources, setup_info = register_everything(sessions, blobs, kinds, n, distractors)
    if args.setup_only:
        print(f"registered {len(sources)} sources and {setup_info['distractors']} distractors")
        return 0
    registered_distractors = setup_info["distractors"]
    refused_distractors = setup_info["refused"]
    register_seconds = setup_info["register_seconds"]
    setup = setup_info["setup_seconds"]

    signer = NoteSigner.generate("bench.example/log")
    counts = defaultdict(lambda: defaultdict(int))
    verify_seconds = []
    wrong = []
    # each source's outcome per family, one letter each in families() order: N named,
    # W another work named, S "similar to", - nothing (bench/patch_twins.py reads these)
    position = {id(img): i for _, (items, _) in kinds.items() for i, img in enumerate(items)}
    outcomes = {}
    for kind, split, aid, img in sources:
        if split not in splits:
            continue
        letters = []
        outcomes[f"{kind}/{position[id(img)]}"] = letters
        for name, transform in families().items():
            data = transform(img, f"{aid}")
            row = counts[(split, kind, name)]
            row["copies"] += 1
            t = time.perf_counter()
            with sessions() as s, s.begin():
                result = identify(s, data, anchor_pem=None, signer=signer, blobs=blobs)
            verify_seconds.append(time.perf_counter() - t)
            if result.artwork_id is not None and result.verdict != "tampered":
                if result.artwork_id == aid:
                    row["named"] += 1
                    letters.append("N")
                else:
                    row["wrong"] += 1
                    wrong.append([split, kind, name, aid, result.artwork_id])
                    letters.append("W")
            elif result.verdict == "similar_to":
                row["similar"] += 1
                letters.append("S")
            else:
                letters.append("-")
    look_alike_named = 0
    look_alikes_named_as = []  # which look-alike named which work, whose, and how
    for i, img in enumerate(look_alikes):
        with sessions() as s, s.begin():
            result = identify(
                s, encode(img, "JPEG", quality=90), anchor_pem=None, signer=signer, blobs=blobs
            )
            if result.artwork_id is not None:
                look_alike_named += 1
                work = s.get(Artwork, result.artwork_id)
                look_alikes_named_as.append(
                    {
                        "look_alike": i,
                        "artwork_id": work.id,
                        "owner": work.owner.username,
                        "verdict": result.verdict,
                        "headline": result.headline,
                    }
                )

    def share(split, key=None):
        rows = [r for (sp, *_), r in counts.items() if sp == split and (key is None or key(_))]
        total = sum(r["copies"] for r in rows)
        return sum(r["named"] for r in rows) / max(1, total), sum(r["wrong"] for r in rows)

    report = {
        "gan_model_sha256": weights_sha256(gan_model),
        "emoji_offset": args.emoji_offset,
        "sources": len(sources),
        "distractors": registered_distractors,
        "distractors_refused_by_the_guard": refused_distractors,
        "look_alikes_checked": len(look_alikes),
        "look_alikes_named": look_alike_named,
        "look_alikes_named_as": look_alikes_named_as,
        "setup_seconds": round(setup, 1),
        "register_ms_median": round(statistics.median(register_seconds) * 1000, 1),
        "verify_ms_median": round(statistics.median(verify_seconds) * 1000, 1),
        "verify_ms_p90": round(sorted(verify_seconds)[int(0.9 * len(verify_seconds))] * 1000, 1),
        "wrong": wrong,
        "outcomes": {key: "".join(letters) for key, letters in outcomes.items()},
        "rows": [],
    }
    for split in splits:
        named, wrongs = share(split)
        report[f"{split}_named"] = round(named, 4)
        report[f"{split}_wrong"] = wrongs
    print(
        f"\n{len(sources)} sources among {registered_distractors} distractors "
        f"({refused_distractors} refused by the guard)"
    )
    kind_names = list(kinds)
    for split in splits:
        heading = "held-out split (tuning never saw it)" if split == "held-out" else "tuning split"
        print(f"\n{heading}\n")
        print_family_table(
            lambda kind, name, split=split: counts[(split, kind, name)],
            kind_names,
            list(families()),
        )
    for split in splits:
        print(f"{split}: {report[f'{split}_named']:.1%} named, {report[f'{split}_wrong']} wrong")
    print(f"look-alikes never registered: {look_alike_named} of {len(look_alikes)} named")
    print(
        f"verify median {report['verify_ms_median']} ms (p90 {report['verify_ms_p90']} ms); "
        f"registration median {report['register_ms_median']} ms"
    )
    for (split, kind, name), row in sorted(counts.items()):
        report["rows"].append({"split": split, "kind": kind, "family": name, **row})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
