"""Many buyers at once: on SQLite 50 threads share one engine; on PostgreSQL (DATABASE_URL)
each of the 50 threads holds its own server connection."""

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from db.models import Artwork, Licence, Sale, User
from marketplace.errors import ListingNotForSale
from marketplace.ledger import check_ledger
from tests.integration.helpers import RULES, buy, new_artwork, new_listing, new_user

BUYERS = 50


def race(sessions, listing_id, buyer_ids, keys=None):
    """Start every purchase at the same moment; return each thread's outcome."""
    barrier = threading.Barrier(len(buyer_ids))
    outcomes: list = [None] * len(buyer_ids)

    def attempt(i, buyer):
        barrier.wait()
        try:
            key = keys[i] if keys else f"race-{buyer}"
            outcomes[i] = ("ok", buy(sessions, listing_id, buyer, key=key).sale.id)
        except Exception as exc:  # every failure is inspected by the test
            outcomes[i] = ("error", exc)

    threads = [threading.Thread(target=attempt, args=(i, b)) for i, b in enumerate(buyer_ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes


def total_money(sessions):
    with sessions() as s:
        return s.scalar(select(func.sum(User.balance_cents)))


@pytest.fixture
def crowd(sessions, blobs):
    seller = new_user(sessions, "seller")
    buyers = [new_user(sessions, f"buyer{i:02d}") for i in range(BUYERS)]
    art = new_artwork(sessions, blobs, seller, 1)
    return seller, buyers, art


def test_fifty_buyers_of_one_exclusive_listing_exactly_one_wins(sessions, crowd):
    seller, buyers, art = crowd
    listing = new_listing(sessions, art, seller, 1000)
    money_before = total_money(sessions)
    outcomes = race(sessions, listing, buyers)
    wins = [o for o in outcomes if o[0] == "ok"]
    losses = [o[1] for o in outcomes if o[0] == "error"]
    assert len(wins) == 1
    assert len(losses) == BUYERS - 1
    assert all(isinstance(e, ListingNotForSale) and "already sold" in str(e) for e in losses)
    with sessions() as s:
        sale = s.get(Sale, wins[0][1])
        assert s.get(Artwork, art).owner_id == sale.buyer_id
        assert s.scalar(select(func.count(Sale.id))) == 1
        report = check_ledger(s)
        assert report.ok, report.problems
    # user money only leaves through the platform fee
    assert money_before - total_money(sessions) == report.platform_cents == 25


def test_fifty_buyers_of_an_edition_of_five_exactly_five_win(sessions, crowd):
    seller, buyers, art = crowd
    listing = new_listing(sessions, art, seller, 500, licence_tier="personal", edition_size=5)
    outcomes = race(sessions, listing, buyers)
    kinds = Counter(o[0] for o in outcomes)
    assert kinds == {"ok": 5, "error": BUYERS - 5}
    errors = [o[1] for o in outcomes if o[0] == "error"]
    assert all(isinstance(e, ListingNotForSale) and "sold out" in str(e) for e in errors)
    with sessions() as s:
        assert s.scalar(select(func.count(Licence.id))) == 5
        assert s.get(Artwork, art).owner_id == seller
        winners = {s.get(Sale, o[1]).buyer_id for o in outcomes if o[0] == "ok"}
        for b in buyers:
            expected = RULES.starting_balance_cents - (500 if b in winners else 0)
            assert s.get(User, b).balance_cents == expected
        assert check_ledger(s).ok


def test_concurrent_retries_with_one_idempotency_key_charge_once(sessions, crowd):
    seller, buyers, art = crowd
    listing = new_listing(sessions, art, seller, 300, licence_tier="personal", edition_size=10)
    buyer = buyers[0]
    outcomes = race(sessions, listing, [buyer] * 10, keys=["same-key"] * 10)
    assert {o[0] for o in outcomes} == {"ok"}
    assert len({o[1] for o in outcomes}) == 1
    with sessions() as s:
        assert s.get(User, buyer).balance_cents == RULES.starting_balance_cents - 300
        assert s.scalar(select(func.count(Sale.id))) == 1


def test_a_reader_is_not_blocked_by_an_open_write_transaction(sessions, readers, crowd):
    seller, _buyers, _art = crowd
    with sessions() as writer, writer.begin():
        writer.get(User, seller).balance_cents += 0  # holds the write lock on SQLite
        with readers() as reader:
            assert reader.get(User, seller).username == "seller"
