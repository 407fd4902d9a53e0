"""The screenshot family of the identify bench: each source shown in a Chromium page at 80%
zoom, with a social site's chrome around it (a header bar, an avatar and a name, text above
and buttons below), screenshotted (the visible viewport, PNG) and identified.

It runs against the database and blobs that bench/identify_bench.py left (`--keep DIR`), so
the 10,000 distractors are not registered twice. Sources are found again by the SHA-256 of
their registered files, so a source the guard refused is skipped, never mislabelled.

    python bench/identify_bench.py ... --keep /tmp/idbench
    python bench/screenshots.py --keep /tmp/idbench --emoji ... --wallpapers ...

Needs Debian's Chromium (scripts/chromium.sh) and Playwright (the test extras).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import shutil
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from PIL import Image

PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
html {{ zoom: 0.8; }}
body {{ margin: 0; font: 15px system-ui, sans-serif; background: #f0f2f5; color: #1c1e21; }}
header {{ height: 56px; background: #1877f2; color: white; display: flex; align-items: center;
  padding: 0 16px; font-weight: 700; font-size: 22px; }}
main {{ width: 680px; margin: 16px auto; background: white; border-radius: 8px;
  box-shadow: 0 1px 2px rgba(0,0,0,.2); padding: 12px 16px; }}
.who {{ display: flex; align-items: center; gap: 8px; margin-bottom: 8px; }}
.avatar {{ width: 40px; height: 40px; border-radius: 50%; background: #c9a; }}
img {{ display: block; width: 100%; margin: 8px auto; }}
.bar {{ display: flex; justify-content: space-around; border-top: 1px solid #ddd;
  padding-top: 8px; color: #65676b; font-weight: 600; }}
</style></head><body><header>friendface</header><main>
<div class="who"><div class="avatar"></div><div><b>Sam Poster</b><br>
<small>2 h &middot; public</small></div></div>
<p>found this on my feed, love it!! who made it? #art #ai</p>
<img src="data:image/png;base64,{png}">
<div class="bar"><span>Like</span><span>Comment</span><span>Share</span></div>
</main></body></html>"""


def screenshot_pages(images: list[Image.Image]) -> list[bytes]:
    """Each picture in the page above (shown at the post's width, as social sites do) at 80%
    zoom, screenshotted at 1280x900."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    shots = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for img in images:
            buffer = io.BytesIO()
            img.save(buffer, "PNG")
            page.set_content(PAGE.format(png=base64.b64encode(buffer.getvalue()).decode()))
            page.wait_for_load_state("load")
            shots.append(page.screenshot(type="png"))
        browser.close()
    return shots


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keep", type=Path, required=True)
    parser.add_argument("--emoji", type=Path, required=True)
    parser.add_argument("--wallpapers", type=Path, required=True)
    parser.add_argument("--photos", type=Path, default=None, help="as identify_bench.py's")
    parser.add_argument("--emoji-offset", type=int, default=1000)
    parser.add_argument("--per-kind", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path("bench/results/identify_screenshots.json"))
    parser.add_argument(
        "--save", type=Path, default=None, help="also keep every screenshot here (PNG)"
    )
    args = parser.parse_args()

    from identify_bench import (
        gan_images,
        photo_patches,
        sources_by_sha,
        stylised_contents,
        stylised_images,
        wallpaper_patches,
    )

    from atelier.bootstrap import Services
    from atelier.config import Settings
    from generation.gan_pipeline import default_model_dir
    from marketplace.identification import identify
    from provenance.checkpoint import NoteSigner

    n = args.per_kind
    emoji = [Image.open(p).convert("RGB") for p in sorted(args.emoji.glob("*.png"))]
    patches = wallpaper_patches(args.wallpapers, 100_000, 0)
    contents = stylised_contents(emoji, patches)
    kinds = {
        "emoji clip art": emoji[args.emoji_offset : args.emoji_offset + 2 * n],
        "wallpaper patches": patches[: 2 * n],
        "GAN outputs": gan_images(default_model_dir(), 2 * n, 0),
        "stylised works": stylised_images(contents, 2 * n, 0),
    }
    if args.photos:
        kinds["photographs"] = photo_patches(args.photos)[: 2 * n]
    services = Services.from_settings(
        Settings(data_dir=args.keep, database_url=f"sqlite:///{args.keep / 'bench.db'}")
    )
    sources = sources_by_sha(services.sessions, kinds, n)
    shots = screenshot_pages([img for *_, img in sources])
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        for (_kind, split, aid, _img), shot in zip(sources, shots, strict=True):
            (args.save / f"{split}-{aid}.png").write_bytes(shot)
    signer = NoteSigner.generate("bench.example/log")
    counts = defaultdict(lambda: defaultdict(int))
    seconds = []
    for (kind, split, aid, _img), shot in zip(sources, shots, strict=True):
        row = counts[(split, kind)]
        row["copies"] += 1
        start = time.perf_counter()
        with services.sessions() as s, s.begin():
            result = identify(
                s, shot, anchor_pem=None, signer=signer, blobs=services.blobs, rerun_recipe=False
            )
        seconds.append(time.perf_counter() - start)
        if result.artwork_id is not None:
            row["named" if result.artwork_id == aid else "wrong"] += 1
        elif result.verdict == "similar_to":
            row["similar"] += 1
    report = {"rows": [], "verify_ms_median": round(statistics.median(seconds) * 1000, 1)}
    for (split, kind), row in sorted(counts.items()):
        report["rows"].append({"split": split, "kind": kind, **row})
        print(f"{split:9s} {kind:18s} named {row['named']}/{row['copies']} wrong {row['wrong']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    # one screenshot to look at
    Image.open(io.BytesIO(shots[0])).save(args.out.with_suffix(".png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
