"""The transparency log kept in the database: every provenance event is a leaf of an
RFC 9162 Merkle tree, appended in the same transaction as the event; signed checkpoints
(C2SP notes) commit the log to its history; an auditor recomputes everything from rows.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import bindparam, insert, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT, BYTEA
from sqlalchemy.orm import Session

from db.models import LogCheckpoint, LogLeaf, LogNode, LogState, ProvenanceEvent
from db.session import expire_cached
from marketplace.errors import NotFound
from provenance.canonical import canonical_event_bytes
from provenance.checkpoint import (
    Checkpoint,
    NoteError,
    NoteSigner,
    NoteVerifier,
    sign_checkpoint,
    verify_checkpoint,
)
from provenance.merkle import MemoryHashStore, MerkleLog, hashes_for_append, leaf_hash
from provenance.tiles import (
    TILE_WIDTH,
    TileError,
    entry_bundle,
    parse_tile_path,
    read_tile,
    tile_width,
)

DEFAULT_ORIGIN = "atelier.local/log"


def event_leaf_data(event: ProvenanceEvent) -> bytes:
    """The canonical bytes of an event row (see `provenance.canonical`)."""
    return canonical_event_bytes(
        event_id=event.id,
        kind=event.kind,
        artwork_id=event.artwork_id,
        actor_id=event.actor_id,
        payload=event.payload,
        created_at=event.created_at,
    )


_NODES = LogNode.__table__
_LEAVES = LogLeaf.__table__
_STATE = LogState.__table__
_LOG_APPEND = text("SELECT atelier_log_append(:event_ids, :leaf_hashes)").bindparams(
    bindparam("event_ids", type_=ARRAY(BIGINT)), bindparam("leaf_hashes", type_=ARRAY(BYTEA))
)


class SqlHashStore:
    """A `HashStore` over the `log_nodes` table, with the writes of one append batch held
    in memory until `write`."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.cache: dict[tuple[int, int], bytes] = {}
        self.pending: list[dict] = []

    def get_hashes(self, keys: Sequence[tuple[int, int]]) -> list[bytes]:
        missing = [k for k in keys if k not in self.cache]
        if missing:
            rows = self.session.connection().execute(
                select(_NODES.c.level, _NODES.c.idx, _NODES.c.hash).where(
                    tuple_(_NODES.c.level, _NODES.c.idx).in_(missing)
                )
            )
            self.cache.update({(level, index): value for level, index, value in rows})
        try:
            return [self.cache[k] for k in keys]
        except KeyError as exc:
            raise NoteError(f"the log is missing the stored hash {exc.args[0]}") from None

    def prefetch_right_edge(self, size: int) -> None:
        """Read, in one query, the complete subtrees at the right edge of a log of `size`
        leaves: every stored hash that appending to it can need."""
        keys = [(k, (size >> k) - 1) for k in range(size.bit_length()) if size >> k & 1]
        if keys:
            self.get_hashes(keys)

    def put_hashes(self, items: Iterable[tuple[int, int, bytes]]) -> None:
        for level, index, value in items:
            self.cache[(level, index)] = value
            self.pending.append({"level": level, "idx": index, "hash": value})

    def write(self) -> None:
        if self.pending:
            self.session.connection().execute(insert(_NODES), self.pending)
            self.pending = []


