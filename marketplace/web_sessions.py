"""Web sign-in: session cookies and the rate limit on wrong passwords.

A session is a random 32-byte token, handed to the browser in an HttpOnly cookie (or to an
API client, which sends it back as a `Cookie` header). The database keeps only the token's
SHA-256, so a copy of the database signs nobody in. Sessions expire after SESSION_DAYS and
sign-out revokes them.

Every sign-in try is recorded. After MAX_FAILURES_PER_USERNAME failures for one username,
or MAX_FAILURES_PER_IP from one IP address, within FAILURE_WINDOW, further tries are refused
(without checking the password) until the oldest of those failures leaves the window. A
success clears the username's count (not the IP's: an attacker cannot reset it by signing in
to an account of their own). The state is in the database, so it holds across processes and
restarts. A try is reserved (counted as a failure) in the same write transaction as the
check, before its password is hashed, so simultaneous guesses cannot all slip under the
limit. New accounts are limited too: MAX_SIGN_UPS_PER_IP an hour from one address.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from db.models import LoginAttempt, User, WebSession, utcnow
from marketplace import accounts
from marketplace.errors import MarketplaceError
from marketplace.rules import DEFAULT_RULES, MarketRules

COOKIE_NAME = "atelier_session"
TOKEN_BYTES = 32
SESSION_DAYS = 14
SESSION_LIFETIME = timedelta(days=SESSION_DAYS)
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_IP = 20
SIGN_UP_WINDOW = timedelta(hours=1)
MAX_SIGN_UPS_PER_IP = 5
MAX_KEY_LENGTH = 64  # usernames and IPs are stored cut to this


class TooManyAttempts(MarketplaceError):
    """Sign-in refused for now: too many recent failures for this username or address."""

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


@dataclass(frozen=True)
class SignedIn:
    """A new session: the token to hand to the client, once, and whose it is."""

    token: str
    user_id: int
    username: str
    expires_at: datetime


def token_hash(token: str) -> str:
    """The hex SHA-256 under which a session token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _username_key(username: object) -> str:
    return str(username).casefold()[:MAX_KEY_LENGTH]


def _ip_key(ip: object) -> str:
    return (str(ip) if ip else "unknown")[:MAX_KEY_LENGTH]


