"""Web sessions: tokens stored only as hashes, expiry, sign-out, and the sign-in rate limit."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from db.models import LoginAttempt, User, WebSession, utcnow
from marketplace import web_sessions
from marketplace.errors import InvalidCredentials, UsernameTaken
from marketplace.web_sessions import (
    FAILURE_WINDOW,
    MAX_FAILURES_PER_IP,
    MAX_FAILURES_PER_USERNAME,
    MAX_SIGN_UPS_PER_IP,
    SIGN_UP_WINDOW,
    TooManyAttempts,
    open_session,
    revoke_session,
    sign_in,
    token_hash,
    user_for_token,
)
from tests.factories import FAST_HASHER, PASSWORD
from tests.integration.helpers import new_user


@pytest.fixture
def ada(sessions):
    return new_user(sessions, "ada")


def attempt(sessions, readers, name="ada", password=PASSWORD, ip="10.0.0.1", now=None):
    return sign_in(sessions, readers, name, password, ip, hasher=FAST_HASHER, now=now)


def whose(readers, token, now=None):
    with readers() as s:
        user = user_for_token(s, token, now=now)
        return None if user is None else user.username


def test_a_session_token_names_its_user_and_only_its_hash_is_stored(sessions, readers, ada):
    with sessions() as s, s.begin():
        opened = open_session(s, ada)
    assert len(opened.token) >= 40 and opened.username == "ada"
    assert whose(readers, opened.token) == "ada"
    with readers() as s:
        stored = s.scalars(select(WebSession.token_sha256)).all()
    assert stored == [token_hash(opened.token)] and opened.token not in stored


def test_unknown_malformed_and_tampered_tokens_name_nobody(sessions, readers, ada):
    with sessions() as s, s.begin():
        token = open_session(s, ada).token
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (None, "", "x", tampered, token_hash(token), 42, "a" * 500):
        assert whose(readers, bad) is None


def test_a_session_expires_after_fourteen_days(sessions, readers, ada):
    start = utcnow()
    with sessions() as s, s.begin():
        token = open_session(s, ada, now=start).token
    assert whose(readers, token, now=start + timedelta(days=13, hours=23)) == "ada"
    assert whose(readers, token, now=start + timedelta(days=14, seconds=1)) is None


def test_signing_out_revokes_the_session_and_only_that_one(sessions, readers, ada):
    with sessions() as s, s.begin():
        phone, laptop = open_session(s, ada).token, open_session(s, ada).token
    with sessions() as s, s.begin():
        assert revoke_session(s, phone) is True
    with sessions() as s, s.begin():
        assert revoke_session(s, phone) is False
    assert whose(readers, phone) is None
    assert whose(readers, laptop) == "ada"


def test_sign_in_opens_a_session_and_records_the_attempt(sessions, readers, ada):
    signed = attempt(sessions, readers, name="ADA")
    assert signed.user_id == ada and signed.username == "ada"
    assert whose(readers, signed.token) == "ada"
    with readers() as s:
        rows = s.execute(select(LoginAttempt.username, LoginAttempt.ip, LoginAttempt.ok)).all()
    assert rows == [("ada", "10.0.0.1", True)]


def test_a_wrong_password_is_refused_and_recorded_as_a_failure(sessions, readers, ada):
    with pytest.raises(InvalidCredentials, match="wrong username or password"):
        attempt(sessions, readers, password="not the password")
    with readers() as s:
        assert s.scalars(select(LoginAttempt.ok)).all() == [False]
        assert s.scalars(select(WebSession.id)).all() == []


def test_five_failures_for_a_username_lock_it_for_fifteen_minutes(sessions, readers, ada):
    start = utcnow()
    for i in range(MAX_FAILURES_PER_USERNAME):
        with pytest.raises(InvalidCredentials):
            attempt(sessions, readers, password="wrong!!!!", ip=f"10.0.0.{i}", now=start)
    # even the right password is refused now, from any address, without being checked
    with pytest.raises(TooManyAttempts, match="too many failed sign-ins; try again in 15 minutes"):
        attempt(sessions, readers, ip="192.168.1.1", now=start + timedelta(seconds=1))
    with pytest.raises(TooManyAttempts, match="try again in 1 minute$"):
        attempt(sessions, readers, now=start + FAILURE_WINDOW - timedelta(seconds=30))
    # the window passes: the right password works again
    later = start + FAILURE_WINDOW + timedelta(seconds=1)
    assert attempt(sessions, readers, now=later).username == "ada"


def test_the_lock_names_the_minutes_until_the_oldest_failure_leaves_the_window(
    sessions, readers, ada
):
    start = utcnow()
    for minute in range(MAX_FAILURES_PER_USERNAME):
        with pytest.raises(InvalidCredentials):
            attempt(sessions, readers, password="wrong!!!!", now=start + timedelta(minutes=minute))
    # the first failure (at minute 0) frees a slot at minute 15; it is now minute 6
    with pytest.raises(TooManyAttempts, match="try again in 9 minutes") as refused:
        attempt(sessions, readers, now=start + timedelta(minutes=6))
    assert refused.value.retry_after_seconds == 9 * 60


def test_a_success_clears_the_username_count(sessions, readers, ada):
    start = utcnow()
    for _ in range(MAX_FAILURES_PER_USERNAME - 1):
        with pytest.raises(InvalidCredentials):
            attempt(sessions, readers, password="wrong!!!!", now=start)
    attempt(sessions, readers, now=start + timedelta(seconds=1))
    for _ in range(MAX_FAILURES_PER_USERNAME - 1):
        with pytest.raises(InvalidCredentials):
            attempt(sessions, readers, password="wrong!!!!", now=start + timedelta(seconds=2))
    assert attempt(sessions, readers, now=start + timedelta(seconds=3)).username == "ada"


def test_twenty_failures_from_one_address_lock_that_address_for_every_name(sessions, readers, ada):
    start = utcnow()
    for i in range(MAX_FAILURES_PER_IP):
        with pytest.raises(InvalidCredentials):
            attempt(sessions, readers, name=f"guess{i}", ip="203.0.113.9", now=start)
    with pytest.raises(TooManyAttempts, match="too many failed sign-ins"):
        attempt(sessions, readers, ip="203.0.113.9", now=start + timedelta(seconds=5))
    # ada from her own address is not affected
    assert attempt(sessions, readers, ip="198.51.100.7", now=start).username == "ada"


def test_sign_up_opens_a_session_and_a_taken_name_changes_nothing(sessions, readers):
    with sessions() as s, s.begin():
        signed = web_sessions.sign_up(s, "bob", PASSWORD, hasher=FAST_HASHER)
    assert whose(readers, signed.token) == "bob"
    with pytest.raises(UsernameTaken, match="taken"):
        with sessions() as s, s.begin():
            web_sessions.sign_up(s, "BOB", PASSWORD, hasher=FAST_HASHER)
    with readers() as s:
        assert len(s.scalars(select(WebSession.id)).all()) == 1


class CountingHasher(type(FAST_HASHER)):
    """FAST_HASHER's parameters, counting how many passwords reach argon2."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.checks = 0
        self._lock = threading.Lock()

    def verify(self, hash, password):
        with self._lock:
            self.checks += 1
        time.sleep(0.02)  # keep the guesses overlapping
        return super().verify(hash, password)


