"""Web app benchmark: cold start to the first served page, and gallery page time through the
app's API at 10k listings (p50/p95).

    python bench/web_bench.py                  # 3 cold starts, 10,000 listings, 30 pages per query
    python bench/web_bench.py --listings 100000 --repeats 50

Each measurement runs `atelier serve` in its own process on a fresh data folder, as a person
would start it:
- cold start: from spawning the process until `GET /` answers 200 (imports, migrations on an
  empty SQLite database, key creation, building the UI);
- gallery pages: the `/search` endpoint called with gradio_client (the client a script
  would use; the same queue and handler a browser's search goes through), timed per call,
  after two warm-up calls per query. The client does not download the thumbnails (a browser
  fetches and caches them separately), so this is the time to the page's data.

Listings are bulk-inserted as in bench/marketplace_bench.py (registration hashes every
image, which is not what is measured here), but their pictures are real: 48 GAN samples in
the blob store, so the gallery handler makes and serves real thumbnails.

Prints a table and writes bench/results/web.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

IMAGES = 48
QUERIES = {
    "newest, page 1": ("", "", "", "", "", "newest", 1),
    "price low to high, page 50": ("", "", "", "", "", "price_asc", 50),
    "search 'harbour'": ("harbour", "", "", "", "", "newest", 1),
    "price 100-200, AI-generated": ("", "100", "200", "", "ai_generated", "newest", 1),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path) -> tuple[subprocess.Popen, str, float]:
    """Spawn `atelier serve` on `data_dir`; returns (process, url, seconds until GET / is 200)."""
    port = free_port()
    env = {
        **os.environ,
        "ATELIER_DATA_DIR": str(data_dir),
        "GRADIO_ANALYTICS_ENABLED": "False",
        # the repository root, so `ui` imports even from an install made before it existed
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    env.pop("DATABASE_URL", None)
    atelier = Path(sys.executable).with_name("atelier")
    command = [str(atelier)] if atelier.exists() else [sys.executable, "-m", "atelier.cli"]
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    process = subprocess.Popen(
        [*command, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = started + 300
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"atelier serve exited: {process.stderr.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return process, url, time.perf_counter() - started
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the app did not answer in 300 s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def cold_starts(count: int, workdir: Path) -> list[float]:
    seconds = []
    for i in range(count):
        process, _url, elapsed = start_server(workdir / f"cold{i}")
        stop(process)
        seconds.append(elapsed)
        print(f"cold start {i + 1}: {elapsed:.2f} s", flush=True)
    return seconds


def seed_gallery(data_dir: Path, listings: int) -> None:
    """`listings` open listings in a fresh SQLite database in `data_dir`, pictured by real
    GAN samples in its blob store."""
    from marketplace_bench import seed
    from sqlalchemy import update

    from db.blobs import LocalBlobStore
    from db.migrate import upgrade
    from db.models import Artwork
    from db.session import make_engine
    from generation.gan_pipeline import load_model
    from generation.recipe_kinds import png_with_recipe

    engine = make_engine(f"sqlite:///{data_dir / 'atelier.db'}")
    upgrade(engine)
    seed(engine, listings, buyers=4)
    pipeline = load_model()
    out = pipeline(num_images=IMAGES, seed=1000, truncation=0.7, size=128)
    blobs = LocalBlobStore(data_dir / "blobs")
    keys = [
        blobs.put(png_with_recipe(image, recipe))
        for image, recipe in zip(out.images, out.recipes, strict=True)
    ]
    with engine.begin() as conn:
        for k, key in enumerate(keys):
            conn.execute(update(Artwork).where(Artwork.id % IMAGES == k).values(blob_key=key))
    engine.dispose()


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def gallery_pages(url: str, repeats: int) -> dict[str, dict[str, float]]:
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False)
    results = {}
    for name, args in QUERIES.items():
        for _ in range(2):
            client.predict(*args, api_name="/search")
        samples = []
        for _ in range(repeats):
            t = time.perf_counter()
            _tiles, _table, summary = client.predict(*args, api_name="/search")
            samples.append((time.perf_counter() - t) * 1000)
        results[name] = {
            "p50_ms": round(statistics.median(samples), 1),
            "p95_ms": round(percentile(samples, 0.95), 1),
            "summary": summary,
        }
        print(
            f"{name}: p50 {results[name]['p50_ms']} ms, p95 {results[name]['p95_ms']} ms "
            f"({summary})",
            flush=True,
        )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cold-starts", type=int, default=3)
    parser.add_argument("--listings", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "web.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        starts = cold_starts(args.cold_starts, workdir)
        data_dir = workdir / "gallery"
        data_dir.mkdir()
        t = time.perf_counter()
        seed_gallery(data_dir, args.listings)
        seeded = time.perf_counter() - t
        process, url, warm_start = start_server(data_dir)
        try:
            pages = gallery_pages(url, args.repeats)
        finally:
            stop(process)
    report = {
        "machine": f"{platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f} at the end",
        "command": "python bench/web_bench.py "
        f"--cold-starts {args.cold_starts} --listings {args.listings} --repeats {args.repeats}",
        "cold_start_seconds": [round(s, 2) for s in starts],
        "cold_start_median_seconds": round(statistics.median(starts), 2),
        "listings": args.listings,
        "seed_seconds": round(seeded, 1),
        "start_on_seeded_data_seconds": round(warm_start, 2),
        "gallery_search_ms": pages,
        "repeats": args.repeats,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(
        f"cold start to first page: median {report['cold_start_median_seconds']} s "
        f"({', '.join(f'{s:.2f}' for s in starts)})"
    )
    print(f"| gallery query at {args.listings:,} listings | p50 ms | p95 ms |")
    print("|---|---|---|")
    for name, row in pages.items():
        print(f"| {name} | {row['p50_ms']} | {row['p95_ms']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