def open_session(session: Session, user_id: int, *, now: datetime | None = None) -> SignedIn:
    """Start a session for `user_id` and return its token (shown to nobody but the client).

    Raises:
        NotFound: no such user.
    """
    user = accounts.get_user(session, user_id)
    now = now or utcnow()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = WebSession(
        token_sha256=token_hash(token),
        user_id=user.id,
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    session.add(row)
    session.flush()
    return SignedIn(token, user.id, user.username, row.expires_at)


def user_for_token(session: Session, token: object, *, now: datetime | None = None) -> User | None:
    """The user a session token belongs to, or None when it is unknown, expired or revoked
    (or not a token at all: cookies are untrusted input)."""
    if not isinstance(token, str) or not 16 <= len(token) <= 128:
        return None
    now = now or utcnow()
    return session.scalar(
        select(User)
        .join(WebSession, WebSession.user_id == User.id)
        .where(
            WebSession.token_sha256 == token_hash(token),
            WebSession.revoked_at.is_(None),
            WebSession.expires_at > now,
        )
    )


def revoke_session(session: Session, token: object, *, now: datetime | None = None) -> bool:
    """Sign a session out; True if it was open."""
    if not isinstance(token, str) or not token:
        return False
    result = session.execute(
        update(WebSession)
        .where(WebSession.token_sha256 == token_hash(token), WebSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )
    return bool(result.rowcount)


def revoke_all_sessions(session: Session, user_id: int, *, now: datetime | None = None) -> int:
    """Sign a user out everywhere; returns how many sessions were open."""
    result = session.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )
    return result.rowcount


def _retry_after(
    failures: list[datetime], limit: int, now: datetime, window: timedelta = FAILURE_WINDOW
) -> int | None:
    """Seconds until fewer than `limit` of `failures` (oldest first) lie in the window."""
    if len(failures) < limit:
        return None
    frees_at = _aware(failures[len(failures) - limit]) + window
    return max(1, math.ceil((frees_at - now).total_seconds()))


def check_attempt_allowed(
    session: Session, username: object, ip: object, *, now: datetime | None = None
) -> None:
    """Refuse a sign-in try while this username or address has too many recent failures.

    Raises:
        TooManyAttempts: "too many failed sign-ins; try again in N minutes".
    """
    now = now or utcnow()
    since = now - FAILURE_WINDOW
    name = _username_key(username)
    last_ok = session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == name, LoginAttempt.ok.is_(True), LoginAttempt.at > since
        )
    )
    by_name = select(LoginAttempt.at).where(
        LoginAttempt.username == name,
        LoginAttempt.ok.is_(False),
        LoginAttempt.kind == "sign_in",
        LoginAttempt.at > since,
    )
    if last_ok is not None:
        by_name = by_name.where(LoginAttempt.at > last_ok)
    name_failures = list(
        session.scalars(by_name.order_by(LoginAttempt.at.desc()).limit(MAX_FAILURES_PER_USERNAME))
    )[::-1]
    ip_failures = list(
        session.scalars(
            select(LoginAttempt.at)
            .where(LoginAttempt.ip == _ip_key(ip), LoginAttempt.ok.is_(False))
            .where(LoginAttempt.kind == "sign_in", LoginAttempt.at > since)
            .order_by(LoginAttempt.at.desc())
            .limit(MAX_FAILURES_PER_IP)
        )
    )[::-1]
    waits = [
        w
        for w in (
            _retry_after(name_failures, MAX_FAILURES_PER_USERNAME, now),
            _retry_after(ip_failures, MAX_FAILURES_PER_IP, now),
        )
        if w is not None
    ]
    if waits:
        wait = max(waits)
        raise TooManyAttempts(
            f"too many failed sign-ins; try again in {_minutes(wait)}", retry_after_seconds=wait
        )


def _minutes(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return f"{minutes} minute" if minutes == 1 else f"{minutes} minutes"


def record_attempt(
    session: Session,
    username: object,
    ip: object,
    ok: bool,
    *,
    now: datetime | None = None,
    kind: str = "sign_in",
) -> int:
    """Remember one sign-in try or sign-up (and forget those older than the longest window);
    returns its id."""
    now = now or utcnow()
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - SIGN_UP_WINDOW))
    row = LoginAttempt(username=_username_key(username), ip=_ip_key(ip), at=now, ok=ok, kind=kind)
    session.add(row)
    session.flush()
    return row.id


def purge_expired_sessions(session: Session, *, now: datetime | None = None) -> int:
    """Delete sessions that expired, or were revoked, more than a day ago."""
    cutoff = (now or utcnow()) - timedelta(days=1)
    result = session.execute(
        delete(WebSession).where(
            (WebSession.expires_at < cutoff) | (WebSession.revoked_at < cutoff)
        )
    )
    return result.rowcount


