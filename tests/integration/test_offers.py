"""Offers on any registered work: escrow, accept, decline, withdraw, expiry by the sweep, and
the races with purchases and auctions, on SQLite and (DATABASE_URL) PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from db.models import Artwork, Licence, Offer, ProvenanceEvent, Sale
from marketplace.auctions import create_auction
from marketplace.errors import (
    InsufficientFunds,
    InvalidInput,
    ListingConflict,
    ListingNotForSale,
    NotOwner,
    SelfPurchase,
)
from marketplace.ledger import escrow_account, escrow_balance
from marketplace.offers import (
    accept_offer,
    decline_offer,
    make_offer,
    offers_for_user,
    withdraw_offer,
)
from marketplace.purchases import purchase
from marketplace.settlement import sweep_market
from tests.integration.helpers import RULES, buy, new_artwork, new_listing, new_user
from tests.integration.test_auctions import balance, books_and_log_hold, race

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
START = RULES.starting_balance_cents


@pytest.fixture
def market(sessions, blobs):
    ada = new_user(sessions, "ada")
    bob, cyd = new_user(sessions, "bob"), new_user(sessions, "cyd")
    art = new_artwork(sessions, blobs, ada, 1)
    return ada, bob, cyd, art


def offer(sessions, art, buyer, amount, **kwargs) -> int:
    kwargs.setdefault("now", T0)
    with sessions() as s, s.begin():
        return make_offer(s, art, buyer, amount, **kwargs).id


def held(sessions, offer_id) -> int:
    with sessions() as s:
        return escrow_balance(s, escrow_account("offer", offer_id))


def status(sessions, offer_id) -> str:
    with sessions() as s:
        return s.get(Offer, offer_id).status


def test_an_offer_on_an_unlisted_work_is_held_in_escrow_and_accepting_it_sells(sessions, market):
    ada, bob, _, art = market
    o = offer(sessions, art, bob, 2500)
    assert balance(sessions, bob) == START - 2500 and held(sessions, o) == 2500
    ada_before = balance(sessions, ada)
    with sessions() as s, s.begin():
        result = accept_offer(s, o, ada, now=T0 + timedelta(hours=1))
    assert result.sale.offer_id == o and result.sale.listing_id is None
    with sessions() as s:
        assert s.get(Artwork, art).owner_id == bob
    # a primary sale by the creator: she keeps all but the platform's fee
    assert balance(sessions, ada) == ada_before + 2500 - result.split.platform_fee_cents
    assert held(sessions, o) == 0 and status(sessions, o) == "accepted"
    books_and_log_hold(sessions)


def test_a_licence_offer_grants_a_licence_and_leaves_the_work_with_its_owner(sessions, market):
    ada, bob, _, art = market
    o = offer(sessions, art, bob, 700, licence_tier="commercial")
    with sessions() as s, s.begin():
        accept_offer(s, o, ada, now=T0)
    with sessions() as s:
        assert s.get(Artwork, art).owner_id == ada
        assert s.scalar(select(Licence.tier).where(Licence.holder_id == bob)) == "commercial"
    with pytest.raises(SelfPurchase, match="already hold"):
        offer(sessions, art, bob, 700, licence_tier="commercial")
    books_and_log_hold(sessions)


def test_declining_or_withdrawing_refunds_at_once_and_only_the_right_person_may(sessions, market):
    ada, bob, cyd, art = market
    first = offer(sessions, art, bob, 1000)
    with pytest.raises(NotOwner), sessions() as s, s.begin():
        decline_offer(s, first, cyd)
    with pytest.raises(NotOwner), sessions() as s, s.begin():
        withdraw_offer(s, first, ada)
    with sessions() as s, s.begin():
        decline_offer(s, first, ada)
    assert balance(sessions, bob) == START and status(sessions, first) == "declined"
    second = offer(sessions, art, bob, 1200)  # declined offers do not block a new one
    with sessions() as s, s.begin():
        withdraw_offer(s, second, bob)
    assert balance(sessions, bob) == START and held(sessions, second) == 0
    with pytest.raises(ListingNotForSale, match="withdrawn"), sessions() as s, s.begin():
        accept_offer(s, second, ada)
    with sessions() as s:
        outcomes = s.scalars(
            select(ProvenanceEvent.payload["outcome"].as_string()).where(
                ProvenanceEvent.kind == "offer_closed"
            )
        ).all()
    assert outcomes == ["declined", "withdrawn"]
    books_and_log_hold(sessions)


def test_an_offer_past_its_expiry_cannot_be_accepted_and_the_sweep_refunds_it(sessions, market):
    ada, bob, _, art = market
    o = offer(sessions, art, bob, 900, expires_in_seconds=3600)
    later = T0 + timedelta(hours=1)
    with pytest.raises(ListingNotForSale, match="expired"), sessions() as s, s.begin():
        accept_offer(s, o, ada, now=later)
    assert sweep_market(sessions, now=later - timedelta(seconds=1)).offers == []
    assert sweep_market(sessions, now=later).offers == [o]
    assert sweep_market(sessions, now=later).offers == []  # once
    assert balance(sessions, bob) == START and status(sessions, o) == "expired"
    books_and_log_hold(sessions)


def test_bad_offers_are_refused_and_hold_nothing(sessions, market):
    ada, bob, _, art = market
    for amount, kwargs in [
        (0, {}),
        (100, {"licence_tier": "gold"}),
        (100, {"expires_in_seconds": 5}),
        ("100", {}),
    ]:
        with pytest.raises(InvalidInput):
            offer(sessions, art, bob, amount, **kwargs)
    with pytest.raises(InsufficientFunds):
        offer(sessions, art, bob, START + 1)
    with pytest.raises(SelfPurchase, match="you own"):
        offer(sessions, art, ada, 100)
    o = offer(sessions, art, bob, 100)
    with pytest.raises(ListingConflict, match=f"#{o}"):
        offer(sessions, art, bob, 200)
    with sessions() as s:
        assert s.scalar(select(func.count(Offer.id))) == 1
    assert balance(sessions, bob) == START - 100


def test_an_offer_follows_the_work_to_its_new_owner(sessions, market):
    ada, bob, cyd, art = market
    o = offer(sessions, art, cyd, 3000)
    listing = new_listing(sessions, art, ada, 1000)
    buy(sessions, listing, bob)
    with pytest.raises(NotOwner), sessions() as s, s.begin():
        accept_offer(s, o, ada)
    with sessions() as s:
        assert [x.id for x in offers_for_user(s, bob)["received"]] == [o]
    with sessions() as s, s.begin():
        accept_offer(s, o, bob)
    with sessions() as s:
        assert s.get(Artwork, art).owner_id == cyd
    books_and_log_hold(sessions)


def test_a_buyer_who_comes_to_own_the_work_gets_their_open_offer_back(sessions, market):
    ada, bob, _, art = market
    o = offer(sessions, art, bob, 3000)
    listing = new_listing(sessions, art, ada, 1000)
    buy(sessions, listing, bob)
    assert status(sessions, o) == "withdrawn" and held(sessions, o) == 0
    assert balance(sessions, bob) == START - 1000
    books_and_log_hold(sessions)


def test_an_exclusive_offer_cannot_be_accepted_while_the_work_is_in_auction(sessions, market):
    ada, bob, _, art = market
    o = offer(sessions, art, bob, 3000)
    with sessions() as s, s.begin():
        create_auction(s, art, ada, kind="reserve", reserve_cents=500)
    with pytest.raises(ListingConflict, match="in auction"), sessions() as s, s.begin():
        accept_offer(s, o, ada)
    assert status(sessions, o) == "open" and held(sessions, o) == 3000


def test_accepting_an_offer_while_the_work_sells_one_of_them_wins(sessions, market):
    ada, bob, cyd, art = market
    o = offer(sessions, art, cyd, 3000)
    listing = new_listing(sessions, art, ada, 1000)

    def accept():
        with sessions() as s, s.begin():
            return accept_offer(s, o, ada).sale.id

    def sell():
        with sessions() as s, s.begin():
            return purchase(s, listing, bob, "race-1").sale.id

    outcomes = race(accept, sell)
    wins = [o for o in outcomes if o[0] == "ok"]
    assert len(wins) == 1, outcomes
    with sessions() as s:
        owner = s.get(Artwork, art).owner_id
        assert s.scalar(select(func.count(Sale.id))) == 1
    if outcomes[0][0] == "ok":  # the offer won: the listing was cancelled under the buyer
        assert owner == cyd and balance(sessions, bob) == START
    else:  # the purchase won: ada no longer owns the work; the offer stays open for bob
        assert owner == bob and status(sessions, o) == "open"
    books_and_log_hold(sessions)