def _lock_state(session: Session) -> LogState:
    return session.scalars(
        select(LogState)
        .where(LogState.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def append_leaves(session: Session, leaves: Sequence[tuple[int, bytes]]) -> list[int]:
    """Append leaves, given as (event id, canonical event bytes), in event id order, in the
    caller's transaction.

    The one UPDATE that reserves the leaf numbers also takes the lock on the log's state row,
    so concurrent transactions append one after another, each holding the lock from here to
    its commit. Returns the leaf indexes given to the events.
    """
    if not leaves:
        return []
    conn = session.connection()
    leaves = sorted(leaves)
    if conn.dialect.name == "postgresql":
        # the same work in one statement (migration 0009): the lock is held for less
        start = conn.execute(
            _LOG_APPEND,
            {
                "event_ids": [event_id for event_id, _ in leaves],
                "leaf_hashes": [leaf_hash(data) for _, data in leaves],
            },
        ).scalar_one()
        _expire_state(session)
        return list(range(start, start + len(leaves)))
    size = conn.execute(
        update(_STATE)
        .where(_STATE.c.id == 1)
        .values(size=_STATE.c.size + len(leaves))
        .returning(_STATE.c.size)
    ).scalar_one() - len(leaves)
    store = SqlHashStore(session)
    store.prefetch_right_edge(size)
    log = MerkleLog(store, size)
    rows = []
    for event_id, data in leaves:
        index = log.append(data)
        rows.append({"leaf_index": index, "event_id": event_id, "leaf_hash": leaf_hash(data)})
    store.write()
    conn.execute(insert(_LEAVES), rows)
    _expire_state(session)
    return [row["leaf_index"] for row in rows]


def _expire_state(session: Session) -> None:
    """A state row this session loaded before an append is stale after it."""
    expire_cached(session, LogState, [1])


def log_size(session: Session) -> int:
    return session.scalar(select(LogState.size).where(LogState.id == 1)) or 0


def log_for(session: Session, size: int | None = None) -> MerkleLog:
    """The log as stored, for roots and proofs."""
    return MerkleLog(SqlHashStore(session), log_size(session) if size is None else size)


def load_signer(data_dir: Path, origin: str = DEFAULT_ORIGIN) -> NoteSigner:
    """The log's Ed25519 signing key under `data_dir/keys`, made on first use (mode 0600)."""
    keys = Path(data_dir) / "keys"
    path = keys / "log-ed25519.pem"
    if path.exists():
        return NoteSigner.from_pem(origin, path.read_bytes())
    keys.mkdir(parents=True, exist_ok=True)
    os.chmod(keys, 0o700)
    signer = NoteSigner.generate(origin)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(signer.private_pem())
    (keys / "log-ed25519.vkey").write_text(signer.verifier.vkey + "\n")
    return signer


def sign_head(session: Session, signer: NoteSigner) -> LogCheckpoint:
    """Sign a checkpoint of the log as it is now, unless the newest one has this size."""
    state = _lock_state(session)
    latest = session.scalar(select(LogCheckpoint).order_by(LogCheckpoint.size.desc()).limit(1))
    if latest is not None and latest.size == state.size:
        return latest
    root = log_for(session, state.size).root()
    note = sign_checkpoint(Checkpoint(signer.name, state.size, root), signer)
    checkpoint = LogCheckpoint(size=state.size, root_hash=root, note=note)
    session.add(checkpoint)
    session.flush()
    return checkpoint


def event_proof(session: Session, event_id: int, signer: NoteSigner) -> dict:
    """An event's leaf, its inclusion proof and the signed checkpoint it is proved against."""
    leaf = session.scalar(select(LogLeaf).where(LogLeaf.event_id == event_id))
    if leaf is None:
        raise NotFound(f"provenance event #{event_id} is not in the log")
    checkpoint = sign_head(session, signer)
    proof = log_for(session, checkpoint.size).inclusion_proof(leaf.leaf_index, checkpoint.size)
    return {
        "event_id": event_id,
        "leaf_index": leaf.leaf_index,
        "leaf_hash": base64.b64encode(leaf.leaf_hash).decode(),
        "tree_size": checkpoint.size,
        "root_hash": base64.b64encode(checkpoint.root_hash).decode(),
        "proof": [base64.b64encode(p).decode() for p in proof],
        "checkpoint": checkpoint.note,
        "verifier_key": signer.verifier.vkey,
    }


@dataclass
class AuditReport:
    """What `audit_log` found; `ok` when nothing."""

    size: int = 0
    events: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def audit_log(session: Session, verifier: NoteVerifier, origin: str) -> AuditReport:
    """Recompute the log from the event rows and check it against the stored hashes and
    every signed checkpoint, naming each row edited, deleted, inserted or reordered."""
    report = AuditReport()
    events = {e.id: e for e in session.scalars(select(ProvenanceEvent))}
    leaves = session.scalars(select(LogLeaf).order_by(LogLeaf.leaf_index)).all()
    report.events, report.size = len(events), log_size(session)
    recomputed = MerkleLog(MemoryHashStore())  # from the event rows
    as_stored = MemoryHashStore()  # from the stored leaf hashes
    logged: set[int] = set()
    for position, leaf in enumerate(leaves):
        if leaf.leaf_index != position:
            report.problems.append(f"leaf {position} is missing (next stored is {leaf.leaf_index})")
            break
        as_stored.put_hashes(hashes_for_append(position, leaf.leaf_hash, as_stored))
        event = events.get(leaf.event_id)
        logged.add(leaf.event_id)
        if event is None:
            report.problems.append(
                f"provenance event #{leaf.event_id} (leaf {position}) was deleted"
            )
            recomputed.append(b"")
            continue
        data = event_leaf_data(event)
        if leaf_hash(data) != leaf.leaf_hash:
            report.problems.append(
                f"provenance event #{event.id} (leaf {position}) was edited after it was logged"
            )
        recomputed.append(data)
    if len(leaves) != report.size:
        report.problems.append(f"the log says {report.size} leaves but {len(leaves)} are stored")
    for event_id in sorted(set(events) - logged):
        report.problems.append(
            f"provenance event #{event_id} is not in the log (inserted outside it)"
        )
    checked = min(report.size, recomputed.size)
    if checked and log_for(session, checked).root() != MerkleLog(as_stored, checked).root():
        report.problems.append("the stored tree hashes (log_nodes) do not match the leaves")
    for checkpoint in session.scalars(select(LogCheckpoint).order_by(LogCheckpoint.size)):
        report.checkpoints += 1
        try:
            signed = verify_checkpoint(checkpoint.note, verifier, origin)
        except NoteError as exc:
            report.problems.append(f"checkpoint at size {checkpoint.size}: {exc}")
            continue
        if signed.size > recomputed.size:
            report.problems.append(
                f"checkpoint at size {signed.size} covers leaves that no longer exist"
            )
        elif recomputed.root(signed.size) != signed.root_hash:
            first = _first_difference(session, recomputed, signed.size)
            report.problems.append(
                f"the rows no longer match the checkpoint signed at size {signed.size}{first}"
            )
    return report


def _first_difference(session: Session, recomputed: MerkleLog, size: int) -> str:
    stored = session.execute(
        select(LogLeaf.leaf_index, LogLeaf.event_id, LogLeaf.leaf_hash)
        .where(LogLeaf.leaf_index < size)
        .order_by(LogLeaf.leaf_index)
    ).all()
    for row in stored:
        if recomputed.leaf_hash(row.leaf_index) != row.leaf_hash:
            return f" (first at leaf {row.leaf_index}, event #{row.event_id})"
    return " (leaves reordered or replaced)"


def log_tile(session: Session, path: str, *, size: int | None = None) -> bytes:
    """The bytes of `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]` (c2sp tlog-tiles),
    for the log as it is now, or as it was at `size` leaves.

    Raises:
        TileError: a path the spec does not allow, or a tile the log does not have yet.
    """
    level, index, width = parse_tile_path(path)
    now = log_size(session)
    size = now if size is None else min(size, now)
    if level == "entries":
        if width > tile_width(0, index, size):
            raise TileError(f"entry bundle {index} of width {width} does not exist yet")
        first = index * TILE_WIDTH
        rows = session.execute(
            select(ProvenanceEvent)
            .join(LogLeaf, LogLeaf.event_id == ProvenanceEvent.id)
            .where(LogLeaf.leaf_index >= first, LogLeaf.leaf_index < first + width)
            .order_by(LogLeaf.leaf_index)
        ).scalars()
        return entry_bundle([event_leaf_data(e) for e in rows])
    return read_tile(SqlHashStore(session), level, index, width, size)
