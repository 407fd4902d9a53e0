"""Build the bundled GAN training set from Debian's `fonts-noto-color-emoji`.

The images are the colour bitmaps (CBDT/CBLC, PNG strikes of about 136x128 px)
inside NotoColorEmoji.ttf, which is Apache-2.0 licensed. The build is
reproducible: it pins the exact Debian package version, records the SHA-256 of
the .deb, and writes PNGs whose names and bytes depend only on the font, so
running it twice gives byte-identical output.

Example:
    python scripts/build_training_set.py --out /work/atelier-data/emoji64 --size 64
    python scripts/build_training_set.py --out /work/atelier-data/emoji128 --size 128

Output layout:
    OUT/images/<glyph-name>.png   one RGB PNG per distinct emoji, white background
    OUT/manifest.json             package, version, .deb SHA-256, per-file SHA-256
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

PACKAGE = "fonts-noto-color-emoji"
# Debian 12 (bookworm) version; change it deliberately, since it changes the data set.
PACKAGE_VERSION = "2.042-0+deb12u1"
FONT_PATH_IN_DEB = "usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
LICENSE = "Apache-2.0 (images in Noto Color Emoji)"
MANIFEST_FORMAT = 1


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
    from fontTools.ttLib import TTFont

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


def build_training_set(out_dir: Path, size: int = 64, deb: Path | None = None) -> dict:
    """Build the emoji training set into `out_dir` and return its manifest.

    Args:
        out_dir: Output directory; its `images/` and `manifest.json` are replaced.
        size: Output side length in pixels (64 or 128).
        deb: An already downloaded .deb to use instead of calling apt (its
            SHA-256 is recorded either way).

    Returns:
        The manifest dictionary that was written to `out_dir/manifest.json`.

    Raises:
        ValueError: If `size` is not 64 or 128.
    """
    if size not in (64, 128):
        raise ValueError(f"`size` must be 64 or 128, got {size}")
    with tempfile.TemporaryDirectory(prefix="atelier-emoji-") as tmp:
        tmp_dir = Path(tmp)
        if deb is None:
            deb = download_deb(tmp_dir)
        deb_sha256 = file_sha256(deb)
        glyphs = read_bitmap_glyphs(extract_font(deb, tmp_dir))

        seen_pixels: set[str] = set()
        outputs: list[tuple[str, str, bytes]] = []
        duplicates = 0
        for name, png in glyphs:
            from PIL import Image

            rgba = Image.open(io.BytesIO(png)).convert("RGBA")
            pixel_key = hashlib.sha256(repr(rgba.size).encode() + rgba.tobytes()).hexdigest()
            if pixel_key in seen_pixels:
                duplicates += 1
                continue
            seen_pixels.add(pixel_key)
            data = png_bytes(render_on_white(png, size))
            outputs.append((f"{safe_file_stem(name)}.png", name, data))

    images_dir = out_dir / "images"
    if images_dir.exists():
        shutil.rmtree(images_dir)
    images_dir.mkdir(parents=True)
    files = []
    for file_name, glyph_name, data in sorted(outputs):
        (images_dir / file_name).write_bytes(data)
        files.append(
            {"file": file_name, "glyph": glyph_name, "sha256": hashlib.sha256(data).hexdigest()}
        )
    manifest = {
        "format": MANIFEST_FORMAT,
        "package": PACKAGE,
        "version": PACKAGE_VERSION,
        "deb_file": deb.name,
        "deb_sha256": deb_sha256,
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
    args = parser.parse_args(argv)
    manifest = build_training_set(args.out, size=args.size, deb=args.deb)
    print(
        f"{manifest['count']} images ({manifest['duplicates_dropped']} duplicates dropped) "
        f"from {PACKAGE} {PACKAGE_VERSION} (deb sha256 {manifest['deb_sha256']}) -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
