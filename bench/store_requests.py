"""How many object-store requests each action makes: the S3 requests per purchase,
registration, verification, download and preview that docs/SCALING.md builds on.

A counting wrapper stands in front of the blob store while the real services run one
scenario on a fresh SQLite database: 50 works registered, each listed, 50 purchases, 50
verifications of a re-encoded copy, 50 signed downloads and 50 first gallery previews. The
code paths are the same for every store, so these are the requests S3 would see.

    python bench/store_requests.py
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WORKS = 50


class Counting:
    """A blob store that counts each call by method, for the current action."""

    def __init__(self, inner) -> None:
        self.inner, self.shared, self.action = inner, True, "setup"
        self.counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)

    def __getattr__(self, name):
        method = getattr(self.inner, name)

        def counted(*args, **kwargs):
            self.counts[self.action][name] += 1
            return method(*args, **kwargs)

        return counted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench/results/store_requests.json"))
    args = parser.parse_args()

    from PIL import Image

    from atelier.bootstrap import Services
    from atelier.config import Settings
    from db.blobs import LocalBlobStore
    from marketplace import certificates, identification, listings, purchases
    from marketplace.accounts import sign_up
    from marketplace.artworks import register_artwork
    from marketplace.media import preview_path
    from tests.factories import FAST_HASHER, art_image, encode

    folder = Path(tempfile.mkdtemp(prefix="store-requests-"))
    services = Services.from_settings(
        Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'a.db'}")
    )
    blobs = Counting(LocalBlobStore(folder / "blobs"))
    with services.sessions() as s, s.begin():
        seller = sign_up(s, "ada", "a long password", hasher=FAST_HASHER).id
        buyers = [
            sign_up(s, f"buyer{i}", "a long password", hasher=FAST_HASHER).id for i in range(WORKS)
        ]
    pictures = [encode(art_image(3000 + i, 256), "PNG") for i in range(WORKS)]
    works, offers = [], []
    blobs.action = "register"
    for i, data in enumerate(pictures):
        with services.sessions() as s, s.begin():
            works.append(register_artwork(s, blobs, data, owner_id=seller, title=f"w{i}").id)
    blobs.action = "list"
    for work in works:
        with services.sessions() as s, s.begin():
            offers.append(
                listings.create_listing(
                    s, work, seller, price_cents=1000, licence_tier="exclusive"
                ).id
            )
    blobs.action = "purchase"
    for offer, buyer in zip(offers, buyers, strict=True):
        with services.sessions() as s, s.begin():
            purchases.purchase(s, offer, buyer, f"k{offer}")

    def cropped(picture):
        w, h = picture.size
        return picture.crop((w // 5, h // 6, w, h))

    def verify(data):
        with services.sessions() as s, s.begin():
            identification.identify(
                s,
                data,
                anchor_pem=services.c2pa.anchor_pem,
                signer=services.log_signer,
                blobs=blobs,
                model_cache=services.model_cache,
            )

    for action, change in (
        ("verify (re-encoded copy)", lambda picture: picture),
        ("verify (cropped copy)", cropped),
    ):
        blobs.action = action
        for data in pictures:
            copy = io.BytesIO()
            change(Image.open(io.BytesIO(data)).convert("RGB")).save(copy, "JPEG", quality=80)
            verify(copy.getvalue())

    blobs.action = "signed download"
    for work in works:
        with services.sessions() as s:
            certificates.signed_download(s, blobs, work, services.c2pa)
    blobs.action = "first preview"
    with services.sessions() as s:
        from db.models import Artwork

        keys = [s.get(Artwork, w).blob_key for w in works]
    for key in keys:
        preview_path(blobs, key, folder / "previews", b"s" * 32, 256)
    blobs.action = "preview, another replica"
    for key in keys:
        preview_path(blobs, key, folder / "previews-b", b"s" * 32, 256)

    rows = []
    for action, counter in blobs.counts.items():
        if action == "setup":
            continue
        per = {name: round(n / WORKS, 2) for name, n in sorted(counter.items())}
        each = round(sum(counter.values()) / WORKS, 2)
        rows.append({"action": action, "requests_each": each, **per})
    for action in ("list", "purchase", "verify (re-encoded copy)"):
        if action not in blobs.counts:
            rows.append({"action": action, "requests_each": 0})
    for row in rows:
        detail = ", ".join(
            f"{k} {v}" for k, v in row.items() if k not in ("action", "requests_each")
        )
        each = row["requests_each"]
        print(f"{row['action']:26s} {each:5.2f} requests each  ({detail or 'none'})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
