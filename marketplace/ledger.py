"""The double-entry money ledger.

Every movement of money is one `LedgerTransaction` whose entries sum to zero. User wallets
carry a cached balance that must always equal the sum of their entries; the system accounts
(`platform` for fees, `issuance` for demo credits granted, and one escrow account per auction,
offer or commission, `escrow:auction:<id>` / `escrow:offer:<id>` / `escrow:commission:<id>`,
holding its leading bid, the offer or the budget) are derived from their entries alone, so
they are never a row a sale must lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import DateTime, bindparam, case, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT, TEXT
from sqlalchemy.orm import Session

from db.models import (
    ESCROW_PREFIX,
    SYSTEM_ACCOUNTS,
    Auction,
    Commission,
    LedgerEntry,
    LedgerTransaction,
    Offer,
    User,
    utcnow,
)
from db.session import expire_cached, flush_pending
from marketplace.errors import InvalidInput

_TRANSACTIONS = LedgerTransaction.__table__
_ENTRIES = LedgerEntry.__table__
_USERS = User.__table__
_POST_LEDGER = text(
    "SELECT atelier_post_ledger(:kind, :memo, :created_at, :user_ids, :system_accounts, "
    ":roles, :amounts, :artwork_ids)"
).bindparams(
    bindparam("created_at", type_=DateTime(timezone=True)),
    bindparam("user_ids", type_=ARRAY(BIGINT)),
    bindparam("system_accounts", type_=ARRAY(TEXT)),
    bindparam("roles", type_=ARRAY(TEXT)),
    bindparam("amounts", type_=ARRAY(BIGINT)),
    bindparam("artwork_ids", type_=ARRAY(BIGINT)),
)


ESCROW_HOLDERS = {"auction": Auction, "offer": Offer, "commission": Commission}


def escrow_account(holder: str, holder_id: int) -> str:
    """The escrow account of an auction or an offer: `escrow:auction:12`."""
    if holder not in ESCROW_HOLDERS:
        raise ValueError(f"`holder` must be one of {tuple(ESCROW_HOLDERS)}, got {holder!r}")
    return f"{ESCROW_PREFIX}{holder}:{int(holder_id)}"


def escrow_balance(session: Session, account: str) -> int:
    """What an escrow account holds now, in cents."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
                LedgerEntry.system_account == account
            )
        )
    )


def _is_system_account(name: str) -> bool:
    if name in SYSTEM_ACCOUNTS:
        return True
    holder, _, number = name.removeprefix(ESCROW_PREFIX).partition(":")
    return name.startswith(ESCROW_PREFIX) and holder in ESCROW_HOLDERS and number.isdigit()


@dataclass(frozen=True)
class Leg:
    """One entry of a transaction: to a user (`user_id`) or a system account."""

    role: str
    amount_cents: int
    user_id: int | None = None
    system_account: str | None = None
    artwork_id: int | None = None

    def __post_init__(self) -> None:
        if (self.user_id is None) == (self.system_account is None):
            raise ValueError("a leg names exactly one of `user_id` and `system_account`")
        if self.system_account is not None and not _is_system_account(self.system_account):
            raise ValueError(
                f"`system_account` must be one of {SYSTEM_ACCOUNTS} or an escrow account, "
                f"got {self.system_account!r}"
            )


