"""Appending provenance events, in the caller's transaction.

An event row is written in the same unit of work as the change it records, and, just before
that unit of work commits, appended to the transparency log (`marketplace.transparency`):
either the change, its event and its log leaf all land, or none does. The event table and
the log's tables refuse UPDATE and DELETE (database triggers).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import insert
from sqlalchemy.orm import Session

from db.models import ProvenanceEvent, utcnow
from provenance.canonical import canonical_event_bytes

EVENT_KINDS = (
    "registered",
    "derived",
    "listed",
    "price_changed",
    "delisted",
    "sold",
    "ownership_transferred",
    "licence_granted",
    "takedown",
    "auction_opened",
    "bid_placed",
    "auction_closed",
    "offer_made",
    "offer_closed",
    "takedown_filed",
    "takedown_countered",
    "takedown_decided",
    "commission_posted",
    "candidate_submitted",
    "commission_closed",
)
_PENDING = "atelier.pending_events"
_PENDING_LEAVES = "atelier.pending_leaves"
_EVENTS = ProvenanceEvent.__table__


def record_event(
    session: Session,
    kind: str,
    *,
    artwork_id: int | None,
    actor_id: int | None,
    payload: dict[str, Any] | None = None,
) -> ProvenanceEvent:
    """Append one provenance event; it is written at the session's next flush and logged
    when the transaction commits.

    Raises:
        ValueError: for an unknown `kind`.
    """
    if kind not in EVENT_KINDS:
        raise ValueError(f"`kind` must be one of {EVENT_KINDS}, got {kind!r}")
    event = ProvenanceEvent(
        kind=kind, artwork_id=artwork_id, actor_id=actor_id, payload=dict(payload or {})
    )
    session.add(event)
    session.info.setdefault(_PENDING, []).append(event)
    return event


def insert_events(session: Session, events: list[dict[str, Any]]) -> list[int]:
    """Append provenance events given as dicts (`kind`, `artwork_id`, `actor_id`,
    `payload`) with one INSERT, at once, in this order; they are logged when the transaction
    commits, like `record_event`'s. For hot paths that write with Core statements: no ORM
    objects are made. Returns the new events' ids.

    Raises:
        ValueError: for an unknown `kind`, or a payload the log cannot encode.
    """
    if not events:
        return []
    rows = []
    for item in events:
        if item["kind"] not in EVENT_KINDS:
            raise ValueError(f"`kind` must be one of {EVENT_KINDS}, got {item['kind']!r}")
        rows.append(
            {
                "kind": item["kind"],
                "artwork_id": item.get("artwork_id"),
                "actor_id": item.get("actor_id"),
                "payload": dict(item.get("payload") or {}),
                "created_at": utcnow(),
            }
        )
    result = session.connection().execute(
        insert(_EVENTS).returning(_EVENTS.c.id, sort_by_parameter_order=True), rows
    )
    ids = list(result.scalars())
    leaves = session.info.setdefault(_PENDING_LEAVES, [])
    leaves += [
        (event_id, canonical_event_bytes(event_id=event_id, **row))
        for event_id, row in zip(ids, rows, strict=True)
    ]
    return ids


@sa_event.listens_for(Session, "before_commit")
def _log_pending_events(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    leaves = session.info.pop(_PENDING_LEAVES, None) or []
    if pending or leaves:
        from marketplace.transparency import append_leaves, event_leaf_data

        if pending:
            session.flush()
            leaves += [(event.id, event_leaf_data(event)) for event in pending]
        append_leaves(session, leaves)


@sa_event.listens_for(Session, "after_rollback")
def _forget_pending_events(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_PENDING_LEAVES, None)
