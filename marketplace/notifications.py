"""Notifications: what a person is told in the app.

A notification is written in the same transaction as what it tells (a bid that outbids, a
sale, an offer, a copyright report, a followed artist's new listing), so it exists exactly
when that happened; nothing is sent anywhere, the app reads them (`notifications_of`,
`unread_count`) and the reader marks them read (`mark_read`). A notification keeps what its
words need (amounts, the work's title) in its payload, so it reads the same after the work
changes hands or is renamed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from db.models import NOTIFICATION_KINDS, Follow, Notification, utcnow
from marketplace.errors import InvalidInput

PAGE_SIZE = 50


def notify(
    session: Session,
    user_ids: int | Iterable[int],
    kind: str,
    *,
    artwork_id: int | None = None,
    **payload: Any,
) -> None:
    """Tell each of `user_ids` (one id or several; None and repeats are skipped) about
    `kind`, with `payload` (JSON) for its words."""
    if kind not in NOTIFICATION_KINDS:  # also when nobody is to be told
        raise ValueError(f"unknown notification kind {kind!r}")
    ids = [user_ids] if isinstance(user_ids, int) else list(user_ids)
    notify_each(
        session,
        [(user_id, kind, payload) for user_id in dict.fromkeys(i for i in ids if i is not None)],
        artwork_id=artwork_id,
    )


def notify_each(
    session: Session,
    notes: Iterable[tuple[int, str, dict[str, Any]]],
    *,
    artwork_id: int | None = None,
) -> None:
    """Write (user id, kind, payload) notifications about one work with one INSERT."""
    rows = []
    for user_id, kind, payload in notes:
        if kind not in NOTIFICATION_KINDS:
            raise ValueError(f"unknown notification kind {kind!r}")
        rows.append(
            {
                "user_id": user_id,
                "kind": kind,
                "artwork_id": artwork_id,
                "payload": payload,
                "created_at": utcnow(),
            }
        )
    if rows:
        session.execute(insert(Notification), rows)


def notify_followers(session: Session, artist_id: int, artwork, **payload: Any) -> None:
    """Tell the followers of `artist_id` that a work they made is for sale ("new_work")."""
    if artwork.creator_id != artist_id:
        return  # a collector reselling is not the artist's new work
    followers = session.scalars(select(Follow.follower_id).where(Follow.artist_id == artist_id))
    notify(
        session,
        list(followers),
        "new_work",
        artwork_id=artwork.id,
        title=artwork.title,
        artist_id=artist_id,
        **payload,
    )


def notifications_of(
    session: Session, user_id: int, *, unread_only: bool = False, limit: int = PAGE_SIZE
) -> list[Notification]:
    """`user_id`'s newest notifications first."""
    query = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return list(session.scalars(query.order_by(Notification.id.desc()).limit(limit)))


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )


def mark_read(session: Session, user_id: int, up_to_id: int | None = None) -> int:
    """Mark `user_id`'s notifications read (those up to `up_to_id`, or all); returns how many
    changed. Another person's notifications are never touched."""
    if up_to_id is not None and (
        not isinstance(up_to_id, int) or isinstance(up_to_id, bool) or up_to_id < 1
    ):
        raise InvalidInput(
            f"`up_to_id` must be a notification number, got {up_to_id!r}",
            plain="That is not a notification number.",
        )
    query = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if up_to_id is not None:
        query = query.where(Notification.id <= up_to_id)
    return session.execute(query.values(read_at=utcnow())).rowcount