def _lock_keys(session: Session, *keys: str) -> None:
    """Serialise attempts on the same username or address (PostgreSQL; SQLite's write
    transactions are serial already), so a check and its reservation happen as one."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in keys:
        digest = hashlib.sha256(f"atelier.login:{key}".encode()).digest()
        lock = int.from_bytes(digest[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock})


def reserve_attempt(
    session: Session, username: object, ip: object, *, now: datetime | None = None
) -> int:
    """Check the limit and, in the same write transaction, record this try as a failure
    until its password proves right; returns the attempt's id.

    Concurrent guesses therefore count against the limit before any password is checked:
    of 20 simultaneous wrong guesses at most MAX_FAILURES_PER_USERNAME reach argon2.

    Raises:
        TooManyAttempts: too many recent failures for this username or address.
    """
    now = now or utcnow()
    _lock_keys(session, "name:" + _username_key(username), "ip:" + _ip_key(ip))
    check_attempt_allowed(session, username, ip, now=now)
    return record_attempt(session, username, ip, ok=False, now=now)


def sign_in(
    sessions: sessionmaker,
    readers: sessionmaker,
    username: str,
    password: str,
    ip: str | None,
    *,
    hasher: PasswordHasher = accounts.DEFAULT_HASHER,
    now: datetime | None = None,
) -> SignedIn:
    """Check a password, subject to the rate limit, and open a session.

    This one service takes session factories rather than a session: the try is reserved
    (checked against the limit and recorded as a failure) in one short write transaction,
    the password is checked in a read-only one, so argon2's deliberate slowness never holds
    the SQLite write lock, and a right password then turns the reservation into a success
    and opens the session.

    Args:
        sessions: the read-write session factory.
        readers: the read-only session factory.
        username: as typed (compared case-insensitively).
        password: as typed.
        ip: the client's address, for the per-address limit.
        hasher: the password hasher (tests pass a fast one).
        now: the current time (tests pass their own).

    Returns:
        The new session.

    Raises:
        TooManyAttempts: too many recent failures for this username or address.
        InvalidCredentials: wrong username or password (recorded as a failure).
    """
    now = now or utcnow()
    with sessions() as s, s.begin():
        attempt_id = reserve_attempt(s, username, ip, now=now)
    with readers() as s:
        user_id = accounts.authenticate(s, username, password, hasher=hasher).id
    with sessions() as s, s.begin():
        s.execute(update(LoginAttempt).where(LoginAttempt.id == attempt_id).values(ok=True))
        purge_expired_sessions(s, now=now)
        return open_session(s, user_id, now=now)


def check_sign_up_allowed(session: Session, ip: object, *, now: datetime | None = None) -> None:
    """Refuse a new account while this address made MAX_SIGN_UPS_PER_IP in the last hour
    (each account comes with demo credits).

    Raises:
        TooManyAttempts: "too many new accounts from this address; try again in N minutes".
    """
    now = now or utcnow()
    made = list(
        session.scalars(
            select(LoginAttempt.at)
            .where(LoginAttempt.ip == _ip_key(ip), LoginAttempt.kind == "sign_up")
            .where(LoginAttempt.at > now - SIGN_UP_WINDOW)
            .order_by(LoginAttempt.at.desc())
            .limit(MAX_SIGN_UPS_PER_IP)
        )
    )[::-1]
    wait = _retry_after(made, MAX_SIGN_UPS_PER_IP, now, SIGN_UP_WINDOW)
    if wait is not None:
        raise TooManyAttempts(
            f"too many new accounts from this address; try again in {_minutes(wait)}",
            retry_after_seconds=wait,
        )


def sign_up(
    session: Session,
    username: str,
    password: str,
    *,
    rules: MarketRules = DEFAULT_RULES,
    hasher: PasswordHasher = accounts.DEFAULT_HASHER,
    ip: str | None = None,
    now: datetime | None = None,
) -> SignedIn:
    """Create an account (see `accounts.sign_up`) and open a session for it; at most
    MAX_SIGN_UPS_PER_IP accounts an hour from one address.

    Raises:
        InvalidInput: a malformed username or password.
        UsernameTaken: the name exists, in any letter case, or a look-alike does.
        TooManyAttempts: too many new accounts from this address.
    """
    now = now or utcnow()
    accounts.validate_username(username)
    accounts.validate_password(password)
    _lock_keys(session, "ip:" + _ip_key(ip))
    check_sign_up_allowed(session, ip, now=now)
    user = accounts.sign_up(session, username, password, rules=rules, hasher=hasher)
    record_attempt(session, username, ip, ok=True, now=now, kind="sign_up")
    return open_session(session, user.id, now=now)
