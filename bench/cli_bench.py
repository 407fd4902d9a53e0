"""CLI start: wall time of operator commands that generate nothing, each in a fresh process
as a person types them (Python start-up, imports, settings, the database check).

    python bench/cli_bench.py              # 7 runs per command
    python bench/cli_bench.py --runs 15

The data folder is a fresh temporary one with one account (ada) and one registered artwork,
so `balance`, `show`, `list` and `log head` do real work. The goal (issue 13) is 0.6 s at most
for each on this machine: heavy libraries (torch, onnxruntime, diffusers, gradio, c2pa,
Alembic) load only in the commands that use them.

Prints a table and writes bench/results/cli.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ATELIER = [sys.executable, "-m", "atelier.cli"]
COMMANDS = [
    ["--help"],
    ["balance", "ada"],
    ["show", "1"],
    ["browse"],
    ["log", "head"],
    ["buy", "--help"],
]


def timed(args: list[str], env: dict) -> float:
    start = time.perf_counter()
    done = subprocess.run([*ATELIER, *args], env=env, cwd=ROOT, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"atelier {' '.join(args)} failed: {done.stderr.decode()[-400:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "cli.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "ATELIER_DATA_DIR": data}
        env.pop("DATABASE_URL", None)
        subprocess.run(
            [*ATELIER, "user", "create", "ada", "--password-stdin"],
            input=b"a long password\n",
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        picture = Path(data) / "picture.png"
        from tests.factories import png_bytes

        picture.write_bytes(png_bytes(1, 256))
        subprocess.run(
            [*ATELIER, "register", str(picture), "--owner", "ada", "--title", "Harbour"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        rows = []
        for command in COMMANDS:
            times = [timed(command, env) for _ in range(args.runs)]
            rows.append(
                {
                    "command": "atelier " + " ".join(command),
                    "median_s": round(statistics.median(times), 3),
                    "max_s": round(max(times), 3),
                }
            )
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "runs": args.runs,
        "goal_s": 0.6,
        "commands": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for row in rows:
        print(f"{row['command']:<24} median {row['median_s']:.3f} s   max {row['max_s']:.3f} s")


if __name__ == "__main__":
    main()
