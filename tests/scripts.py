"""The project's service scripts (scripts/seaweedfs.sh, scripts/cluster.sh) as tests and
benches use them: run one, read the `NAME=value` lines it prints, open its S3 store."""

from __future__ import annotations

import contextlib
import random
import socket
import subprocess
from pathlib import Path

from db.blobs import S3BlobStore

ROOT = Path(__file__).resolve().parents[1]


def run_script(name: str, *args: str, env: dict | None = None, timeout: float = 300):
    """Run `scripts/<name>` with `args`; the finished process (output as text)."""
    return subprocess.run(
        [ROOT / "scripts" / name, *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def key_values(text: str) -> dict[str, str]:
    """The `NAME=value` lines a script printed, as a dict (other lines are passed over)."""
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def s3_store(settings: dict[str, str], url: str) -> S3BlobStore:
    """The S3 store at `url` with the endpoint and keys `scripts/seaweedfs.sh` printed."""
    return S3BlobStore(
        url,
        endpoint=settings["AWS_ENDPOINT_URL"],
        access_key_id=settings["AWS_ACCESS_KEY_ID"],
        secret_access_key=settings["AWS_SECRET_ACCESS_KEY"],
    )


def free_port_block(count: int) -> int:
    """The first of `count` consecutive ports free on 127.0.0.1, below the kernel's ephemeral
    range (a port there can be taken at any moment by some outgoing connection), from a random
    start so that two runs on one machine, or one left over, do not meet."""
    low = 32768
    with contextlib.suppress(OSError, ValueError, IndexError):
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(200):
        base = random.randrange(20000, low - count)
        if all(_port_free(base + i) for i in range(count)):
            return base
    raise RuntimeError(f"no {count} consecutive free ports found on 127.0.0.1")


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
