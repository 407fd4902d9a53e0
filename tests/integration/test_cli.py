"""The whole sell/buy story through the `atelier` command line, on the test database."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from atelier.cli import main
from tests.factories import PASSWORD, png_bytes


@pytest.fixture
def cli(engine, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("ATELIER_DATA_DIR", str(tmp_path / "data"))

    def run(*args, stdin: str | None = None):
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", __import__("io").StringIO(stdin))
        code = main([*args, "--json"])
        out, err = capsys.readouterr()
        return code, (json.loads(out) if code == 0 and out.strip() else None), err

    return run


def test_two_users_register_list_buy_resell_with_royalty_and_the_ledger_balances(cli, tmp_path):
    for name in ("ada", "bob", "cyd"):
        code, data, _ = cli("user", "create", name, "--password-stdin", stdin=PASSWORD + "\n")
        assert code == 0 and data["balance_cents"] == 10_000
    image = tmp_path / "art.png"
    image.write_bytes(png_bytes(1))
    code, art, _ = cli("register", str(image), "--owner", "ada", "--title", "Harbour")
    assert code == 0 and art["owner"] == "ada"
    code, listing, _ = cli(
        "list",
        str(art["id"]),
        "--as",
        "ada",
        "--price",
        "12.50",
        "--licence",
        "exclusive",
        "--royalty",
        "10",
    )
    assert code == 0 and listing["price_cents"] == 1250
    code, sale, _ = cli("buy", str(listing["id"]), "--as", "bob", "--idempotency-key", "o-1")
    assert code == 0 and sale["platform_fee_cents"] == 31 and not sale["replayed"]
    code, again, _ = cli("buy", str(listing["id"]), "--as", "bob", "--idempotency-key", "o-1")
    assert code == 0 and again["replayed"] and again["sale_id"] == sale["sale_id"]

    code, resale, _ = cli(
        "list", str(art["id"]), "--as", "bob", "--price", "20", "--licence", "exclusive"
    )
    assert code == 0
    code, sale2, _ = cli("buy", str(resale["id"]), "--as", "cyd")
    assert code == 0 and sale2["creator_royalty_cents"] == 200

    code, shown, _ = cli("show", str(art["id"]))
    assert shown["owner"] == "cyd" and shown["creator"] == "ada"
    assert [e["kind"] for e in shown["events"]].count("ownership_transferred") == 2
    code, ada, _ = cli("balance", "ada")
    assert ada["balance_cents"] == 10_000 + (1250 - 31) + 200
    code, report, _ = cli("ledger", "check")
    assert code == 0 and report["ok"] and report["total_cents"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("buy", "999", "--as", "ada"), "listing #999 does not exist"),
        (("balance", "ghost"), "no user named 'ghost'"),
        (("list", "1", "--as", "ada", "--price", "NaN", "--licence", "exclusive"), "finite"),
        (("list", "1", "--as", "ada", "--price", "-3", "--licence", "exclusive"), "greater than"),
        (("register", "/no/such.png", "--owner", "ada", "--title", "x"), "no such file"),
        (("user", "credit", "ada", "lots"), "whole number of cents"),
    ],
)
def test_errors_are_one_line_with_a_non_zero_exit(cli, args, message):
    cli("user", "create", "ada", "--password-stdin", stdin=PASSWORD + "\n")
    code, data, err = cli(*args)
    assert code == 1 and data is None
    assert err.startswith("error: ") and message in err
    assert err.count("\n") == 1


def test_a_non_image_is_refused_by_register(cli, tmp_path):
    cli("user", "create", "ada", "--password-stdin", stdin=PASSWORD + "\n")
    bogus = tmp_path / "fake.png"
    bogus.write_text("definitely not a png")
    code, _, err = cli("register", str(bogus), "--owner", "ada", "--title", "x")
    assert code == 1 and "not a usable image" in err


def test_the_installed_console_script_runs(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "atelier"), "ledger", "check", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ok"] is True


def test_writing_to_a_closed_pipe_is_not_an_error(tmp_path):
    # as in `atelier browse | head`: the reader has gone before the output is written
    code = (
        "import os, sys; r, w = os.pipe(); os.close(r); os.dup2(w, 1);"
        "from atelier.cli import main; sys.exit(main(['ledger', 'check']))"
    )
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "BrokenPipeError" not in done.stderr


def test_verify_download_and_certificate_from_the_command_line(cli, tmp_path):
    cli("user", "create", "ada", "--password-stdin", stdin=PASSWORD + "\n")
    image = tmp_path / "art.png"
    image.write_bytes(png_bytes(4))
    cli("register", str(image), "--owner", "ada", "--title", "Dawn")
    code, original, _ = cli("verify", str(image))
    assert code == 0 and original["verdict"] == "registered_original"
    out = tmp_path / "signed.png"
    code, download, _ = cli("download", "1", "--out", str(out))
    assert code == 0 and out.stat().st_size == download["bytes"]
    code, signed, _ = cli("verify", str(out))
    assert signed["verdict"] == "manifest_valid" and signed["artwork_id"] == 1
    assert signed["evidence"]["manifest"]["state"] == "trusted"
    code, cert, _ = cli("certificate", "1")
    assert code == 0 and cert["certificate"].startswith('{"ai_label"')
    code, _, err = cli("verify", str(tmp_path / "missing.png"))
    assert code == 1 and "no such file" in err


def test_a_worker_process_runs_a_training_job_queued_by_the_app(cli, engine, tmp_path):
    from db.blobs import LocalBlobStore
    from db.models import Job
    from db.session import make_sessionmaker
    from marketplace.training_jobs import submit_training

    code, ada, _ = cli("user", "create", "ada", "--password-stdin", stdin=PASSWORD)
    assert code == 0
    assert cli("worker", "--once")[1] == {"job_id": None}
    sessions = make_sessionmaker(engine)
    blobs = LocalBlobStore(tmp_path / "data" / "blobs")
    files = [(f"{i}.png", png_bytes(700 + i, 64)) for i in range(20)]
    with sessions() as s, s.begin():
        job_id = submit_training(s, blobs, ada["id"], "studies", files, steps=10)
    code, out, err = cli("worker", "--once")
    assert code == 0 and out == {"job_id": job_id}, err
    with sessions() as s:
        job = s.get(Job, job_id)
        assert job.status == "done", job.error
        assert len(job.result["model_sha256"]) == 64


def test_train_refuses_someone_elses_registered_work_unless_licensed(cli, tmp_path):
    for name in ("ada", "bob"):
        assert cli("user", "create", name, "--password-stdin", stdin=PASSWORD)[0] == 0
    folder = tmp_path / "portfolio"
    folder.mkdir()
    for i in range(20):
        (folder / f"{i:02d}.png").write_bytes(png_bytes(800 + i, 64))
    (tmp_path / "harbour.png").write_bytes(png_bytes(800, 64))
    code, work, _ = cli("register", str(tmp_path / "harbour.png"), "--owner", "ada", "--title", "H")
    assert code == 0
    common = ["--steps", "2", "--batch-size", "8", "--sample-every", "0", "--no-progress-bar"]
    code, _, err = cli(
        "train", str(folder), "--out", str(tmp_path / "run-bob"), "--as", "bob", *common
    )
    assert code == 1 and f"00.png is artwork #{work['id']}" in err
    assert not (tmp_path / "run-bob").exists()
    code, _, err = cli("train", str(folder), "--out", str(tmp_path / "run-anon"), *common)
    assert code == 1 and "pass --as NAME" in err
    code, _, err = cli(
        "train", str(folder), "--out", str(tmp_path / "run-ada"), "--as", "ada", *common
    )
    assert code == 0, err
    assert (tmp_path / "run-ada" / "model" / "model.safetensors").exists()


def test_the_owner_discloses_a_recipe_that_anyone_checks_and_others_cannot_read(cli, tmp_path):
    for name in ("ada", "bob"):
        cli("user", "create", name, "--password-stdin", stdin=PASSWORD + "\n")
    image, recipe = tmp_path / "art.png", tmp_path / "recipe.json"
    image.write_bytes(png_bytes(4))
    recipe.write_text(json.dumps({"kind": "gan_sample", "seed": 7, "model_sha256": "ab" * 32}))
    code, art, _ = cli(
        "register", str(image), "--owner", "ada", "--title", "T", "--recipe", str(recipe)
    )
    assert code == 0 and art["recipe"]["kind"] == "gan_sample" and "seed" not in art["recipe"]
    disclosure = tmp_path / "disclosed.json"
    code, data, _ = cli("recipe", str(art["id"]), "--as", "ada", "--out", str(disclosure))
    assert (
        code == 0
        and data["recipe"]["seed"] == 7
        and data["commitment"] == art["recipe"]["commitment"]
    )
    code, checked, _ = cli("recipe", str(art["id"]), "--check", str(disclosure))
    assert code == 0 and checked["matches"] is True
    forged = json.loads(disclosure.read_text())
    forged["recipe"]["seed"] = 8
    disclosure.write_text(json.dumps(forged))
    code, _data, _err = cli("recipe", str(art["id"]), "--check", str(disclosure))
    assert code == 1
    code, _data, err = cli("recipe", str(art["id"]), "--as", "bob")
    assert code == 1 and "only the owner, the creator and licensees" in err


def test_features_backfill_brings_every_work_up_to_date_in_batches(cli, tmp_path):
    import dataclasses

    from atelier.bootstrap import Services
    from db.models import Artwork, ArtworkFeatures
    from marketplace.local_matching import FEATURE_VERSION, local_verdict
    from provenance import local_features as lf
    from tests.factories import detailed, encode, features_as_format_1

    cli("user", "create", "ada", "--password-stdin", stdin=PASSWORD + "\n")
    ids = []
    for seed in (40, 41, 42):
        image = tmp_path / f"art{seed}.png"
        image.write_bytes(encode(detailed(seed)))
        code, art, _ = cli("register", str(image), "--owner", "ada", "--title", f"Work {seed}")
        assert code == 0
        ids.append(art["id"])
    never, old_layout, lost = ids
    services = Services.from_settings()
    with services.sessions() as s, s.begin():
        s.delete(s.get(ArtworkFeatures, never))  # registered before features existed
        row = s.get(ArtworkFeatures, old_layout)  # stored by version 2, as a NumPy archive
        features = lf.Features.from_bytes(services.blobs.get(row.blob_key))
        few = dataclasses.replace(
            features, points=features.points[:300], descriptors=features.descriptors[:300]
        )
        row.blob_key, row.version = services.blobs.put(features_as_format_1(few)), 2
        s.delete(s.get(ArtworkFeatures, lost))  # and its original is gone from the store
        s.get(Artwork, lost).blob_key = "0" * 64

    code, done, err = cli("features", "backfill", "--batch", "2")
    assert code == 0, err
    assert done == {"stale": 3, "described": 1, "rewritten": 1, "unreadable": 1}
    with services.sessions() as s:
        assert s.get(ArtworkFeatures, never).version == FEATURE_VERSION
        row = s.get(ArtworkFeatures, old_layout)
        assert row.version == FEATURE_VERSION
        kept = lf.Features.from_bytes(services.blobs.get(row.blob_key))
        assert len(kept) == 300  # rewritten, not described again
        assert s.get(ArtworkFeatures, lost) is None
        crop = detailed(40).crop((30, 30, 290, 290))
        assert local_verdict(s, services.blobs, crop).named.artwork_id == never
    code, again, _ = cli("features", "backfill")
    assert again == {"stale": 1, "described": 0, "rewritten": 0, "unreadable": 1}
    code, _, err = cli("features", "backfill", "--batch", "0")
    assert code == 1 and "--batch must be at least 1" in err
