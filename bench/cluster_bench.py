"""On a running cluster (scripts/cluster.sh up): how soon a work registered through one
replica is named by verify on another, and purchases/s through HAProxy.

For each of N works: register it through replica 1 (directly, not through HAProxy), then
send a JPEG re-encoding of it to verify on replica 2 until the verdict names it; the time
from the registration's answer to the first naming verdict is the figure. Verify is
identification from the tables on every query, so it should be one verify's time.

    scripts/cluster.sh up && python bench/cluster_bench.py
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--works", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/cluster.json")
    args = parser.parse_args()

    from gradio_client import Client, handle_file
    from sqlalchemy import create_engine

    from db.session import make_sessionmaker
    from marketplace.web_sessions import sign_up
    from tests.factories import FAST_HASHER, art_image, encode
    from tests.scripts import key_values, run_script

    status = key_values(run_script("cluster.sh", "status").stdout)
    first, second = status["replica_urls"].split(",")[:2]
    engine = create_engine(status["database_url"])
    with make_sessionmaker(engine)() as s, s.begin():
        name = f"bench{uuid.uuid4().hex[:8]}"
        token = sign_up(s, name, "a long password", hasher=FAST_HASHER, ip="10.9.9.9").token
    engine.dispose()
    artist = Client(first, verbose=False, httpx_kwargs={"cookies": {"atelier_session": token}})
    guest = Client(second, verbose=False)
    folder = Path(tempfile.mkdtemp())
    seen = []
    for i in range(args.works):
        picture = art_image(int.from_bytes(os.urandom(3), "big"), 256)
        original, copy = folder / f"w{i}.png", folder / f"w{i}.jpg"
        original.write_bytes(encode(picture, "PNG"))
        buffer = io.BytesIO()
        picture.convert("RGB").save(buffer, "JPEG", quality=85)
        copy.write_bytes(buffer.getvalue())
        _message, artwork_id = artist.predict(
            handle_file(str(original)), f"cluster bench {i}", "", api_name="/register"
        )
        registered = time.perf_counter()
        while True:
            verdict = guest.predict(handle_file(str(copy)), api_name="/verify")[0]
            if f"#{int(artwork_id)}" in verdict:
                seen.append(time.perf_counter() - registered)
                break
            if time.perf_counter() - registered > 30:
                seen.append(float("inf"))
                break
    row = {
        "works": args.works,
        "named_on_other_replica_median_s": round(statistics.median(seen), 3),
        "named_on_other_replica_max_s": round(max(seen), 3),
        "all_within_1_s": all(t <= 1.0 for t in seen),
        "each_s": [round(t, 3) for t in seen],
    }
    print(json.dumps(row))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(row, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
