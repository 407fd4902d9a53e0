"""Transparency log and Content Credentials timings.

    python bench/log_bench.py [--events 1000000]

- append and proof time of the Merkle log at N events (in-memory hash store: the algorithm,
  O(log n) per append), and appends through the database (SQLite file, 100 events per
  transaction, as the app writes them);
- C2PA sign and read/verify time per 512 px PNG.
Prints JSON and writes bench/results/log.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from provenance.merkle import (
    MemoryHashStore,
    MerkleLog,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)


def memory_log(events: int) -> dict:
    log = MerkleLog(MemoryHashStore())
    start = time.perf_counter()
    for i in range(events):
        log.append(b'{"event_id":%d,"kind":"sold"}' % i)
    append_us = (time.perf_counter() - start) / events * 1e6
    root = log.root()
    samples, checks = [], []
    for i in range(0, events, max(1, events // 1000)):
        t = time.perf_counter()
        proof = log.inclusion_proof(i)
        samples.append((time.perf_counter() - t) * 1e6)
        t = time.perf_counter()
        assert verify_inclusion(
            leaf_hash(b'{"event_id":%d,"kind":"sold"}' % i), i, events, proof, root
        )
        checks.append((time.perf_counter() - t) * 1e6)
    t = time.perf_counter()
    consistency = log.consistency_proof(events // 3)
    consistency_us = (time.perf_counter() - t) * 1e6
    assert verify_consistency(events // 3, events, consistency, log.root(events // 3), root)
    return {
        "events": events,
        "append_us": round(append_us, 2),
        "inclusion_proof_us_median": round(statistics.median(samples), 1),
        "inclusion_proof_nodes": len(log.inclusion_proof(events // 2)),
        "verify_inclusion_us_median": round(statistics.median(checks), 1),
        "consistency_proof_us": round(consistency_us, 1),
    }


def database_log(events: int, batch: int = 100) -> dict:
    from atelier.bootstrap import Services
    from atelier.config import Settings
    from marketplace.events import record_event

    with tempfile.TemporaryDirectory() as tmp:
        services = Services.from_settings(
            Settings(data_dir=Path(tmp), database_url=f"sqlite:///{tmp}/log.db")
        )
        engine, sessions = services.engine, services.sessions
        start = time.perf_counter()
        for done in range(0, events, batch):
            with sessions() as s, s.begin():
                for i in range(done, min(events, done + batch)):
                    record_event(s, "listed", artwork_id=None, actor_id=None, payload={"n": i})
        per_event = (time.perf_counter() - start) / events * 1e6
        engine.dispose()
    return {"events": events, "batch": batch, "us_per_event_with_log": round(per_event, 1)}


def c2pa_timing(repeats: int = 10) -> dict:
    from provenance.c2pa import (
        TRAINED,
        ManifestSpec,
        create_signing_material,
        read_manifest,
        sign_image,
    )
    from tests.factories import png_bytes

    material = create_signing_material()
    spec = ManifestSpec("bench", TRAINED, "ISCC:EEAXYZ", {"artwork_id": 1})
    signs, reads = [], []
    for seed in range(repeats):
        data = png_bytes(seed, 512)
        t = time.perf_counter()
        signed = sign_image(data, "image/png", spec, material)
        signs.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        assert read_manifest(signed, "image/png", material.anchor_pem).state == "trusted"
        reads.append((time.perf_counter() - t) * 1000)
    return {
        "sign_ms_median": round(statistics.median(signs), 2),
        "read_verify_ms_median": round(statistics.median(reads), 2),
        "overhead_bytes": len(signed) - len(data),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--db-events", type=int, default=20_000)
    parser.add_argument("--out", type=Path, default=Path("bench/results/log.json"))
    args = parser.parse_args()
    report = {
        "memory": memory_log(args.events),
        "database": database_log(args.db_events),
        "c2pa": c2pa_timing(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
