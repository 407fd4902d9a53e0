"""Build the bundled GAN training set from emoji sets whose licences allow a commercial
platform to train on them and sell what the model makes.

- `noto` (default): the colour bitmaps (CBDT/CBLC, PNG strikes of about 136x128 px) inside
  NotoColorEmoji.ttf from Debian's `fonts-noto-color-emoji`, Apache-2.0.
- `twemoji`: the SVG graphics of npm `@discordapp/twemoji` (the maintained Twemoji), CC-BY 4.0
  (attribution: "Twemoji graphics by Twitter, Inc. and other contributors, CC-BY 4.0";
  the package's code is MIT), drawn at the output size with `rsvg-convert` (Debian
  `librsvg2-bin`) on white with the same margin as a Noto bitmap. CC-BY asks for attribution,
  not share-alike, so it does not bind what a model trained on them makes.

The build is reproducible: it pins the exact package versions, records the SHA-256 of each
download, and writes PNGs whose names and bytes depend only on the sources, so running it
twice gives byte-identical output. With `--hold-out`, one picture in ten (by file name,
`generation.quality.held_out`) goes to `held_out/` instead of `images/`: the model card's
precision and recall are measured against pictures the model never trained on.

Example:
    python scripts/build_training_set.py --out /work/atelier-data/emoji64 --size 64
    python scripts/build_training_set.py --out /work/atelier-data/emoji128 --size 128
    python scripts/build_training_set.py --out /work/atelier-data/mixed128 --size 128 \
        --sets noto twemoji --hold-out

Output layout:
    OUT/images/<name>.png     one RGB PNG per distinct emoji, white background (with several
                              sets, names start with the set: noto_..., twemoji_...)
    OUT/held_out/<name>.png   the held-out split (with --hold-out)
    OUT/manifest.json         packages, versions, download SHA-256s, per-file set, source,
                              licence and SHA-256
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PACKAGE = "fonts-noto-color-emoji"
# Debian 12 (bookworm) version; change it deliberately, since it changes the data set.
PACKAGE_VERSION = "2.042-0+deb12u1"
FONT_PATH_IN_DEB = "usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
LICENSE = "Apache-2.0 (images in Noto Color Emoji)"
MANIFEST_FORMAT = 2
TWEMOJI_PACKAGE = "@discordapp/twemoji"
TWEMOJI_VERSION = "16.0.1"
TWEMOJI_LICENSE = "CC-BY-4.0 (Twemoji graphics by Twitter, Inc. and other contributors)"
# A Noto bitmap's drawing fills about 118 of its 128 px; Twemoji's SVGs fill their whole box.
TWEMOJI_FILL = 118 / 128
SETS = ("noto", "twemoji")


def download_deb(dest_dir: Path, package: str = PACKAGE, version: str = PACKAGE_VERSION) -> Path:
    """Download the pinned .deb with `apt-get download`, running `apt-get update` if needed.

    Args:
        dest_dir: Directory the .deb is written to.
        package: Debian package name.
        version: Exact Debian version.

    Returns:
        Path of the downloaded .deb.

    Raises:
        RuntimeError: If apt cannot provide that exact version.
    """
    spec = f"{package}={version}"
    for attempt in range(2):
        result = subprocess.run(
            ["apt-get", "download", spec], cwd=dest_dir, capture_output=True, text=True
        )
        if result.returncode == 0:
            break
        if attempt == 0:
            subprocess.run(["apt-get", "update"], capture_output=True, text=True)
    else:
        raise RuntimeError(f"`apt-get download {spec}` failed: {result.stderr.strip()}")
    debs = sorted(dest_dir.glob(f"{package}_*.deb"))
    if len(debs) != 1:
        raise RuntimeError(f"expected one .deb for {spec} in {dest_dir}, found {debs}")
    return debs[0]


def file_sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def extract_font(deb: Path, work_dir: Path) -> Path:
    """Extract the .deb with `dpkg-deb -x` and return the path of NotoColorEmoji.ttf."""
    root = work_dir / "deb"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    font = root / FONT_PATH_IN_DEB
    if not font.is_file():
        raise RuntimeError(f"{FONT_PATH_IN_DEB} not found in {deb.name}")
    return font


def read_bitmap_glyphs(font_path: Path) -> list[tuple[str, bytes]]:
    """Return (glyph name, PNG bytes) for every bitmap glyph of the largest strike.

    Glyphs are sorted by name so the order never depends on the font's internal layout.
    """
    try:
        from fontTools.ttLib import TTFont
    except ModuleNotFoundError:
        raise SystemExit(
            "reading the emoji font needs fontTools: pip install -e '.[data]'"
        ) from None

    font = TTFont(str(font_path), lazy=True)
    cblc = font["CBLC"]
    cbdt = font["CBDT"]
    best = max(range(len(cblc.strikes)), key=lambda i: cblc.strikes[i].bitmapSizeTable.ppemY)
    strike = cbdt.strikeData[best]
    glyphs = []
    for name in sorted(strike):
        data = getattr(strike[name], "imageData", b"")
        if data.startswith(b"\x89PNG"):
            glyphs.append((name, bytes(data)))
    return glyphs


def render_on_white(png: bytes, size: int):
    """Composite an emoji PNG on white, pad it to a centred square and resize (Lanczos).

    Args:
        png: PNG bytes of one glyph bitmap.
        size: Output side length in pixels.

    Returns:
        An RGB `PIL.Image.Image` of `size` x `size`.
    """
    from PIL import Image

    glyph = Image.open(io.BytesIO(png)).convert("RGBA")
    side = max(glyph.size)
    canvas = Image.new("RGBA", (side, side), (255, 255, 255, 255))
    offset = ((side - glyph.width) // 2, (side - glyph.height) // 2)
    canvas.alpha_composite(glyph, offset)
    return canvas.convert("RGB").resize((size, size), Image.Resampling.LANCZOS)


def png_bytes(image) -> bytes:
    """Encode an image as PNG without any metadata chunk, so bytes depend on pixels only."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=9)
    return buffer.getvalue()


