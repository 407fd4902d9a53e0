"""How the local-feature candidate search scales: the word index at 10,000 and 100,000 works.

Verify's cost has two parts: the query's own work (decoding, ORB, words, verifying at most
17 candidates), which does not depend on how many works are registered, and the search of
the inverted word index, which does. This bench takes the real word sets that
bench/identify_bench.py registered (`--keep DIR`), repeats them under new ids up to each
size (so the posting lists grow as they would), and times `WordIndex.search` for the
queries of real copies, plus the time to build the index from the table's bytes and its
memory.

    python bench/word_index_bench.py --keep /tmp/idbench
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, required=True)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("bench/results/word_index.json"))
    args = parser.parse_args()

    from sqlalchemy import create_engine, select

    from db.models import ArtworkFeatures
    from provenance import local_features as lf

    engine = create_engine(f"sqlite:///{args.keep / 'bench.db'}")
    with engine.connect() as conn:
        rows = conn.execute(select(ArtworkFeatures.artwork_id, ArtworkFeatures.words)).all()
    word_sets = [np.frombuffer(r.words, "<u2").astype(np.int32) for r in rows]
    rng = np.random.default_rng(0)
    # queries: a real work's words with a third dropped and 100 foreign words added (a crop
    # with a caption)
    queries = []
    for i in rng.choice(len(word_sets), args.queries, replace=False):
        words = word_sets[i]
        kept = words[rng.random(len(words)) > 0.33]
        queries.append(np.concatenate([kept, rng.integers(0, lf.VOCABULARY_SIZE, 100)]))
    report = {"real_word_sets": len(word_sets), "sizes": []}
    for size in args.sizes:
        tracemalloc.start()
        start = time.perf_counter()
        index = lf.WordIndex()
        for ident in range(1, size + 1):
            index.add(ident, word_sets[(ident - 1) % len(word_sets)])
        index.search(queries[0], 12)  # builds the posting arrays
        build = time.perf_counter() - start
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        times = []
        for q in queries:
            t = time.perf_counter()
            index.search(q, 12)
            times.append(time.perf_counter() - t)
        row = {
            "works": size,
            "build_seconds": round(build, 2),
            "peak_mb": round(peak / 2**20, 1),
            "search_ms_median": round(statistics.median(times) * 1000, 2),
            "search_ms_p90": round(sorted(times)[int(0.9 * len(times))] * 1000, 2),
        }
        report["sizes"].append(row)
        print(row, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
