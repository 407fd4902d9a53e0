"""Issue 13: commands that generate nothing start fast, so building the CLI's parser and
opening the database load none of the heavy libraries (torch alone took 5.4 s of a 7 s
`atelier balance`). Each check runs in a fresh interpreter: this one has them loaded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "onnxruntime", "diffusers", "transformers", "gradio", "c2pa", "cv2", "alembic")


def loaded_after(code: str, env: dict | None = None) -> list[str]:
    probe = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    modules = set(json.loads(done.stdout.strip().splitlines()[-1]))
    return sorted(name for name in HEAVY if name in modules)


def test_building_the_parser_imports_no_heavy_library():
    assert loaded_after("from atelier.cli import build_parser; build_parser()") == []


def test_a_balance_on_a_migrated_database_imports_no_heavy_library(tmp_path):
    import os

    env = {**os.environ, "ATELIER_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    setup = subprocess.run(
        [sys.executable, "-m", "atelier.cli", "user", "create", "ada", "--password-stdin"],
        input="a long password\n",
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert setup.returncode == 0, setup.stderr
    code = "from atelier.cli import main\nassert main(['balance', 'ada']) == 0"
    assert loaded_after(code, env) == []


def test_a_database_that_cannot_be_opened_is_one_line_without_a_traceback(tmp_path):
    import os

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = {
        **os.environ,
        "ATELIER_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{blocker / 'atelier.db'}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "atelier.cli", "balance", "ada"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: cannot use the database: unable to open database")
    assert "Traceback" not in done.stderr


def test_laying_out_the_app_loads_no_model(tmp_path):
    # the Studio's gene sliders come from the bundled genes.json, not from loading the GAN:
    # building every page must not import torch (or the other model runtimes)
    import os

    env = {**os.environ, "ATELIER_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    code = (
        "from atelier.bootstrap import Services\nfrom atelier.config import Settings\n"
        "import app\napp.build_demo(Services.from_settings(Settings.from_env()))"
    )
    assert [m for m in loaded_after(code, env) if m in ("torch", "onnxruntime", "diffusers")] == []
