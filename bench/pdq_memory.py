"""The PDQ index's memory per million works: what each replica holds for the first signal.

Builds `provenance.pdq_index.PdqIndex` (the one verify and the copyright guard use) over N
random 256-bit hashes and reports the growth of this process's resident memory (faiss keeps
its arrays outside Python's allocator, so tracemalloc would not see them) and the time to
build it, as a replica does on its first query.

    python bench/pdq_memory.py --works 1000000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--works", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("bench/results/pdq_memory.json"))
    args = parser.parse_args()

    import numpy as np

    from provenance.pdq_index import PdqIndex

    rng = np.random.default_rng(7)
    hexes = [bytes(row).hex() for row in rng.integers(0, 256, (args.works, 32), dtype=np.uint8)]
    ids = list(range(1, args.works + 1))
    before = rss_mb()
    started = time.perf_counter()
    index = PdqIndex()
    for start in range(0, args.works, 100_000):  # as the sync adds rows, in batches
        index.add(ids[start : start + 100_000], hexes[start : start + 100_000])
    built = time.perf_counter() - started
    grown = rss_mb() - before
    queries = hexes[:1000]
    started = time.perf_counter()
    for h in queries:
        index.search([h])
    per_query = (time.perf_counter() - started) / len(queries) * 1000
    row = {
        "works": args.works,
        "memory_mb": round(grown, 1),
        "build_seconds": round(built, 1),
        "search_ms": round(per_query, 3),
    }
    print(json.dumps(row))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(row, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
