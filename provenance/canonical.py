"""The canonical bytes of a provenance event: the leaf data of the transparency log.

    {"actor_id":…,"artwork_id":…,"created_at":"2026-11-24T04:41:00.123456Z","event_id":…,
     "kind":"sold","payload":{…},"v":1}

JSON with keys sorted at every level, no insignificant whitespace (separators "," and ":"),
UTF-8 without escaping non-ASCII, integers only (payloads hold no floats), and `created_at`
in UTC with microseconds and a trailing "Z". A naive timestamp (SQLite returns them) is
taken as UTC, so the same row gives the same bytes on SQLite and PostgreSQL. `v` is the
format version.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

FORMAT_VERSION = 1


def canonical_timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_event_bytes(
    *,
    event_id: int,
    kind: str,
    artwork_id: int | None,
    actor_id: int | None,
    payload: dict[str, Any],
    created_at: datetime,
) -> bytes:
    """The leaf data for one event (see the module docstring).

    Raises:
        ValueError: if the payload holds a float or something JSON cannot encode.
    """
    document = {
        "v": FORMAT_VERSION,
        "event_id": event_id,
        "kind": kind,
        "artwork_id": artwork_id,
        "actor_id": actor_id,
        "payload": payload,
        "created_at": canonical_timestamp(created_at),
    }
    _reject_floats(payload)
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _reject_floats(value: Any) -> None:
    if isinstance(value, float):
        raise ValueError("event payloads must not hold floats (their text form is not canonical)")
    if isinstance(value, dict):
        for item in value.values():
            _reject_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _reject_floats(item)
