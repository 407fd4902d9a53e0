"""The market sweep: the scheduled job that closes what time has ended.

It settles every auction whose clock has run out (`marketplace.auctions.settle_due`),
refunds every offer past its expiry (`marketplace.offers.expire_due`) and every commission
nobody answered, or nobody chose from in time (`marketplace.commissions.expire_due`); given
the blob store, it also embeds the style of works registered since its last round, for "more
like this" (`marketplace.style_index.embed_missing`). Each
item is its own transaction that locks the row (an auction's or offer's artwork first) and
re-checks its state, so the sweep is idempotent: two workers sweeping at once, or one
sweeping twice, settle each auction once. It runs every few seconds in each `atelier worker`
(the job engine's maintenance queue on PostgreSQL) and in the app's own worker thread;
`atelier auction settle` runs it by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import sessionmaker

from db.blobs import BlobStore
from db.models import utcnow
from marketplace import commissions
from marketplace.auctions import settle_due
from marketplace.offers import expire_due
from marketplace.rules import DEFAULT_RULES, MarketRules
from marketplace.style_index import embed_missing

SWEEP_SECONDS = 5.0  # how often the workers sweep


@dataclass(frozen=True)
class SweepReport:
    """What one sweep closed: auction ids settled or closed unsold, offer and commission ids
    expired."""

    auctions: list[int] = field(default_factory=list)
    offers: list[int] = field(default_factory=list)
    commissions: list[int] = field(default_factory=list)
    embedded: list[int] = field(default_factory=list)


def sweep_market(
    sessions: sessionmaker,
    *,
    now: datetime | None = None,
    rules: MarketRules = DEFAULT_RULES,
    blobs: BlobStore | None = None,
) -> SweepReport:
    """Settle the auctions and expire the offers that are due at `now` (default: now); with
    `blobs`, embed the styles of works that have none yet."""
    now = now or utcnow()
    return SweepReport(
        auctions=settle_due(sessions, now=now, rules=rules),
        offers=expire_due(sessions, now=now),
        commissions=commissions.expire_due(sessions, now=now),
        embedded=embed_missing(sessions, blobs) if blobs is not None else [],
    )
