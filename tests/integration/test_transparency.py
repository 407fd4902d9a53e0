import base64
import threading

import pytest
from sqlalchemy import func, select, text

from db.migrate import upgrade
from db.models import LogLeaf, LogNode, ProvenanceEvent
from db.session import make_engine, make_sessionmaker
from marketplace.errors import InsufficientFunds
from marketplace.events import insert_events, record_event
from marketplace.transparency import (
    audit_log,
    event_proof,
    load_signer,
    log_for,
    sign_head,
)
from provenance.checkpoint import NoteSigner, verify_checkpoint
from provenance.merkle import (
    MemoryHashStore,
    hashes_for_append,
    verify_consistency,
    verify_inclusion,
)
from tests.integration.helpers import buy, new_artwork, new_listing, new_user

ORIGIN = "test.example/log"


@pytest.fixture
def signer():
    return NoteSigner.generate(ORIGIN)


@pytest.fixture
def trade(sessions, blobs):
    ada, bob = new_user(sessions, "ada"), new_user(sessions, "bob")
    art = new_artwork(sessions, blobs, ada, 1)
    buy(sessions, new_listing(sessions, art, ada, 1000), bob)
    return ada, bob, art


def audit(sessions, signer):
    with sessions() as s:
        return audit_log(s, signer.verifier, ORIGIN)


def test_every_event_is_a_leaf_and_the_stored_root_matches_the_rows(sessions, trade, signer):
    with sessions() as s:
        events = s.scalar(select(func.count(ProvenanceEvent.id)))
        assert events == 4  # registered, listed, sold, ownership_transferred
        assert s.scalar(select(func.count(LogLeaf.leaf_index))) == events
        assert log_for(s).size == events
    report = audit(sessions, signer)
    assert report.ok, report.problems


def test_a_refused_purchase_appends_nothing(sessions, blobs, trade):
    ada, bob, _ = trade
    art = new_artwork(sessions, blobs, ada, 2)
    listing = new_listing(sessions, art, ada, 10**6)
    with sessions() as s:
        before = log_for(s).size
    with pytest.raises(InsufficientFunds):
        buy(sessions, listing, bob, key="too-dear")
    with sessions() as s:
        assert log_for(s).size == before


def test_an_events_proof_verifies_against_the_signed_checkpoint(sessions, trade, signer):
    with sessions() as s, s.begin():
        event_id = s.scalar(select(ProvenanceEvent.id).where(ProvenanceEvent.kind == "sold"))
        proof = event_proof(s, event_id, signer)
    checkpoint = verify_checkpoint(proof["checkpoint"], signer.verifier, ORIGIN)
    assert checkpoint.size == proof["tree_size"] == 4
    assert verify_inclusion(
        base64.b64decode(proof["leaf_hash"]),
        proof["leaf_index"],
        checkpoint.size,
        [base64.b64decode(p) for p in proof["proof"]],
        checkpoint.root_hash,
    )


def test_a_later_checkpoint_is_consistent_with_an_earlier_one(sessions, blobs, trade, signer):
    with sessions() as s, s.begin():
        first = sign_head(s, signer)
    new_artwork(sessions, blobs, trade[0], 3)
    with sessions() as s, s.begin():
        second = sign_head(s, signer)
        proof = log_for(s, second.size).consistency_proof(first.size, second.size)
    assert second.size == first.size + 1
    assert verify_consistency(first.size, second.size, proof, first.root_hash, second.root_hash)


def test_signing_twice_without_new_events_reuses_the_checkpoint(sessions, trade, signer):
    with sessions() as s, s.begin():
        a = sign_head(s, signer)
    with sessions() as s, s.begin():
        b = sign_head(s, signer)
    assert (a.size, a.note) == (b.size, b.note)


def tamper(engine, statements):
    """Run SQL with the append-only triggers off, as someone with database access could."""
    tables = ("provenance_events", "log_leaves")
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for t in tables:
                conn.execute(text(f"ALTER TABLE {t} DISABLE TRIGGER {t}_append_only"))
        else:
            for t in tables:
                for verb in ("update", "delete"):
                    conn.execute(text(f"DROP TRIGGER IF EXISTS {t}_no_{verb}"))
        try:
            for sql in statements:
                conn.execute(text(sql))
        finally:
            if engine.dialect.name == "postgresql":
                for t in tables:
                    conn.execute(text(f"ALTER TABLE {t} ENABLE TRIGGER {t}_append_only"))


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        (
            ["UPDATE provenance_events SET kind = 'takedown' WHERE id = 3"],
            ["event #3 (leaf 2) was edited", "no longer match the checkpoint signed at size 4"],
        ),
        (
            [
                "DELETE FROM log_leaves WHERE event_id = 4",
                "DELETE FROM provenance_events WHERE id = 4",
            ],
            ["the log says 4 leaves but 3 are stored", "covers leaves that no longer exist"],
        ),
        (
            [
                "INSERT INTO provenance_events (kind, artwork_id, actor_id, payload, created_at) "
                "VALUES ('sold', 1, 1, '{}', '2026-01-01 00:00:00')"
            ],
            ["event #5 is not in the log"],
        ),
        (
            [
                "UPDATE provenance_events SET kind = 'listed' WHERE id = 3",
                "UPDATE provenance_events SET kind = 'sold' WHERE id = 2",
            ],
            ["event #2 (leaf 1) was edited", "event #3 (leaf 2) was edited"],
        ),
    ],
    ids=["edited", "deleted", "inserted", "reordered"],
)
def test_the_auditor_names_rows_changed_since_a_signed_checkpoint(
    engine, sessions, trade, signer, statements, expected
):
    with sessions() as s, s.begin():
        sign_head(s, signer)
    assert audit(sessions, signer).ok
    tamper(engine, statements)
    report = audit(sessions, signer)
    assert not report.ok
    for phrase in expected:
        assert any(phrase in p for p in report.problems), (phrase, report.problems)


