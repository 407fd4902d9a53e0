"""Appending provenance events, in the caller's transaction.

An event row is written in the same unit of work as the change it records, and, just before
that unit of work commits, appended to the transparency log (`marketplace.transparency`):
either the change, its event and its log leaf all land, or none does. The event table and
the log's tables refuse UPDATE and DELETE (database triggers).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from db.models import ProvenanceEvent

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
)
_PENDING = "atelier.pending_events"


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


@sa_event.listens_for(Session, "before_commit")
def _log_pending_events(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        from marketplace.transparency import append_events

        session.flush()
        append_events(session, pending)


@sa_event.listens_for(Session, "after_rollback")
def _forget_pending_events(session: Session) -> None:
    session.info.pop(_PENDING, None)
