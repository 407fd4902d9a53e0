"""PDQ search at 1 M hashes: exhaustive flat search vs the multi-hash index.

    python bench/pdq_bench.py [--size 1000000] [--queries 2000]

Queries are near copies (up to 31 flipped bits, uniformly, which is harsher than real
copies: most re-encodings change fewer than 20 bits) and unrelated hashes. Prints ms per
query (one thread) and how many of the exhaustive search's matches the index finds; writes
bench/results/pdq.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from provenance.pdq_index import PdqIndex


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=Path("bench/results/pdq.json"))
    args = parser.parse_args()
    import faiss

    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(0)
    db = rng.integers(0, 256, (args.size, 32), dtype=np.uint8)
    hexes = [row.tobytes().hex() for row in db]
    half = args.queries // 2
    queries = []
    for row in db[rng.integers(0, args.size, half)]:
        value = int(row.tobytes().hex(), 16)
        for bit in rng.choice(256, rng.integers(0, 32), replace=False):
            value ^= 1 << int(bit)
        queries.append(f"{value:064x}")
    queries += [rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex() for _ in range(half)]
    results = {}
    found = {}
    for name, exhaustive in (("flat", True), ("multi-hash 16x16", False)):
        index = PdqIndex(exhaustive=exhaustive)
        start = time.perf_counter()
        index.add(list(range(1, args.size + 1)), hexes)
        build = time.perf_counter() - start
        start = time.perf_counter()
        found[name] = [set(i for i, _ in index.search([q])) for q in queries]
        per_query = (time.perf_counter() - start) / len(queries) * 1000
        results[name] = {"build_seconds": round(build, 2), "ms_per_query": round(per_query, 4)}
    truth = sum(len(s) for s in found["flat"])
    hit = sum(len(a & b) for a, b in zip(found["flat"], found["multi-hash 16x16"], strict=True))
    results["multi-hash 16x16"]["recall_vs_flat"] = round(hit / truth, 4) if truth else 1.0
    results["matches_in_flat"] = truth
    report = {"size": args.size, "queries": len(queries), "results": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