def test_a_checkpoint_signed_by_another_key_is_reported(sessions, trade, signer):
    with sessions() as s, s.begin():
        sign_head(s, NoteSigner.generate(ORIGIN))
    report = audit(sessions, signer)
    assert any("not signed by any trusted key" in p for p in report.problems)


def test_events_from_before_the_log_existed_are_backfilled_by_the_migration(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0002")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (username, username_key, password_hash, "
                "balance_cents, created_at) VALUES ('ada', 'ada', 'x', 0, "
                "'2026-01-01 00:00:00')"
            )
        )
        for i in range(5):
            conn.execute(
                text(
                    "INSERT INTO provenance_events (kind, artwork_id, actor_id, payload, "
                    f"created_at) VALUES ('listed', NULL, 1, '{{\"n\": {i}}}', "
                    f"'2026-01-0{i + 1} 10:00:00.000123')"
                )
            )
    upgrade(engine)
    signer = NoteSigner.generate(ORIGIN)
    with make_sessionmaker(engine)() as s:
        report = audit_log(s, signer.verifier, ORIGIN)
        assert report.ok, report.problems
        assert report.size == 5
    engine.dispose()


def test_concurrent_buyers_leave_a_complete_log(sessions, blobs, signer):
    seller = new_user(sessions, "seller")
    buyers = [new_user(sessions, f"buyer{i}") for i in range(12)]
    listing = new_listing(
        sessions,
        new_artwork(sessions, blobs, seller, 5),
        seller,
        100,
        licence_tier="personal",
        edition_size=12,
    )
    barrier = threading.Barrier(len(buyers))

    def go(b):
        barrier.wait()
        buy(sessions, listing, b, key=f"k{b}")

    threads = [threading.Thread(target=go, args=(b,)) for b in buyers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = audit(sessions, signer)
    assert report.ok, report.problems
    assert report.size == report.events == 2 + 12 * 2


def test_the_log_key_is_created_once_with_private_permissions(tmp_path):
    first = load_signer(tmp_path, ORIGIN)
    again = load_signer(tmp_path, ORIGIN)
    assert first.verifier == again.verifier
    key = tmp_path / "keys" / "log-ed25519.pem"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert (tmp_path / "keys" / "log-ed25519.vkey").read_text().strip() == first.verifier.vkey


def test_the_stored_tree_is_the_tree_of_its_leaves_whatever_the_batch_sizes(sessions, signer):
    """Every subtree hash an append stores (in Python on SQLite, in the database function on
    PostgreSQL) equals the one recomputed from the leaves, for batches of 1 to 8 events that
    cross many complete subtrees, ORM and Core events mixed in one transaction."""
    batches = [1, 2, 3, 1, 4, 2, 5, 1, 3, 8, 2, 1, 6, 3]
    for number, size in enumerate(batches):
        with sessions() as s, s.begin():
            if number % 3 == 0:
                record_event(s, "registered", artwork_id=None, actor_id=None, payload={"b": number})
                size -= 1
            insert_events(
                s,
                [
                    {
                        "kind": "registered",
                        "artwork_id": None,
                        "actor_id": None,
                        "payload": {"i": i},
                    }
                    for i in range(size)
                ],
            )
    with sessions() as s:
        leaves = s.scalars(select(LogLeaf.leaf_hash).order_by(LogLeaf.leaf_index)).all()
        expected = MemoryHashStore()
        for index, value in enumerate(leaves):
            expected.put_hashes(hashes_for_append(index, value, expected))
        stored = {(n.level, n.index): n.hash for n in s.scalars(select(LogNode))}
        event_ids = s.scalars(select(LogLeaf.event_id).order_by(LogLeaf.leaf_index)).all()
    assert len(leaves) == sum(batches)
    assert stored == expected.hashes
    # leaves are numbered in event order
    assert event_ids == sorted(event_ids)
    report = audit(sessions, signer)
    assert report.ok, report.problems
