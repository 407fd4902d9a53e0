"""Marketplace benchmark: purchases per second and gallery page time, SQLite and PostgreSQL.

    python bench/marketplace_bench.py                       # SQLite only
    python bench/marketplace_bench.py --postgres "$(scripts/postgres.sh start)"

Prints a table and writes bench/results/marketplace.json. Listings are bulk-inserted (the
registration path hashes images, which is not what is measured here); purchases and gallery
pages go through the real service functions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text

from atelier.bootstrap import Services
from atelier.config import Settings
from db.migrate import upgrade
from db.models import Artwork, Listing, User
from db.session import make_sessionmaker
from marketplace.browse import BrowseQuery, browse_listings
from marketplace.purchases import purchase

WORDS = ["harbour", "fox", "dawn", "mountain", "sea", "city", "rose", "storm", "cat", "moon"]


def fresh_engine(url: str | None, workdir: Path):
    """An empty, migrated database through the one bootstrap (PostgreSQL: its schema reset)."""
    settings = Settings(
        data_dir=workdir,
        database_url=url or f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex}.db'}",
        pool_size=20,
    )
    engine = Services.from_settings(settings, migrate=False).engine
    if url is not None:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    return engine


def seed(engine, listings: int, buyers: int) -> tuple[list[int], list[int]]:
    """Sellers with one artwork and one open exclusive listing each, plus rich buyers."""
    sellers = max(1, listings // 50)
    users = [
        {
            "username": f"seller{i}",
            "username_key": f"seller{i}",
            "password_hash": "x",
            "balance_cents": 0,
        }
        for i in range(sellers)
    ] + [
        {
            "username": f"buyer{i}",
            "username_key": f"buyer{i}",
            "password_hash": "x",
            "balance_cents": 10**12,
        }
        for i in range(buyers)
    ]
    with engine.begin() as conn:
        conn.execute(insert(User), users)
        for start in range(0, listings, 10_000):
            chunk = range(start, min(listings, start + 10_000))
            conn.execute(
                insert(Artwork),
                [
                    {
                        "content_sha256": f"{i:064x}",
                        "pixel_sha256": f"{i:064x}",
                        "perceptual_hash": f"{i:064x}",
                        "perceptual_quality": 100,
                        "width": 64,
                        "height": 64,
                        "format": "PNG",
                        "blob_key": f"{i:064x}",
                        "title": f"{WORDS[i % 10]} {i}",
                        "tags": [WORDS[(i * 7) % 10]],
                        "search_text": (
                            f"{WORDS[i % 10]} {i} {WORDS[(i * 7) % 10]} seller{i % sellers}"
                        ),
                        "creator_id": 1 + i % sellers,
                        "owner_id": 1 + i % sellers,
                        "recipe": {},
                        "ai_label": "ai_generated" if i % 3 else "human_upload",
                        "royalty_bps": 1000,
                    }
                    for i in chunk
                ],
            )
            conn.execute(
                insert(Listing),
                [
                    {
                        "artwork_id": i + 1,
                        "seller_id": 1 + i % sellers,
                        "price_cents": 100 + (i * 7919) % 100_000,
                        "licence_tier": "exclusive",
                        "edition_size": 1,
                        "sold_count": 0,
                        "status": "active",
                        "version": 1,
                    }
                    for i in chunk
                ],
            )
        # what autovacuum would have done on a live server: give the planner statistics
        conn.execute(text("ANALYZE"))
    return list(range(1, listings + 1)), list(range(sellers + 1, sellers + buyers + 1))


def time_pages(engine, repeats: int = 30) -> dict[str, float]:
    readers = make_sessionmaker(engine, read_only=True)
    queries = {
        "newest, page 1": BrowseQuery(),
        "price_asc, page 50": BrowseQuery(sort="price_asc", page=50),
        "search 'harbour'": BrowseQuery(text="harbour"),
        "price 100-200 + ai_generated": BrowseQuery(
            min_price_cents=10_000, max_price_cents=20_000, ai_label="ai_generated"
        ),
    }
    results = {}
    for name, q in queries.items():
        samples = []
        for _ in range(repeats):
            t = time.perf_counter()
            with readers() as s:
                browse_listings(s, q)
            samples.append((time.perf_counter() - t) * 1000)
        results[name] = statistics.median(samples)
    return results


def postgres_cpu_seconds() -> float:
    """CPU time used so far by this machine's PostgreSQL processes (user + system, from
    /proc): the server's share of a purchase when it runs here. Exited backends are not
    counted, so the bench's connections stay open while it measures."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        if name == "postgres":
            fields = text[text.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


CPU = {}  # what the last time_purchases call measured: CPU ms per purchase
HOLDS: list[float] = []  # seconds each purchase held the log's lock (while HOLDS_ON)
HOLDS_ON = threading.Event()


def hold_log_lock_timer() -> None:
    """Time how long each purchase holds the transparency log's lock: from the moment its
    append starts (the statement that takes the lock) to the end of its commit. Measured on
    one thread, where no append waits for another, this is the time the log is closed to
    everyone else, so 1 / hold bounds purchases per second however many cores there are."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from marketplace import transparency

    append = transparency.append_leaves

    def timed(session, leaves):
        session.info["log_lock_at"] = time.perf_counter()
        return append(session, leaves)

    transparency.append_leaves = timed

    @event.listens_for(Session, "after_commit")
    def _done(session) -> None:
        began = session.info.pop("log_lock_at", None)
        if began is not None and HOLDS_ON.is_set():
            HOLDS.append(time.perf_counter() - began)


def time_purchases(engine, listing_ids, buyer_ids, count: int, threads: int) -> float:
    sessions = make_sessionmaker(engine)
    with engine.connect():  # open the pool's connections before measuring their CPU
        pass
    todo = list(listing_ids[:count])
    lock = threading.Lock()

    def worker(w: int) -> None:
        while True:
            with lock:
                if not todo:
                    return
                listing_id = todo.pop()
            with sessions() as s, s.begin():
                purchase(s, listing_id, buyer_ids[w % len(buyer_ids)], uuid.uuid4().hex)

    server, client = postgres_cpu_seconds(), time.process_time()
    start = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(w,)) for w in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - start
    CPU["server_ms"] = round((postgres_cpu_seconds() - server) * 1000 / count, 2)
    CPU["client_ms"] = round((time.process_time() - client) * 1000 / count, 2)
    return count / elapsed


def run(backend: str, url: str | None, sizes: list[int], purchases: int, workdir: Path):
    rows = []
    for size in sizes:
        engine = fresh_engine(url, workdir)
        t = time.perf_counter()
        listing_ids, buyer_ids = seed(engine, size, buyers=16)
        seeded = time.perf_counter() - t
        pages = time_pages(engine)
        row = {
            "backend": backend,
            "listings": size,
            "seed_seconds": round(seeded, 1),
            "page_ms": {k: round(v, 2) for k, v in pages.items()},
        }
        if size == sizes[0]:
            HOLDS.clear()
            HOLDS_ON.set()
            row["purchases_per_second_1_thread"] = round(
                time_purchases(engine, listing_ids, buyer_ids, purchases, 1), 1
            )
            HOLDS_ON.clear()
            holds = sorted(HOLDS)
            row["log_lock_hold_ms_median"] = round(statistics.median(holds) * 1000, 3)
            row["log_lock_hold_ms_p95"] = round(holds[int(len(holds) * 0.95)] * 1000, 3)
            if backend == "postgresql":
                # CPU per purchase: the server's (all its processes) and this client's
                row["server_cpu_ms_per_purchase"] = CPU["server_ms"]
                row["client_cpu_ms_per_purchase"] = CPU["client_ms"]
            # 4 client threads: the target (≥ 200/s on PostgreSQL); 8 for headroom
            row["purchases_per_second_4_threads"] = round(
                time_purchases(engine, listing_ids[purchases:], buyer_ids, purchases, 4), 1
            )
            if backend == "postgresql":
                row["server_cpu_ms_per_purchase_4_threads"] = CPU["server_ms"]
                row["client_cpu_ms_per_purchase_4_threads"] = CPU["client_ms"]
            row["purchases_per_second_8_threads"] = round(
                time_purchases(engine, listing_ids[2 * purchases :], buyer_ids, purchases, 8), 1
            )
        rows.append(row)
        engine.dispose()
        print(json.dumps(row), flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL to benchmark too")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--purchases", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path("bench/results/marketplace.json"))
    args = parser.parse_args()
    hold_log_lock_timer()
    with tempfile.TemporaryDirectory() as tmp:
        rows = run("sqlite", None, args.sizes, args.purchases, Path(tmp))
        if args.postgres:
            rows += run("postgresql", args.postgres, args.sizes, args.purchases, Path(tmp))
    report = {
        "machine": f"{platform.machine()}, {platform.python_version()}, "
        f"{__import__('os').cpu_count()} cpus",
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    names = list(rows[0]["page_ms"])
    print()
    print(
        "| backend | listings | purchases/s (1 thread) | purchases/s (4 threads) | "
        "purchases/s (8 threads) | " + " | ".join(f"page ms: {n}" for n in names) + " |"
    )
    print("|---" * (5 + len(names)) + "|")
    for r in rows:
        print(
            f"| {r['backend']} | {r['listings']:,} | "
            f"{r.get('purchases_per_second_1_thread', '')} | "
            f"{r.get('purchases_per_second_4_threads', '')} | "
            f"{r.get('purchases_per_second_8_threads', '')} | "
            + " | ".join(f"{r['page_ms'][n]}" for n in names)
            + " |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