def post_transaction(session: Session, kind: str, legs: Iterable[Leg], *, memo: str = "") -> int:
    """Write a balanced transaction and move the users' cached balances with it; returns
    the transaction's id.

    Zero-amount legs are dropped. Three statements: the transaction, its entries, and every
    wallet moved by one `balance = balance + delta` statement; callers that touch several
    wallets lock them first in ascending id order (see `purchase`), so concurrent
    transactions on PostgreSQL queue rather than deadlock.

    Raises:
        ValueError: if the legs do not sum to zero or there are none.
    """
    legs = [leg for leg in legs if leg.amount_cents != 0]
    if not legs:
        raise ValueError("a ledger transaction needs at least one non-zero leg")
    total = sum(leg.amount_cents for leg in legs)
    if total != 0:
        raise ValueError(f"ledger legs must sum to zero, got {total}")
    flush_pending(session)
    conn = session.connection()
    deltas: dict[int, int] = {}
    for leg in legs:
        if leg.user_id is not None:
            deltas[leg.user_id] = deltas.get(leg.user_id, 0) + leg.amount_cents
    if conn.dialect.name == "postgresql":
        # the same three writes in one statement (migration 0009)
        txn_id = conn.execute(
            _POST_LEDGER,
            {
                "kind": kind,
                "memo": memo[:200],
                "created_at": utcnow(),
                "user_ids": [leg.user_id for leg in legs],
                "system_accounts": [leg.system_account for leg in legs],
                "roles": [leg.role for leg in legs],
                "amounts": [leg.amount_cents for leg in legs],
                "artwork_ids": [leg.artwork_id for leg in legs],
            },
        ).scalar_one()
        expire_cached(session, User, deltas)
        return txn_id
    txn_id = conn.execute(
        insert(_TRANSACTIONS)
        .values(kind=kind, memo=memo[:200], created_at=utcnow())
        .returning(_TRANSACTIONS.c.id)
    ).scalar_one()
    conn.execute(
        insert(_ENTRIES),
        [
            {
                "transaction_id": txn_id,
                "user_id": leg.user_id,
                "system_account": leg.system_account,
                "role": leg.role,
                "amount_cents": leg.amount_cents,
                "artwork_id": leg.artwork_id,
            }
            for leg in legs
        ],
    )
    deltas = {uid: d for uid, d in sorted(deltas.items()) if d}
    if deltas:
        conn.execute(
            update(_USERS)
            .where(_USERS.c.id.in_(list(deltas)))
            .values(balance_cents=_USERS.c.balance_cents + case(deltas, value=_USERS.c.id, else_=0))
        )
        expire_cached(session, User, deltas)
    return txn_id


@dataclass
class LedgerReport:
    """The result of `check_ledger`: `ok` when every invariant holds."""

    transactions: int = 0
    entries: int = 0
    total_cents: int = 0
    issued_cents: int = 0
    platform_cents: int = 0
    escrow_cents: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_ledger(session: Session) -> LedgerReport:
    """Check that the books balance: each transaction and the whole ledger sum to zero, and
    every wallet's cached balance equals the sum of its entries and is not negative."""
    report = LedgerReport()
    report.transactions = session.scalar(select(func.count(LedgerTransaction.id))) or 0
    report.entries = session.scalar(select(func.count(LedgerEntry.id))) or 0
    report.total_cents = int(session.scalar(select(func.sum(LedgerEntry.amount_cents))) or 0)
    if report.total_cents != 0:
        report.problems.append(f"the ledger sums to {report.total_cents} cents, not 0")
    unbalanced = session.execute(
        select(LedgerEntry.transaction_id, func.sum(LedgerEntry.amount_cents))
        .group_by(LedgerEntry.transaction_id)
        .having(func.sum(LedgerEntry.amount_cents) != 0)
        .limit(20)
    ).all()
    for txn_id, total in unbalanced:
        report.problems.append(f"transaction #{txn_id} sums to {total} cents, not 0")
    for account in SYSTEM_ACCOUNTS:
        value = int(
            session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
                    LedgerEntry.system_account == account
                )
            )
        )
        if account == "issuance":
            report.issued_cents = -value
        else:
            report.platform_cents = value
    _check_escrow(session, report)
    sums = (
        select(LedgerEntry.user_id, func.sum(LedgerEntry.amount_cents).label("total"))
        .where(LedgerEntry.user_id.is_not(None))
        .group_by(LedgerEntry.user_id)
        .subquery()
    )
    mismatched = session.execute(
        select(User.username, User.balance_cents, func.coalesce(sums.c.total, 0))
        .outerjoin(sums, sums.c.user_id == User.id)
        .where(User.balance_cents != func.coalesce(sums.c.total, 0))
        .limit(20)
    ).all()
    for username, cached, total in mismatched:
        report.problems.append(
            f"user {username}: balance {cached} cents but entries sum to {int(total)} cents"
        )
    negative = session.scalars(select(User.username).where(User.balance_cents < 0)).all()
    for username in negative:
        report.problems.append(f"user {username} has a negative balance")
    return report


