"""Diffusers backend timings: how fast a missing model fails, and tiny-pipeline steps.

    python bench/diffusion_bench.py [--repeats 5]

- failed loads, in-process (after imports) and as a whole `atelier txt2img` process (median
  of 3, beside `atelier txt2img --help` for the start-up cost): no
  model configured; an uncached hub id with HF_HUB_OFFLINE=1; an uncached hub id without it
  (the hub probe decides); a folder that is not a pipeline;
- the tiny random-weight pipeline of the tests (tests/tiny_diffusion.py): load, 2 txt2img
  steps at 64x64, 2 img2img steps (strength 0.5 of 4) at 64x64, one torch thread;
- the model hash's speed over a 256 MiB weight file (page cache warm).
Prints JSON and writes bench/results/diffusion.json.
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

import torch  # noqa: E402

from generation.diffusion import (  # noqa: E402
    MODEL_ENV,
    DiffusionImagePipeline,
    model_weights_sha256,
)
from generation.errors import ModelUnavailable  # noqa: E402
from tests.tiny_diffusion import save_tiny_stable_diffusion  # noqa: E402

UNCACHED_HUB_ID = "atelier-bench/no-such-model"


def _failure_seconds(model, env) -> tuple[float, str]:
    started = time.perf_counter()
    try:
        DiffusionImagePipeline.from_pretrained(model, env=env)
    except ModelUnavailable as exc:
        return time.perf_counter() - started, str(exc).split(":")[0]
    raise RuntimeError(f"{model!r} loaded, but it was meant to fail")


def _cli_seconds(args: list[str], env: dict[str, str], out: Path) -> tuple[float, int]:
    command = [sys.executable, "-m", "atelier.cli", "txt2img", "a cat", "--seed", "1"]
    command += ["--steps", "2", *args, "--out", str(out)]
    started = time.perf_counter()
    done = subprocess.run(
        command,
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return time.perf_counter() - started, done.returncode


def _median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    results: dict = {
        "machine": platform.machine(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "threads": 1,
    }
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        not_a_pipeline = tmp / "not-a-pipeline"
        not_a_pipeline.mkdir()
        base_env = {k: v for k, v in os.environ.items() if k not in (MODEL_ENV, "HF_HUB_OFFLINE")}
        cases = {
            "not_configured": (None, {}, []),
            "uncached_hub_id_hf_hub_offline": (
                UNCACHED_HUB_ID,
                {"HF_HUB_OFFLINE": "1"},
                ["--model", UNCACHED_HUB_ID],
            ),
            "uncached_hub_id_probe": (UNCACHED_HUB_ID, {}, ["--model", UNCACHED_HUB_ID]),
            "folder_not_a_pipeline": (
                str(not_a_pipeline),
                {},
                ["--model", str(not_a_pipeline)],
            ),
        }
        failures = {}
        # the first failure pays the hub-probe/diffusers imports; report warm calls
        for name, (model, extra_env, cli_args) in cases.items():
            _failure_seconds(model, {**base_env, **extra_env})
            seconds, message = _failure_seconds(model, {**base_env, **extra_env})
            runs = [
                _cli_seconds(cli_args, {**base_env, **extra_env}, tmp / "x.png") for _ in range(3)
            ]
            cli_wall, code = statistics.median(r[0] for r in runs), runs[0][1]
            failures[name] = {
                "in_process_ms": round(seconds * 1000, 2),
                "cli_process_s": round(cli_wall, 2),
                "cli_exit_code": code,
                "message_starts": message,
            }
        results["failed_load"] = failures
        # the same process printing the command's help: Python, atelier.cli and argparse
        results["cli_help_process_s"] = round(
            statistics.median(
                _cli_seconds(["--help"], base_env, tmp / "x.png")[0] for _ in range(3)
            ),
            2,
        )

        folder = save_tiny_stable_diffusion(tmp / "tiny")
        started = time.perf_counter()
        pipeline = DiffusionImagePipeline.from_pretrained(folder)
        results["tiny_load_s"] = round(time.perf_counter() - started, 3)
        pipeline("a cat", steps=2, width=64, height=64)  # warm-up
        results["tiny_txt2img_2_steps_64px_s"] = round(
            _median_seconds(
                lambda: pipeline("a cat", seed=1, steps=2, width=64, height=64), args.repeats
            ),
            4,
        )
        start = pipeline("a cat", seed=2, steps=2, width=64, height=64).image
        results["tiny_img2img_2_steps_64px_s"] = round(
            _median_seconds(
                lambda: pipeline("a cat", seed=1, steps=4, init_image=start, strength=0.5),
                args.repeats,
            ),
            4,
        )
        # the model hash reads every weight file at each load: its speed per MiB
        weights = tmp / "hash-me" / "unet"
        weights.mkdir(parents=True)
        chunk = os.urandom(1 << 20)
        with (weights / "diffusion_pytorch_model.safetensors").open("wb") as f:
            for _ in range(256):
                f.write(chunk)
        seconds = _median_seconds(lambda: model_weights_sha256(tmp / "hash-me"), 3)
        results["model_hash_mib_per_s"] = round(256 / seconds)
        results["repeats"] = args.repeats
    print(json.dumps(results, indent=2))
    out = ROOT / "bench" / "results" / "diffusion.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
