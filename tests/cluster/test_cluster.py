"""The cluster on this machine (scripts/cluster.sh): PostgreSQL, SeaweedFS, three replicas
behind HAProxy and two job workers, driven from outside as people would drive it.

Thirty buyers go for ten listings through the load balancer, three to a listing; one replica
is killed with SIGKILL in the middle of the burst, and the buyers whose requests died with it
try again with the same idempotency key. Afterwards every listing is sold exactly once, no
buyer is charged twice, the books balance, the log verifies, and every original is readable
through every replica left standing.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from PIL import Image
from sqlalchemy import create_engine, func, select

from db.models import Artwork, Job, Listing, LogState, Sale, User
from db.session import make_sessionmaker
from marketplace.log_publishing import published_size
from marketplace.transparency import load_signer
from marketplace.web_sessions import sign_up
from provenance.checkpoint import verify_checkpoint
from provenance.tiles import root_from_tiles
from tests.factories import FAST_HASHER, png_bytes
from tests.scripts import ROOT, free_port_block, key_values, run_script, s3_store

PASSWORD = "a long password"
LISTINGS, BUYERS = 10, 30


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cluster")
    # HAProxy and the three replicas after it, on ports nothing else holds (a fixed port once
    # met one held on a shared CI machine)
    port = free_port_block(4)
    env = {
        **os.environ,
        "ATELIER_CLUSTER_DIR": str(folder),
        "ATELIER_CLUSTER_PORT": str(port),
        "ATELIER_CLUSTER_DB": "atelier_cluster_test",
        "ATELIER_CLUSTER_FRESH": "1",
    }
    for name in ("DATABASE_URL", "ATELIER_BLOB_URL", "ATELIER_DATA_DIR"):
        env.pop(name, None)
    up = run_script("cluster.sh", "up", env=env)
    status = key_values(up.stdout)
    try:
        assert up.returncode == 0, up.stderr[-3000:]
        assert len(status["replica_pids"].split(",")) == 3, status
        assert len(status["worker_pids"].split(",")) == 2, status
        # what the replicas and workers run with (database, blob store and its keys)
        settings = {**env, **key_values(run_script("cluster.sh", "env", env=env).stdout)}
        yield status, settings
    finally:
        run_script("cluster.sh", "down", env=env, timeout=120)


def member(url: str, name: str) -> Client:
    """A person signed up through the load balancer, with their own client (own cookies, so
    HAProxy keeps them on one replica)."""
    _message, token, username = Client(url, verbose=False).predict(
        name, PASSWORD, api_name="/sign_up"
    )
    assert username == name
    return signed_in(url, token)


def members(url: str, database_url: str, names: list[str]) -> list[Client]:
    """Many people at once: the sign-up limit per address (all of them come from 127.0.0.1
    here) would stop them at the door, so their accounts and sessions are made in the
    database, as sign-up makes them, each from an address of its own; each person then uses
    the app through HAProxy."""
    engine = create_engine(database_url)
    sessions = make_sessionmaker(engine)
    tokens = []
    for i, name in enumerate(names):
        with sessions() as s, s.begin():
            signed = sign_up(s, name, PASSWORD, hasher=FAST_HASHER, ip=f"10.0.{i}.1")
            tokens.append(signed.token)
    engine.dispose()
    return [signed_in(url, token) for token in tokens]


def signed_in(url: str, token: str) -> Client:
    client = Client(url, verbose=False, httpx_kwargs={"cookies": {"atelier_session": token}})
    client.token = token
    return client


def atelier(settings: dict, *args: str) -> subprocess.CompletedProcess:
    """An operator's `atelier` command against the cluster."""
    return subprocess.run(
        [ROOT / ".venv" / "bin" / "atelier", *args],
        env=settings,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_burst_of_buyers_survives_a_replica_killed_midway(cluster, tmp_path):
    status, env = cluster
    url = status["url"]
    seller = member(url, "ada")
    listing_ids = []
    for i in range(LISTINGS):
        path = tmp_path / f"work{i}.png"
        path.write_bytes(png_bytes(900 + i, 96))
        message, artwork_id = seller.predict(
            handle_file(str(path)), f"Harbour {i}", "", api_name="/register"
        )
        assert "Registered as artwork" in message
        listed = seller.predict(int(artwork_id), "12.50", "exclusive", 1, "10", api_name="/list")
        listing_ids.append(int(listed.split("as listing #")[1].split()[0]))
    buyers = members(url, status["database_url"], [f"buyer{i}" for i in range(BUYERS)])

    outcomes: dict[int, str] = {}
    attempts: dict[int, int] = {}
    start = threading.Barrier(BUYERS + 1)

    def go(i: int) -> None:
        key, target, client = f"burst-{uuid.uuid4()}", listing_ids[i % LISTINGS], buyers[i]
        start.wait()
        token = client.token
        for attempt in range(8):
            attempts[i] = attempt + 1
            try:
                if client is None:
                    # the replica went away with the request: the same key, on a new
                    # connection (which may itself meet the dying replica: try again)
                    client = signed_in(url, token)
                outcomes[i] = client.submit(target, None, key, api_name="/buy").result(timeout=60)
                return
            except Exception as exc:
                words = str(exc)
                if "sold" in words or "not for sale" in words or "is not active" in words:
                    outcomes[i] = "refused: " + words
                    return
                time.sleep(1)
                client = None
        outcomes[i] = "gave up"

    threads = [threading.Thread(target=go, args=(i,)) for i in range(BUYERS)]
    for t in threads:
        t.start()
    start.wait()
    began = time.monotonic()
    time.sleep(0.3)
    killed_at = time.monotonic() - began
    victim = int(status["replica_pids"].split(",")[0])
    os.kill(victim, signal.SIGKILL)
    for t in threads:
        t.join(timeout=300)
    assert all(not t.is_alive() for t in threads)

    print("attempts:", sorted(attempts.values()), "killed after", round(killed_at, 2), "s")
    # the kill came while requests were in flight: some buyers had to try again
    assert any(n > 1 for n in attempts.values()), attempts
    # every buyer ended with an answer (a thread that died on the way would leave none)
    assert len(outcomes) == BUYERS, outcomes
    assert "gave up" not in outcomes.values(), outcomes
    bought = [i for i, o in outcomes.items() if o.startswith("✓ Bought")]
    assert len(bought) == LISTINGS, outcomes

    engine = create_engine(status["database_url"])
    with engine.connect() as conn:
        per_listing = dict(
            conn.execute(select(Sale.listing_id, func.count()).group_by(Sale.listing_id)).all()
        )
        assert per_listing == {n: 1 for n in listing_ids}
        for i in range(BUYERS):
            user_id, balance = conn.execute(
                select(User.id, User.balance_cents).where(User.username == f"buyer{i}")
            ).one()
            sales = conn.scalar(select(func.count()).where(Sale.buyer_id == user_id))
            assert sales == (1 if i in bought else 0), (i, outcomes[i])
            assert balance == 10000 - 1250 * sales, (i, outcomes[i])
        assert conn.scalar(select(func.count()).where(Listing.status == "active")) == 0
        works = conn.execute(select(Artwork.id, Artwork.title).order_by(Artwork.id)).all()
    engine.dispose()

    books = atelier(env, "ledger", "check")
    assert books.returncode == 0, books.stderr
    log = atelier(env, "log", "verify")
    assert log.returncode == 0, log.stderr

    # the log, as a static reader gets it: tiles and checkpoint straight from SeaweedFS,
    # published by the workers' maintenance task within seconds
    store = s3_store(env, status["blob_url"])
    signer = load_signer(Path(status["data_dir"]), "atelier.local/log")
    with engine.connect() as conn:
        size = conn.scalar(select(LogState.size))
    deadline = time.monotonic() + 60
    while published_size(store, signer) < size:
        assert time.monotonic() < deadline, "the log was not published within 60 s"
        time.sleep(0.5)
    note = store.get_named("log/checkpoint").decode()
    checkpoint = verify_checkpoint(note, signer.verifier, "atelier.local/log")
    root = root_from_tiles(checkpoint.size, lambda path: store.get_named("log/" + path))
    assert root == checkpoint.root_hash

    # every original, read from the object store through each replica still standing: the
    # creator's signed download carries the very pixels she uploaded
    first = status["replica_urls"].split(",")[0]
    survivors = [u for u in status["replica_urls"].split(",") if u != first]
    assert len(survivors) == 2
    for replica in survivors:
        creator = signed_in(replica, seller.token)
        for artwork_id, title in works:
            signed = creator.predict(artwork_id, api_name="/download")
            original = png_bytes(900 + int(title.split()[-1]), 96)
            assert pixels(Path(signed).read_bytes()) == pixels(original), (replica, artwork_id)


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").tobytes()


def test_a_training_job_whose_worker_is_killed_finishes_on_the_other_worker(cluster, tmp_path):
    status, _env = cluster
    trainer = member(status["url"], "cyd")
    files = []
    for i in range(20):
        path = tmp_path / f"study{i}.png"
        path.write_bytes(png_bytes(700 + i, 64))
        files.append(handle_file(str(path)))
    message, job_id = trainer.predict(files, "studies", 300, 64, api_name="/train")
    assert "is queued" in message, message
    engine = create_engine(status["database_url"])
    sessions = make_sessionmaker(engine)

    def job():
        with sessions() as s:
            return s.get(Job, int(job_id))

    deadline = time.monotonic() + 240
    while not (job().progress or {}).get("checkpoint_key"):
        assert time.monotonic() < deadline, "no checkpoint within 240 s"
        time.sleep(0.2)
    running = job()
    first_worker, checkpoint_step = running.worker, running.progress["step"]
    os.kill(int(first_worker.split(":")[1]), signal.SIGKILL)

    while job().status != "done":
        assert job().status in ("queued", "running"), job().error
        assert time.monotonic() < deadline + 240, "the job was not finished by the other worker"
        time.sleep(0.5)
    finished = job()
    engine.dispose()
    assert finished.worker != first_worker
    assert finished.result["steps"] == 300
    # it went on from the checkpoint in the object store: the loss curve, kept across both
    # workers, never steps back (training again from step 0 would repeat the early steps)
    steps = [point[0] for point in finished.progress["losses"]]
    assert steps == sorted(set(steps)) and steps[0] < checkpoint_step < steps[-1]
    survivors = [p for p in status["worker_pids"].split(",") if p != first_worker.split(":")[1]]
    assert len(survivors) == 1
