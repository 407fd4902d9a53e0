"""Appending provenance events, in the caller's transaction.

An event row is written in the same unit of work as the change it records, so either both
land or neither does. The table refuses UPDATE and DELETE (database triggers).
"""

from __future__ import annotations

from typing import Any

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


def record_event(
    session: Session,
    kind: str,
    *,
    artwork_id: int | None,
    actor_id: int | None,
    payload: dict[str, Any] | None = None,
) -> ProvenanceEvent:
    """Append one provenance event; it is written at the session's next flush.

    Raises:
        ValueError: for an unknown `kind`.
    """
    if kind not in EVENT_KINDS:
        raise ValueError(f"`kind` must be one of {EVENT_KINDS}, got {kind!r}")
    event = ProvenanceEvent(
        kind=kind, artwork_id=artwork_id, actor_id=actor_id, payload=dict(payload or {})
    )
    session.add(event)
    return event