def _check_escrow(session: Session, report: LedgerReport) -> None:
    """Every escrow account holds exactly what its auction's leading bid or its open offer
    says, and nothing once the auction or offer has closed; never less than nothing."""
    held = dict(
        session.execute(
            select(LedgerEntry.system_account, func.sum(LedgerEntry.amount_cents))
            .where(LedgerEntry.system_account.like(ESCROW_PREFIX + "%"))
            .group_by(LedgerEntry.system_account)
        ).all()
    )
    report.escrow_cents = int(sum(held.values()))
    expected: dict[str, int] = {}
    for auction_id, high_bid in session.execute(
        select(Auction.id, Auction.high_bid_cents).where(
            Auction.status == "open", Auction.high_bid_cents.is_not(None)
        )
    ):
        expected[escrow_account("auction", auction_id)] = int(high_bid)
    for offer_id, amount in session.execute(
        select(Offer.id, Offer.amount_cents).where(Offer.status == "open")
    ):
        expected[escrow_account("offer", offer_id)] = int(amount)
    for commission_id, budget in session.execute(
        select(Commission.id, Commission.budget_cents).where(Commission.status == "open")
    ):
        expected[escrow_account("commission", commission_id)] = int(budget)
    for account in sorted(set(held) | set(expected)):
        have, want = int(held.get(account, 0)), expected.get(account, 0)
        if have != want:
            report.problems.append(
                f"escrow account {account} holds {have} cents but should hold {want}"
            )


MAX_HISTORY = 10_000


def account_history(session: Session, user_id: int, *, limit: int = 200) -> list[dict]:
    """A user's ledger entries, newest first, each with the balance right after it.

    The running balance is a window sum over the user's entries in the same statement, so
    it is consistent even while other sales commit. A seller's entry also carries the sale's
    price (`sale_price_cents`, what the buyer paid) and the platform's fee on it
    (`platform_fee_cents`).
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_HISTORY:
        raise InvalidInput(f"`limit` must be an integer in [1, {MAX_HISTORY}], got {limit!r}")
    running = (
        select(
            LedgerEntry.id.label("entry_id"),
            LedgerEntry.transaction_id,
            LedgerEntry.role,
            LedgerEntry.amount_cents,
            LedgerEntry.artwork_id,
            func.sum(LedgerEntry.amount_cents)
            .over(order_by=LedgerEntry.id)
            .label("balance_after_cents"),
        )
        .where(LedgerEntry.user_id == user_id)
        .subquery()
    )
    rows = session.execute(
        select(
            running, LedgerTransaction.kind, LedgerTransaction.memo, LedgerTransaction.created_at
        )
        .join(LedgerTransaction, LedgerTransaction.id == running.c.transaction_id)
        .order_by(running.c.entry_id.desc())
        .limit(limit)
    ).all()
    # a seller sees what each sale's buyer paid and what the platform kept
    sales = [r.transaction_id for r in rows if r.role == "seller"]
    legs: dict[tuple[int, str], int] = {}
    if sales:
        for transaction_id, role, total in session.execute(
            select(LedgerEntry.transaction_id, LedgerEntry.role, func.sum(LedgerEntry.amount_cents))
            .where(
                LedgerEntry.transaction_id.in_(sales),
                LedgerEntry.role.in_(("buyer", "platform_fee")),
            )
            .group_by(LedgerEntry.transaction_id, LedgerEntry.role)
        ):
            legs[(transaction_id, role)] = int(total)
    return [
        {
            "entry_id": r.entry_id,
            "transaction_id": r.transaction_id,
            "kind": r.kind,
            "role": r.role,
            "amount_cents": r.amount_cents,
            "balance_after_cents": int(r.balance_after_cents),
            "artwork_id": r.artwork_id,
            "memo": r.memo,
            "created_at": r.created_at.isoformat(),
            **(
                {
                    "sale_price_cents": -legs.get((r.transaction_id, "buyer"), 0),
                    "platform_fee_cents": legs.get((r.transaction_id, "platform_fee"), 0),
                }
                if r.role == "seller"
                else {}
            ),
        }
        for r in rows
    ]
