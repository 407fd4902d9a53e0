"""Reserve and Dutch auctions: the clock, escrow, refunds, extensions and settlement, on SQLite
and (DATABASE_URL) PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from db.models import Artwork, Auction, LedgerEntry, Listing, ProvenanceEvent, Sale, User
from marketplace.auctions import (
    buy_dutch,
    cancel_auction,
    create_auction,
    current_price,
    place_bid,
    settle_auction,
)
from marketplace.errors import (
    InsufficientFunds,
    InvalidInput,
    ListingConflict,
    ListingNotForSale,
    SelfPurchase,
    StaleVersion,
)
from marketplace.ledger import check_ledger, escrow_account, escrow_balance
from marketplace.listings import create_listing
from marketplace.money import split_sale
from marketplace.settlement import sweep_market
from marketplace.transparency import audit_log
from provenance.checkpoint import NoteSigner
from tests.integration.helpers import RULES, new_artwork, new_listing, new_user

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
HOUR = 3600


def balance(sessions, user_id: int) -> int:
    with sessions() as s:
        return s.get(User, user_id).balance_cents


def held(sessions, auction_id: int) -> int:
    with sessions() as s:
        return escrow_balance(s, escrow_account("auction", auction_id))


def books_and_log_hold(sessions) -> None:
    with sessions() as s:
        report = check_ledger(s)
        assert report.ok, report.problems
        signer = NoteSigner.generate("test.example/log")
        audit = audit_log(s, signer.verifier, "test.example/log")
        assert audit.ok, audit.problems


@pytest.fixture
def market(sessions, blobs):
    ada = new_user(sessions, "ada")  # the artist
    bob, cy, dee = (new_user(sessions, n) for n in ("bob", "cyd", "dee"))
    art = new_artwork(sessions, blobs, ada, 1)
    return ada, bob, cy, dee, art


def reserve_auction(sessions, art, seller, reserve=1000, **kwargs) -> int:
    kwargs.setdefault("duration_seconds", HOUR)
    kwargs.setdefault("extension_seconds", 900)
    with sessions() as s, s.begin():
        return create_auction(
            s, art, seller, kind="reserve", reserve_cents=reserve, now=T0, **kwargs
        ).id


def bid(sessions, auction_id, bidder, amount, key=None, at=T0):
    with sessions() as s, s.begin():
        return place_bid(s, auction_id, bidder, amount, key or f"bid-{bidder}-{amount}", now=at)


def test_the_clock_starts_with_the_first_bid_at_the_reserve(sessions, market):
    ada, bob, *_, art = market
    auction = reserve_auction(sessions, art, ada, reserve=1000)
    with pytest.raises(StaleVersion, match="at least 10.00"):
        bid(sessions, auction, bob, 999)
    with sessions() as s:
        assert s.get(Auction, auction).ends_at is None  # no clock without a bid at the reserve
    later = T0 + timedelta(days=3)  # a reserve auction waits for its first bid
    result = bid(sessions, auction, bob, 1000, at=later)
    ends = result.auction.ends_at.replace(tzinfo=UTC)
    assert ends == later + timedelta(seconds=HOUR)
    assert balance(sessions, bob) == RULES.starting_balance_cents - 1000
    assert held(sessions, auction) == 1000
    books_and_log_hold(sessions)


def test_an_outbid_bidder_is_refunded_at_once_and_the_next_bid_must_beat_by_ten_percent(
    sessions, market
):
    ada, bob, cy, _, art = market
    auction = reserve_auction(sessions, art, ada, reserve=1000)
    bid(sessions, auction, bob, 1000)
    with pytest.raises(StaleVersion, match="at least 11.00"):
        bid(sessions, auction, cy, 1099)
    with pytest.raises(SelfPurchase, match="leading bid"):
        bid(sessions, auction, bob, 2000)
    result = bid(sessions, auction, cy, 1100)
    assert result.refunded_bidder_id == bob
    assert balance(sessions, bob) == RULES.starting_balance_cents  # whole again
    assert balance(sessions, cy) == RULES.starting_balance_cents - 1100
    assert held(sessions, auction) == 1100
    books_and_log_hold(sessions)


def test_a_bid_in_the_last_minutes_extends_the_clock_and_one_after_the_end_is_refused(
    sessions, market
):
    ada, bob, cy, dee, art = market
    auction = reserve_auction(sessions, art, ada, reserve=1000, extension_seconds=900)
    bid(sessions, auction, bob, 1000)  # ends T0 + 1 h
    early = bid(sessions, auction, cy, 1100, at=T0 + timedelta(minutes=40))  # 20 min left
    assert not early.extended
    late_at = T0 + timedelta(minutes=50)  # 10 min left < 15
    late = bid(sessions, auction, bob, 1300, at=late_at)
    assert late.extended
    assert late.auction.ends_at.replace(tzinfo=UTC) == late_at + timedelta(minutes=15)
    # the original end has passed, the extended one has not: still open
    bid(sessions, auction, cy, 1500, at=T0 + timedelta(minutes=61))
    end = T0 + timedelta(minutes=61, seconds=900)
    with pytest.raises(ListingNotForSale, match="ended"):
        bid(sessions, auction, dee, 5000, at=end)  # at the deadline exactly: too late
    with sessions() as s:
        events = s.scalars(
            select(ProvenanceEvent.payload).where(ProvenanceEvent.kind == "bid_placed")
        ).all()
    assert [e["extended"] for e in events] == [False, False, True, True]
    books_and_log_hold(sessions)


def test_settlement_pays_like_a_purchase_moves_the_work_and_runs_once(sessions, market):
    ada, bob, cy, _, art = market
    auction = reserve_auction(sessions, art, ada, reserve=1000)
    bid(sessions, auction, bob, 1000)
    bid(sessions, auction, cy, 2000, at=T0 + timedelta(minutes=5))
    end = T0 + timedelta(hours=1)
    with sessions() as s, s.begin():
        assert settle_auction(s, auction, now=end - timedelta(seconds=1)) is None  # running
    ada_before = balance(sessions, ada)
    report = sweep_market(sessions, now=end)
    assert report.auctions == [auction]
    assert sweep_market(sessions, now=end + timedelta(hours=1)).auctions == []  # settled once
    with sessions() as s:
        assert s.get(Artwork, art).owner_id == cy
        sale = s.scalars(select(Sale)).one()
        assert (sale.auction_id, sale.buyer_id, sale.price_cents) == (auction, cy, 2000)
        assert s.get(Auction, auction).status == "settled"
    split = split_sale(
        2000,
        RULES.default_royalty_bps,
        0,
        platform_fee_bps=RULES.platform_fee_bps,
        source_share_bps=RULES.source_share_bps,
        primary=True,
    )
    assert balance(sessions, ada) == ada_before + split.seller_cents + split.creator_royalty_cents
    assert balance(sessions, cy) == RULES.starting_balance_cents - 2000
    assert balance(sessions, bob) == RULES.starting_balance_cents
    assert held(sessions, auction) == 0
    books_and_log_hold(sessions)


def test_an_auction_with_bids_cannot_be_cancelled_one_without_can(sessions, blobs, market):
    ada, bob, *_, art = market
    auction = reserve_auction(sessions, art, ada)
    bid(sessions, auction, bob, 1000)
    with pytest.raises(ListingNotForSale, match="has bids"), sessions() as s, s.begin():
        cancel_auction(s, auction, ada)
    other = new_artwork(sessions, blobs, ada, 2)
    second = reserve_auction(sessions, other, ada)
    with sessions() as s, s.begin():
        assert cancel_auction(s, second, ada).status == "cancelled"


def test_a_work_in_auction_cannot_also_be_listed_and_a_listed_one_cannot_be_auctioned(
    sessions, market
):
    ada, *_, art = market
    auction = reserve_auction(sessions, art, ada)
    with pytest.raises(ListingConflict, match=f"auction #{auction}"), sessions() as s, s.begin():
        create_listing(s, art, ada, price_cents=500, licence_tier="exclusive")
    # a licence may still be sold while the work itself is in auction
    new_listing(sessions, art, ada, 300, licence_tier="personal", edition_size=5)
    with sessions() as s, s.begin():
        cancel_auction(s, auction, ada)
    new_listing(sessions, art, ada, 500)
    with pytest.raises(ListingConflict, match="delist it"):
        reserve_auction(sessions, art, ada)


def test_bad_auction_input_is_refused_in_words_and_changes_nothing(sessions, market):
    ada, bob, *_, art = market
    cases = [
        dict(kind="english", reserve_cents=100),
        dict(kind="reserve", reserve_cents=0),
        dict(kind="reserve", reserve_cents=100, duration_seconds=10),
        dict(kind="dutch", reserve_cents=500, start_price_cents=400),
        dict(kind="reserve", reserve_cents=100, start_price_cents=400),
        dict(kind="reserve", reserve_cents=True),
    ]
    for case in cases:
        with pytest.raises(InvalidInput), sessions() as s, s.begin():
            create_auction(s, art, ada, now=T0, **case)
    with pytest.raises(Exception, match="do not own"), sessions() as s, s.begin():
        create_auction(s, art, bob, kind="reserve", reserve_cents=100)
    with sessions() as s:
        assert s.scalar(select(func.count(Auction.id))) == 0


def test_a_bid_the_wallet_cannot_cover_is_refused_and_holds_nothing(sessions, market):
    ada, bob, *_, art = market
    auction = reserve_auction(sessions, art, ada, reserve=500)
    with pytest.raises(InsufficientFunds, match="held until you are outbid"):
        bid(sessions, auction, bob, RULES.starting_balance_cents + 1)
    assert held(sessions, auction) == 0
    assert balance(sessions, bob) == RULES.starting_balance_cents


def test_a_retried_bid_with_the_same_key_is_placed_once(sessions, market):
    ada, bob, *_, art = market
    auction = reserve_auction(sessions, art, ada)
    first = bid(sessions, auction, bob, 1000, key="tap-1")
    again = bid(sessions, auction, bob, 1000, key="tap-1")
    assert again.replayed and again.bid.id == first.bid.id
    assert balance(sessions, bob) == RULES.starting_balance_cents - 1000


def test_a_dutch_auction_falls_in_a_straight_line_and_the_first_buyer_wins(sessions, market):
    ada, bob, cy, _, art = market
    with sessions() as s, s.begin():
        auction = create_auction(
            s,
            art,
            ada,
            kind="dutch",
            start_price_cents=5000,
            reserve_cents=1000,
            duration_seconds=4 * HOUR,
            now=T0,
        )
        assert current_price(auction, T0) == 5000
        assert current_price(auction, T0 + timedelta(hours=1)) == 4000
        assert current_price(auction, T0 + timedelta(hours=9)) == 1000
        auction_id = auction.id
    with pytest.raises(ListingNotForSale, match="Dutch"):
        bid(sessions, auction_id, bob, 5000)
    at = T0 + timedelta(hours=2)
    with sessions() as s, s.begin():
        result = buy_dutch(s, auction_id, bob, "dutch-1", now=at)
    assert result.sale.price_cents == 3000
    with pytest.raises(ListingNotForSale, match="ended"), sessions() as s, s.begin():
        buy_dutch(s, auction_id, cy, "dutch-2", now=at)
    with sessions() as s:
        assert s.get(Artwork, art).owner_id == bob
        assert s.get(Auction, auction_id).status == "settled"
    assert balance(sessions, bob) == RULES.starting_balance_cents - 3000
    books_and_log_hold(sessions)


def test_a_dutch_auction_nobody_buys_closes_unsold_at_its_end(sessions, market):
    ada, *_, art = market
    with sessions() as s, s.begin():
        auction = create_auction(
            s,
            art,
            ada,
            kind="dutch",
            start_price_cents=900,
            reserve_cents=100,
            duration_seconds=HOUR,
            now=T0,
        ).id
    assert sweep_market(sessions, now=T0 + timedelta(minutes=59)).auctions == []
    assert sweep_market(sessions, now=T0 + timedelta(hours=1)).auctions == [auction]
    with sessions() as s:
        assert s.get(Auction, auction).status == "unsold"
        assert s.get(Artwork, art).owner_id == ada
    # the work can be sold again
    new_listing(sessions, art, ada, 500)


def race(*calls):
    """Run the calls at the same moment in threads; each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            outcomes[i] = ("ok", call())
        except Exception as exc:  # inspected by the test
            outcomes[i] = ("error", exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_two_bids_at_once_one_leads_the_other_is_refunded_or_refused(sessions, market):
    ada, bob, cy, _, art = market
    auction = reserve_auction(sessions, art, ada, reserve=1000)
    outcomes = race(
        lambda: bid(sessions, auction, bob, 1500).bid.id,
        lambda: bid(sessions, auction, cy, 1500).bid.id,
    )
    ok = [o for o in outcomes if o[0] == "ok"]
    # both are at the reserve; the second to lock the auction must beat the first by 10%
    assert len(ok) == 1, outcomes
    assert isinstance(next(o for o in outcomes if o[0] == "error")[1], StaleVersion)
    with sessions() as s:
        a = s.get(Auction, auction)
        assert a.bid_count == 1 and a.high_bid_cents == 1500
    assert held(sessions, auction) == 1500
    assert balance(sessions, bob) + balance(sessions, cy) == 2 * RULES.starting_balance_cents - 1500
    books_and_log_hold(sessions)


def test_many_bidders_at_once_leave_exactly_the_leading_bid_in_escrow(sessions, blobs):
    seller = new_user(sessions, "seller")
    bidders = [new_user(sessions, f"bidder{i}") for i in range(8)]
    art = new_artwork(sessions, blobs, seller, 9)
    auction = reserve_auction(sessions, art, seller, reserve=100)
    outcomes = race(
        *[
            (lambda b=b, amount=amount: bid(sessions, auction, b, amount).bid.id)
            for b, amount in zip(bidders, [100, 200, 300, 400, 500, 600, 700, 800], strict=True)
        ]
    )
    assert any(o[0] == "ok" for o in outcomes)
    with sessions() as s:
        a = s.get(Auction, auction)
        lead = a.high_bid_cents
        spent = RULES.starting_balance_cents * 8 - sum(
            s.get(User, b).balance_cents for b in bidders
        )
    assert spent == lead == held(sessions, auction)
    books_and_log_hold(sessions)


def test_settlement_run_twice_at_once_sells_once(sessions, market):
    ada, bob, *_, art = market
    auction = reserve_auction(sessions, art, ada)
    bid(sessions, auction, bob, 1000)
    end = T0 + timedelta(hours=2)
    outcomes = race(
        lambda: sweep_market(sessions, now=end).auctions,
        lambda: sweep_market(sessions, now=end).auctions,
    )
    assert all(o[0] == "ok" for o in outcomes), outcomes
    with sessions() as s:
        assert s.scalar(select(func.count(Sale.id))) == 1
        assert s.scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.role == "seller")) == 1
    assert held(sessions, auction) == 0
    books_and_log_hold(sessions)