def _guess_concurrently(sessions, readers, ips):
    hasher = CountingHasher()
    start = threading.Barrier(len(ips))
    outcomes = []

    def guess(ip):
        start.wait()
        try:
            sign_in(sessions, readers, "ada", "wrong!!!!", ip, hasher=hasher)
            outcomes.append("signed in")
        except TooManyAttempts:
            outcomes.append(429)
        except InvalidCredentials:
            outcomes.append(401)

    threads = [threading.Thread(target=guess, args=(ip,)) for ip in ips]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return hasher.checks, outcomes


def test_twenty_concurrent_wrong_guesses_check_at_most_five_passwords(sessions, readers, ada):
    checks, outcomes = _guess_concurrently(sessions, readers, [f"10.1.0.{i}" for i in range(20)])
    assert checks <= MAX_FAILURES_PER_USERNAME
    assert outcomes.count(401) == checks and outcomes.count(429) == 20 - checks
    with readers() as s:
        assert len(s.scalars(select(LoginAttempt.id)).all()) == checks


def test_concurrent_guesses_from_one_address_stop_at_its_remaining_budget(sessions, readers):
    # 15 failures from this address already: 5 left in its budget of 20
    start = utcnow()
    for i in range(MAX_FAILURES_PER_IP - 5):
        with pytest.raises(InvalidCredentials):
            attempt(sessions, readers, name=f"guess{i}", password="wrong!!!!", ip="10.9.9.9")
    new_user(sessions, "ada")
    hasher = CountingHasher()
    barrier = threading.Barrier(20)
    refused = []

    def guess(i):
        barrier.wait()
        try:
            sign_in(sessions, readers, f"other{i}", "wrong!!!!", "10.9.9.9", hasher=hasher)
        except TooManyAttempts:
            refused.append(i)
        except InvalidCredentials:
            pass

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert hasher.checks <= 5 and len(refused) == 20 - hasher.checks
    assert utcnow() - start < FAILURE_WINDOW


def test_a_right_password_after_a_reserved_try_is_recorded_as_a_success(sessions, readers, ada):
    signed = attempt(sessions, readers)
    with readers() as s:
        assert s.execute(select(LoginAttempt.ok, LoginAttempt.kind)).all() == [(True, "sign_in")]
    assert whose(readers, signed.token) == "ada"


def test_sign_ups_are_limited_per_address(sessions, readers):
    now = utcnow()
    for i in range(MAX_SIGN_UPS_PER_IP):
        with sessions() as s, s.begin():
            web_sessions.sign_up(
                s, f"user{i}", PASSWORD, hasher=FAST_HASHER, ip="10.2.2.2", now=now
            )
    with pytest.raises(TooManyAttempts, match="too many new accounts from this address"):
        with sessions() as s, s.begin():
            web_sessions.sign_up(s, "onemore", PASSWORD, hasher=FAST_HASHER, ip="10.2.2.2", now=now)
    with readers() as s:
        assert len(s.scalars(select(User.id)).all()) == MAX_SIGN_UPS_PER_IP
    # another address, or the same one an hour later, may
    with sessions() as s, s.begin():
        web_sessions.sign_up(s, "elsewhere", PASSWORD, hasher=FAST_HASHER, ip="10.3.3.3", now=now)
    later = now + SIGN_UP_WINDOW + timedelta(seconds=1)
    with sessions() as s, s.begin():
        web_sessions.sign_up(s, "onemore", PASSWORD, hasher=FAST_HASHER, ip="10.2.2.2", now=later)
    # sign-ups never count as failed sign-ins
    assert (
        attempt(sessions, readers, name="onemore", ip="10.2.2.2", now=later).username == "onemore"
    )
