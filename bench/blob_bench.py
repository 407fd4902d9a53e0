"""Which S3 client Atelier's blob store uses: obstore against boto3, on a real SeaweedFS.

Puts (conditional, `If-None-Match: *`, as the store writes) and gets of 0.5 MB objects (an
uploaded original) and 20 MB objects (a trained model), each a fresh random object, timed one
at a time from this process. Starts SeaweedFS with scripts/seaweedfs.sh if it is not running.
boto3 is not one of Atelier's dependencies: install it to compare (`pip install boto3==1.44.5`).

    python bench/blob_bench.py
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def s3_settings() -> dict[str, str]:
    from tests.scripts import key_values, run_script

    started = run_script("seaweedfs.sh", "start")
    if started.returncode != 0:
        raise SystemExit(f"SeaweedFS did not start: {started.stderr.strip()[-2000:]}")
    return key_values(started.stdout)


def clients(settings: dict[str, str]):
    import obstore
    from obstore.store import S3Store

    bucket = settings["ATELIER_BLOB_URL"][len("s3://") :].split("/", 1)[0]
    store = S3Store(
        bucket,
        endpoint=settings["AWS_ENDPOINT_URL"],
        access_key_id=settings["AWS_ACCESS_KEY_ID"],
        secret_access_key=settings["AWS_SECRET_ACCESS_KEY"],
        region="us-east-1",
        client_options={"allow_http": True},
    )
    yield (
        "obstore 0.12.1",
        lambda key, data: obstore.put(store, key, data, mode="create"),
        lambda key: bytes(obstore.get(store, key).bytes()),
    )
    try:
        import boto3
    except ImportError:
        print("boto3 is not installed: only obstore is measured", file=sys.stderr)
        return
    s3 = boto3.client(
        "s3",
        endpoint_url=settings["AWS_ENDPOINT_URL"],
        aws_access_key_id=settings["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=settings["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )
    yield (
        f"boto3 {boto3.__version__}",
        lambda key, data: s3.put_object(Bucket=bucket, Key=key, Body=data, IfNoneMatch="*"),
        lambda key: s3.get_object(Bucket=bucket, Key=key)["Body"].read(),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=40, help="0.5 MB objects per client")
    parser.add_argument("--large", type=int, default=10, help="20 MB objects per client")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/blob_clients.json")
    args = parser.parse_args()
    settings = s3_settings()
    run = uuid.uuid4().hex[:8]
    results = []
    for name, put, get in clients(settings):
        for size, count in ((500_000, args.small), (20_000_000, args.large)):
            put_s, get_s = [], []
            for i in range(count):
                data, key = os.urandom(size), f"bench/{run}/{name.split()[0]}/{size}/{i}"
                started = time.perf_counter()
                put(key, data)
                put_s.append(time.perf_counter() - started)
                started = time.perf_counter()
                assert get(key) == data
                get_s.append(time.perf_counter() - started)
            row = {
                "client": name,
                "mb": size / 1e6,
                "objects": count,
                "put_median_ms": round(statistics.median(put_s) * 1000, 1),
                "get_median_ms": round(statistics.median(get_s) * 1000, 1),
            }
            results.append(row)
            print(
                f"{name:16s} {row['mb']:5.1f} MB  put {row['put_median_ms']:7.1f} ms  "
                f"get {row['get_median_ms']:7.1f} ms  (median of {count})"
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