def test_a_bid_racing_the_deadline_either_lands_and_extends_or_is_refused(sessions, market):
    ada, bob, cy, _, art = market
    auction = reserve_auction(sessions, art, ada, extension_seconds=600)
    bid(sessions, auction, bob, 1000)  # ends T0 + 1 h
    last_moment = T0 + timedelta(hours=1) - timedelta(microseconds=1)
    outcomes = race(
        lambda: bid(sessions, auction, cy, 1100, at=last_moment).extended,
        lambda: sweep_market(sessions, now=T0 + timedelta(hours=1)).auctions,
    )
    assert all(o[0] == "ok" or isinstance(o[1], ListingNotForSale) for o in outcomes), outcomes
    with sessions() as s:
        a = s.get(Auction, auction)
        sales = s.scalars(select(Sale)).all()
    if a.status == "settled":  # the sweep locked first: bob won, cy's bid was refused
        assert outcomes[0][0] == "error" and sales[0].buyer_id == bob
    else:  # the bid locked first: it extended the clock, and the sweep found nothing due
        assert outcomes[0] == ("ok", True) and a.high_bidder_id == cy and not sales
    books_and_log_hold(sessions)


def test_the_sellers_open_listings_are_cancelled_when_the_auction_moves_the_work(sessions, market):
    # as after a purchase: the new owner did not list the work, the old one can no longer sell
    ada, bob, *_, art = market
    licence = new_listing(sessions, art, ada, 300, licence_tier="personal", edition_size=5)
    auction = reserve_auction(sessions, art, ada)
    bid(sessions, auction, bob, 1000)
    sweep_market(sessions, now=T0 + timedelta(hours=2))
    with sessions() as s:
        assert s.get(Listing, licence).status == "cancelled"