def safe_file_stem(glyph_name: str) -> str:
    """Turn a glyph name into a portable file stem."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", glyph_name)


def download_twemoji(dest_dir: Path) -> Path:
    """`npm pack` the pinned Twemoji package into `dest_dir` and return the tarball."""
    spec = f"{TWEMOJI_PACKAGE}@{TWEMOJI_VERSION}"
    result = subprocess.run(
        ["npm", "pack", spec, "--silent"], cwd=dest_dir, capture_output=True, text=True
    )
    tarballs = sorted(dest_dir.glob("*.tgz"))
    if result.returncode != 0 or len(tarballs) != 1:
        raise RuntimeError(f"`npm pack {spec}` failed: {result.stderr.strip()[-300:]}")
    return tarballs[0]


def twemoji_glyphs(tarball: Path, work_dir: Path, size: int) -> list[tuple[str, object]]:
    """(code points, RGB image on white at `size`) for each Twemoji SVG in the tarball."""
    import tarfile

    from PIL import Image

    root = work_dir / "twemoji"
    with tarfile.open(tarball) as tar:
        tar.extractall(root, filter="data")
    svgs = sorted((root / "package" / "dist" / "svg").glob("*.svg"))
    if not svgs:
        raise RuntimeError(f"no SVG graphics in {tarball.name}")
    inner = round(size * TWEMOJI_FILL)
    glyphs = []
    for svg in svgs:
        png = subprocess.run(
            ["rsvg-convert", "-w", str(inner), "-h", str(inner), str(svg)],
            capture_output=True,
            check=True,
        ).stdout
        drawing = Image.open(io.BytesIO(png)).convert("RGBA")
        canvas = Image.new("RGBA", (size, size), (255, 255, 255, 255))
        canvas.alpha_composite(drawing, ((size - inner) // 2, (size - inner) // 2))
        glyphs.append((svg.stem, canvas.convert("RGB")))
    return glyphs


def split_outputs(outputs, hold_out: bool):
    """Sort (file, record, bytes) outputs into the training and held-out folders."""
    from generation.quality import held_out

    training, held = [], []
    for item in sorted(outputs, key=lambda o: o[0]):
        (held if hold_out and held_out(item[0]) else training).append(item)
    return training, held


def build_training_set(
    out_dir: Path,
    size: int = 64,
    deb: Path | None = None,
    sets: tuple[str, ...] = ("noto",),
    hold_out: bool = False,
    twemoji_tarball: Path | None = None,
) -> dict:
    """Build the emoji training set into `out_dir` and return its manifest.

    Args:
        out_dir: Output directory; its `images/`, `held_out/` and `manifest.json` are replaced.
        size: Output side length in pixels (64 or 128).
        deb: An already downloaded .deb to use instead of calling apt (its
            SHA-256 is recorded either way).
        sets: Which emoji sets (`SETS`).
        hold_out: Put the held-out split in `held_out/`.
        twemoji_tarball: An already downloaded Twemoji tarball instead of `npm pack`.

    Returns:
        The manifest dictionary that was written to `out_dir/manifest.json`.

    Raises:
        ValueError: If `size` is not 64 or 128.
    """
    if size not in (64, 128):
        raise ValueError(f"`size` must be 64 or 128, got {size}")
    unknown = sorted(set(sets) - set(SETS))
    if unknown or not sets:
        raise ValueError(f"`sets` must be some of {SETS}, got {sets}")
    prefix = len(sets) > 1
    sources: dict = {}
    outputs: list[tuple[str, dict, bytes]] = []
    duplicates = 0
    glyphs: list = []
    deb_sha256 = None
    with tempfile.TemporaryDirectory(prefix="atelier-emoji-") as tmp:
        tmp_dir = Path(tmp)
        if "noto" in sets:
            if deb is None:
                deb = download_deb(tmp_dir)
            deb_sha256 = file_sha256(deb)
            glyphs = read_bitmap_glyphs(extract_font(deb, tmp_dir))
            sources["noto"] = {
                "package": f"Debian {PACKAGE} {PACKAGE_VERSION}",
                "sha256": deb_sha256,
                "license": LICENSE,
            }
            seen_pixels: set[str] = set()
            for name, png in glyphs:
                from PIL import Image

                rgba = Image.open(io.BytesIO(png)).convert("RGBA")
                pixel_key = hashlib.sha256(repr(rgba.size).encode() + rgba.tobytes()).hexdigest()
                if pixel_key in seen_pixels:
                    duplicates += 1
                    continue
                seen_pixels.add(pixel_key)
                data = png_bytes(render_on_white(png, size))
                stem = ("noto_" if prefix else "") + safe_file_stem(name)
                record = {"glyph": name, "set": "noto", "license": "Apache-2.0"}
                outputs.append((f"{stem}.png", record, data))
        if "twemoji" in sets:
            tarball = twemoji_tarball or download_twemoji(tmp_dir)
            sources["twemoji"] = {
                "package": f"npm {TWEMOJI_PACKAGE} {TWEMOJI_VERSION}",
                "sha256": file_sha256(tarball),
                "license": TWEMOJI_LICENSE,
            }
            seen: set[str] = set()
            for name, image in twemoji_glyphs(tarball, tmp_dir, size):
                data = png_bytes(image)
                key = hashlib.sha256(image.tobytes()).hexdigest()
                if key in seen:
                    duplicates += 1
                    continue
                seen.add(key)
                stem = ("twemoji_" if prefix else "") + safe_file_stem(name)
                record = {
                    "glyph": name,
                    "set": "twemoji",
                    "license": "CC-BY-4.0",
                    "source": f"dist/svg/{name}.svg",
                }
                outputs.append((f"{stem}.png", record, data))

    training, held = split_outputs(outputs, hold_out)
    files = []
    for folder, items in (("images", training), ("held_out", held)):
        target = out_dir / folder
        if target.exists():
            shutil.rmtree(target)
        if folder == "held_out" and not hold_out:
            continue
        target.mkdir(parents=True)
        for file_name, record, data in items:
            (target / file_name).write_bytes(data)
            files.append(
                {
                    "file": file_name,
                    **record,
                    **({"split": "held_out"} if folder == "held_out" else {}),
                    "sha256": hashlib.sha256(data).hexdigest(),
                }
            )
    manifest = {
        "format": MANIFEST_FORMAT,
        "package": PACKAGE,
        "version": PACKAGE_VERSION,
        "deb_file": deb.name if deb is not None else None,
        "deb_sha256": deb_sha256,
        "sets": list(sets),
        "sources": sources,
        "held_out": len(held),
        "font_path": FONT_PATH_IN_DEB,
        "license": LICENSE,
        "image_size": size,
        "background": "white",
        "resample": "lanczos",
        "glyphs_in_font": len(glyphs),
        "duplicates_dropped": duplicates,
        "count": len(files),
        "files": files,
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="output directory (outside the repo)"
    )
    parser.add_argument("--size", type=int, default=64, choices=(64, 128))
    parser.add_argument(
        "--deb", type=Path, default=None, help="use this .deb instead of apt-get download"
    )
    parser.add_argument("--sets", nargs="+", choices=SETS, default=["noto"])
    parser.add_argument(
        "--hold-out", action="store_true", help="put one picture in ten in OUT/held_out"
    )
    parser.add_argument(
        "--twemoji-tarball", type=Path, default=None, help="use this tarball instead of npm pack"
    )
    args = parser.parse_args(argv)
    manifest = build_training_set(
        args.out,
        size=args.size,
        deb=args.deb,
        sets=tuple(args.sets),
        hold_out=args.hold_out,
        twemoji_tarball=args.twemoji_tarball,
    )
    print(
        f"{manifest['count']} images ({manifest['duplicates_dropped']} duplicates dropped, "
        f"{manifest['held_out']} held out) from {', '.join(manifest['sources'])} -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
